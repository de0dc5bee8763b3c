import { parseArgs } from 'node:util';
import { runDetailJson, runJson } from '../core/tracking/runJson';
import type { Tracking } from '../core/tracking/tracking';
import { formatBytes, formatDuration, formatNumber, formatTime } from '../core/format';
import { oneLine, print, printJson, table } from './output';
import { UsageError } from './usage';

export function runsList(tracking: Tracking, argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, experiment: { type: 'string' } }, strict: true });
  const runs = tracking.listRuns({ experiment: values.experiment });
  if (values.json) {
    printJson(runs.map(runJson));
    return 0;
  }
  if (!runs.length) {
    print('No runs yet. Start one with: mlops run -- python3 train.py\n');
    return 0;
  }
  print(table(
    ['ID', 'NAME', 'EXPERIMENT', 'STATUS', 'STARTED', 'DURATION'],
    runs.map((r) => [r.id.slice(0, 12), r.name, r.experiment, r.status, formatTime(r.start_time), formatDuration(r.start_time, r.end_time)]),
  ));
  return 0;
}

export function runsShow(tracking: Tracking, argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('runs show needs exactly one run id: mlops runs show <run-id> [--json]');
  const id = tracking.resolveRunId(positionals[0]);
  const run = id ? tracking.getRun(id) : undefined;
  if (!run) throw new UsageError(`No run has the id "${positionals[0]}". List them with: mlops runs list`);
  if (values.json) {
    printJson(runDetailJson(run));
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
