import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import { isScalar } from 'yaml';
import { parseParam } from '../core/pipelines/stages';
import { parseObjectives } from '../core/workspace/objectives';
import { formatNumber } from '../core/format';
import { markdownCode, markdownText } from '../core/hostileText';
import { FILE } from './configChecks';
import { gateMetric, nameKindAt } from './references';
import type { MlopsSchema } from './schema';
import type { WorkspaceFacts } from './workspaceFacts';
import { scalarText, type YamlDocument } from './yamlDocument';

const md = (value: string): Hover => ({ contents: { kind: MarkupKind.Markdown, value } });

/**
 * Hovers: a param's values in recent runs, a metric's best run (in its objective's direction),
 * a stage's command and files, and the schema's description of any other key.
 */
export async function hover(doc: YamlDocument, position: Position, schema: MlopsSchema, facts: WorkspaceFacts, stageState?: (stage: string) => Promise<string | undefined>): Promise<Hover | null> {
  const offset = doc.offset(position);
  const found = doc.at(offset);
  if (!found) return null;
  const { entry, on } = found;
  const text = on === 'key' ? String(entry.path[entry.path.length - 1]) : scalarText(entry.value);
  if (text === undefined) return null;

  if (entry.path[0] === 'gates' && on === 'value' && isScalar(entry.value) && entry.value.range) {
    const metric = gateMetric(text);
    const quoted = entry.value.type !== 'PLAIN' ? 1 : 0;
    const start = entry.value.range[0] + quoted + (metric?.start ?? 0);
    if (metric && offset >= start && offset <= start + metric.metric.length) return md(await metricHover(metric.metric, doc, facts));
    return null;
  }
  const kind = nameKindAt(entry.path, on);
  if (kind === 'metric') return md(await metricHover(text, doc, facts));
  if (kind === 'param') return md(await paramHover(parseParam(text).key, facts));
  if (kind === 'stage' && on === 'key') return md(await stageHover(text, doc, stageState));
  if (on === 'key') {
    const description = schema.at(entry.path)?.description;
    return description ? md(`${markdownCode(entry.path.join('.'))}: ${description}`) : null;
  }
  return null;
}

async function metricHover(metric: string, doc: YamlDocument, facts: WorkspaceFacts): Promise<string> {
  let objective;
  try {
    objective = parseObjectives(doc.data.objectives, FILE).get(metric);
  } catch {
    objective = undefined; // a broken objectives block is a diagnostic; the hover goes on without it
  }
  const goal = objective?.goal ?? 'maximize';
  const { best, runs } = await facts.bestRun(metric, goal);
  const lines = [`**metric ${markdownCode(metric)}**`];
  if (objective) lines.push(`objective: ${objective.goal}${objective.target !== undefined ? ` to ${objective.target}` : ''}`);
  if (!best) lines.push('No run has logged it yet.');
  else {
    lines.push(`best of ${runs} run${runs === 1 ? '' : 's'}: **${formatNumber(best.value as number)}** in run ${markdownText(best.run)} (${markdownCode(best.runId.slice(0, 8))})`);
    if (objective?.target !== undefined) lines.push(meets(best.value as number, goal, objective.target) ? '✓ meets the target' : '✗ short of the target');
    if (!objective) lines.push('_(highest is best: declare it under `objectives:` with `goal: minimize` if lower is)_');
  }
  return lines.join('\n\n');
}

const meets = (value: number, goal: 'maximize' | 'minimize', target: number) => (goal === 'maximize' ? value >= target : value <= target);

async function paramHover(key: string, facts: WorkspaceFacts): Promise<string> {
  // Runs log `train.lr` as written, or only its last part (`lr`).
  let values = await facts.paramValues(key);
  const last = key.split('.').pop()!;
  if (!values.length && last !== key) values = await facts.paramValues(last);
  if (!values.length) return `**param ${markdownCode(key)}**\n\nNo run has logged it yet.`;
  const rows = values.map((v) => `| ${markdownText(v.run)} | ${markdownCode(String(v.value), true)} |`);
  return [`**param ${markdownCode(key)}** in the ${values.length} most recent runs that set it`, '', '| run | value |', '|---|---|', ...rows].join('\n');
}

async function stageHover(stage: string, doc: YamlDocument, stageState?: (stage: string) => Promise<string | undefined>): Promise<string> {
  const s = ((doc.data.stages ?? {}) as Record<string, Record<string, unknown> | null>)[stage] ?? {};
  const list = (key: string) => [s[key] ?? []].flat().map((x) => markdownCode(String(x))).join(', ') || '–';
  const state = await stageState?.(stage);
  return [`**stage ${markdownCode(stage)}**${state ? `: ${state}` : ''}`, `cmd: ${markdownCode(String(s.cmd ?? ''))}`, `deps: ${list('deps')}`, `outs: ${list('outs')}`].join('\n\n');
}
