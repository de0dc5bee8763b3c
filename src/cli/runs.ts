import { parseArgs } from 'node:util';
import { DatasetInputs } from '../core/mlflow/datasetInputs';
import { ExperimentLog, experimentsFile } from '../core/mlflow/experiments';
import { encodeMetricValue } from '../core/tracking/events';
import { compileRunQuery, queryRunOf, sortRuns, type QueryRun } from '../core/tracking/runQuery';
import { runDetailJson, runJson } from '../core/tracking/runJson';
import type { RunSummary } from '../core/tracking/store';
import type { Tracking } from '../core/tracking/tracking';
import { formatBytes, formatDuration, formatNumber, formatTime } from '../core/format';
import { oneLine, print, printJson, table } from './output';
import { UsageError, wrongArguments } from './usage';

/** How many runs a query reads in one go; more read every row at once (an IN list has a limit). */
const BULK = 500;

export function runsList(tracking: Tracking, argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' }, experiment: { type: 'string' }, filter: { type: 'string' },
      columns: { type: 'string', multiple: true }, sort: { type: 'string', multiple: true }, limit: { type: 'string' },
    },
    strict: true,
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) throw new UsageError(`--limit needs a whole number above 0, not "${values.limit}".`);
  const query = compileRunQuery(values.filter ?? '');
  if (!query.ok) throw new UsageError(`--filter: ${query.error}`);
  const summaries = tracking.listRuns({ experiment: values.experiment });
  if (values.experiment !== undefined && !summaries.length && !experimentExists(tracking, values.experiment)) {
    const names = tracking.listExperiments().map((e) => e.name);
    throw new Error(`No experiment is named "${values.experiment}"${names.length ? `; the experiments are: ${names.join(', ')}` : ''}.`);
  }
  const wanted = (values.columns ?? []).flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean);
  let runs = summaries;
  let rows: QueryRun[] | undefined;
  if (query.test || values.sort?.length || wanted.length) {
    rows = queryRuns(tracking, summaries);
    if (query.test) rows = rows.filter(query.test);
    if (values.sort?.length) rows = sortRunsOrExplain(rows, values.sort);
  }
  if (limit !== undefined) rows = rows?.slice(0, limit);
  if (rows) {
    const byId = new Map(summaries.map((r) => [r.id, r]));
    runs = rows.map((r) => byId.get(r.id)!);
  } else if (limit !== undefined) runs = runs.slice(0, limit);
  const columns = wanted.map((c) => resolveColumn(c, rows ?? []));
  if (values.json) {
    printJson(runs.map((r, i) => (columns.length ? { ...runJson(r), columns: Object.fromEntries(columns.map((c) => [c.label, columnValue(c, rows![i], true)])) } : runJson(r))));
    return 0;
  }
  if (!runs.length) {
    print(summaries.length
      ? 'No runs match.\n'
      : values.experiment !== undefined ? `No runs in experiment "${values.experiment}" yet.\n` : 'No runs yet. Start one with: mlops run -- python3 train.py\n');
    return 0;
  }
  print(table(
    ['ID', 'NAME', 'EXPERIMENT', 'STATUS', 'STARTED', 'DURATION', ...columns.map((c) => c.label.toUpperCase())],
    runs.map((r, i) => [
      r.id.slice(0, 12), r.name, r.experiment, r.status, formatTime(r.start_time), formatDuration(r.start_time, r.end_time),
      ...columns.map((c) => String(columnValue(c, rows![i], false))),
    ]),
  ));
  return 0;
}

/** Experiments hold runs in the index; one made by an MLflow client may have none yet. */
function experimentExists(tracking: Tracking, name: string): boolean {
  return tracking.listExperiments().some((e) => e.name === name) || Boolean(new ExperimentLog(experimentsFile(tracking.layout)).byName(name));
}

/** Runs with the params, latest metrics and tags a filter, sort or column reads. */
function queryRuns(tracking: Tracking, runs: RunSummary[]): QueryRun[] {
  const ids = runs.length > BULK ? undefined : runs.map((r) => r.id);
  const [metrics, params, tags] = [tracking.metricsOf(ids), tracking.paramsOf(ids), tracking.tagsOf(ids)];
  return runs.map((r) => queryRunOf(r, params.get(r.id) ?? {}, metrics.get(r.id) ?? [], tags.get(r.id) ?? {}));
}

