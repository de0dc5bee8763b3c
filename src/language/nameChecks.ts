import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { isScalar } from 'yaml';
import { userTargetNames } from '../core/compute/targets';
import { problem } from './configChecks';
import { gateMetric, nameKindAt } from './references';
import type { WorkspaceFacts } from './workspaceFacts';
import { scalarText, type Entry, type YamlDocument } from './yamlDocument';

const some = (names: string[]) => (names.length ? names.slice(0, 12).join(', ') + (names.length > 12 ? ', …' : '') : 'none yet');

/** "cancer", "cancer@champion", "cancer:3": the model and what it picks. */
export function modelRef(text: string): { model: string; alias?: string; version?: number } {
  const at = /^(.*?)@(.+)$/.exec(text);
  if (at) return { model: at[1], alias: at[2] };
  const colon = /^(.*?):(\d+)$/.exec(text);
  return colon ? { model: colon[1], version: Number(colon[2]) } : { model: text };
}

/** Every scalar under `path` (mappings and lists walked), for the referring blocks. */
function scalars(doc: YamlDocument, path: Entry['path']): Entry[] {
  return doc.entries(path).flatMap((e) => (isScalar(e.value) ? [e] : scalars(doc, e.path)));
}

/**
 * Names mlops.yaml uses that nothing declares: metrics no run logged (objectives, gates; only
 * once runs have logged metrics at all), stages, targets and models that retrain and sweeps name.
 */
export async function checkNames(doc: YamlDocument, facts: WorkspaceFacts, out: Diagnostic[]): Promise<void> {
  const metrics = await facts.metricNames();
  const unknownMetric = (name: string) => metrics.length > 0 && !metrics.includes(name);
  const metricMessage = (name: string) => `No run has logged a metric "${name}"; logged metrics: ${some(metrics)}.`;
  for (const e of doc.entries(['objectives'])) {
    const name = String(e.path[1]);
    if (unknownMetric(name)) out.push(problem(doc, e.path, metricMessage(name), { severity: DiagnosticSeverity.Warning }));
  }
  for (const e of doc.entries(['gates'])) {
    const text = scalarText(e.value);
    const found = text === undefined ? undefined : gateMetric(text);
    if (!found || !unknownMetric(found.metric) || !e.value?.range) continue;
    const quoted = isScalar(e.value) && e.value.type !== 'PLAIN' ? 1 : 0;
    const start = e.value.range[0] + quoted + found.start;
    out.push({ range: doc.range(start, start + found.metric.length), message: metricMessage(found.metric), severity: DiagnosticSeverity.Warning, source: 'mlops' });
  }

  const data = doc.data;
  const stages = Object.keys((data.stages as object | null) ?? {});
  const targets = ['local', ...userTargetNames(), ...Object.keys((data.targets as object | null) ?? {})];
  const models = await facts.models();
  for (const top of ['retrain', 'sweeps']) {
    for (const e of scalars(doc, [top])) {
      const text = scalarText(e.value);
      const kind = nameKindAt(e.path, 'value');
      if (text === undefined || !kind) continue;
      if (kind === 'stage' && !stages.includes(text)) out.push(problem(doc, e.path, `No stage "${text}" under stages:; stages: ${some(stages)}.`, { prefer: 'value' }));
      if (kind === 'target' && !targets.includes(text)) out.push(problem(doc, e.path, `No target "${text}": targets are ${some(targets)}. Declare it under targets: (or in the user setting mlops.targets).`, { prefer: 'value' }));
      if (kind === 'metric' && unknownMetric(text)) out.push(problem(doc, e.path, metricMessage(text), { prefer: 'value', severity: DiagnosticSeverity.Warning }));
      if (kind === 'model') {
        const ref = modelRef(text);
        const model = models.find((m) => m.name === ref.model);
        if (!model) out.push(problem(doc, e.path, `No model "${ref.model}" is registered; models: ${some(models.map((m) => m.name))}.`, { prefer: 'value', severity: DiagnosticSeverity.Warning }));
        else if (ref.alias && model.aliases[ref.alias] === undefined) out.push(problem(doc, e.path, `Model "${model.name}" has no alias "${ref.alias}"; its aliases: ${some(Object.keys(model.aliases))}.`, { prefer: 'value', severity: DiagnosticSeverity.Warning }));
        else if (ref.version !== undefined && !model.versions.some((v) => v.version === ref.version)) out.push(problem(doc, e.path, `Model "${model.name}" has no version ${ref.version}; versions: ${some(model.versions.map((v) => String(v.version)))}.`, { prefer: 'value', severity: DiagnosticSeverity.Warning }));
      }
    }
  }
}