function sortRunsOrExplain(rows: QueryRun[], clauses: string[]): QueryRun[] {
  try {
    return sortRuns(rows, clauses);
  } catch (err) {
    throw new UsageError(`--sort: ${(err as Error).message}`);
  }
}

interface Column { label: string; kind: 'metrics' | 'params' | 'tags'; key: string }

const KINDS: Record<string, Column['kind']> = { metric: 'metrics', metrics: 'metrics', param: 'params', params: 'params', tag: 'tags', tags: 'tags' };

/** `metrics.acc`, `params.lr`, `tags.stage`; a bare key is a metric if a run has it, else a param, else a tag. */
function resolveColumn(text: string, rows: QueryRun[]): Column {
  const dot = text.indexOf('.');
  const kind = dot > 0 ? KINDS[text.slice(0, dot)] : undefined;
  if (kind) return { label: text, kind, key: text.slice(dot + 1) };
  const has = (k: Column['kind']) => rows.some((r) => text in r[k]);
  return { label: text, kind: has('metrics') ? 'metrics' : has('params') ? 'params' : 'tags', key: text };
}

function columnValue(c: Column, row: QueryRun, json: boolean): string | number | null {
  const value = Object.prototype.hasOwnProperty.call(row[c.kind], c.key) ? row[c.kind][c.key] : undefined;
  if (value === undefined) return json ? null : '-';
  if (typeof value === 'number') return json ? encodeMetricValue(value) : formatNumber(value);
  return value;
}

export function runsShow(tracking: Tracking, argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw wrongArguments('runs show needs exactly one run id.');
  const id = tracking.resolveRunId(positionals[0]);
  const run = id ? tracking.getRun(id) : undefined;
  if (!run) throw new UsageError(`No run has the id "${positionals[0]}". List them with: mlops runs list`);
  const datasets = new DatasetInputs().of(tracking.layout.eventsFile(run.id), run.id);
  if (values.json) {
    printJson({ ...runDetailJson(run), datasets });
    return 0;
  }
  const out: string[] = [
    `Run ${run.id}`,
    `  name        ${oneLine(run.name)}`,
    `  experiment  ${oneLine(run.experiment)}`,
    `  status      ${run.status}${run.exit_code !== null ? ` (exit code ${run.exit_code})` : ''}`,
    `  started     ${formatTime(run.start_time)}`,
    `  duration    ${formatDuration(run.start_time, run.end_time)}`,
  ];
  const section = (title: string, lines: string[]) => {
    if (lines.length) out.push('', title, ...lines.map((l) => `  ${l}`));
  };
  section('Params', Object.entries(run.params).map(([k, v]) => `${oneLine(k)} = ${oneLine(v.length > 200 ? v.slice(0, 200) + '…' : v)}`));
  section('Metrics (latest, min … max, points)', run.metrics.map((m) =>
    `${oneLine(m.key)} = ${formatNumber(m.latest)} at step ${m.step}   (${formatNumber(m.min)} … ${formatNumber(m.max)}, ${m.count})`));
  section('Tags', Object.entries(run.tags).map(([k, v]) => `${oneLine(k)} = ${oneLine(v)}`));
  section('Artifacts', run.artifacts.map((a) => `${oneLine(a.path)}  ${formatBytes(a.size)}`));
  section('Datasets (logged with mlflow.log_input)', datasets.map(({ dataset: d, tags }) => {
    const context = tags.find((t) => t.key === 'mlflow.data.context')?.value;
    return oneLine(`${d.name}${context ? ` (${context})` : ''}  digest ${d.digest}  ${d.source_type}${d.source ? ` ${d.source}` : ''}`);
  }));
  const c = run.capture;
  section('Environment', [
    c.argv ? `command     ${oneLine(c.argv.join(' '))}` : '',
    c.python ? `python      ${oneLine(`${c.python.path} (${c.python.version})`)}` : '',
    c.git ? `git         ${c.git.commit.slice(0, 12)} on ${oneLine(c.git.branch)}${c.git.dirty ? ' (uncommitted changes)' : ''}` : '',
    c.host ? `host        ${oneLine(`${c.host} as ${c.user ?? '?'}`)}` : '',
    c.gpus ? `gpus        ${oneLine(c.gpus.map((g) => g.name).join(', '))}` : '',
  ].filter(Boolean));
  print(out.join('\n') + '\n');
  return 0;
}
