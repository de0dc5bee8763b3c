import { parseArgs } from 'node:util';
import { formatTime } from '../core/format';
import { monitorDeployments, monitorStatus, type MonitorOutcome } from '../core/pipelines/monitorRun';
import type { Project } from '../core/project';
import { printGateTable } from './evaluate';
import { print, printError, printJson, table } from './output';
import { wrongArguments } from './usage';

const MARK = { done: '✓', failed: '✗', skipped: '–', kept: '✗' } as const;

function printOutcome(o: MonitorOutcome): void {
  const v = o.verdict;
  if (o.checkError) print(`${o.deployment}: the check could not be made: ${o.checkError}\n`);
  else if (v) print(`${o.deployment}: ${v.alert ? `ALERT: ${v.reasons.join('; ')}` : `no alert (${v.drift.drifted} of ${v.drift.features} features drifted)`}\n`);
  if (o.skipped) print(`  no retraining: ${o.skipped}\n`);
  if (o.loop) print(`  retraining loop ${o.loop.loop.slice(0, 8)}: ${o.loop.outcome}: ${o.loop.reason}\n`);
}

/**
 * `mlops monitor run [deployment…] [--force] [--approve] [--json]`: checks each deployment and runs
 * the retraining loop where an alert fires. Exit 0 when nothing is left wrong (no alert, or every
 * alert's loop put a better version in place); 1 when an alert stands or a check could not be made.
 */
async function monitorRunCommand(project: Project, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { force: { type: 'boolean' }, approve: { type: 'boolean' }, json: { type: 'boolean' } }, allowPositionals: true });
  const outcomes = await monitorDeployments(project, {
    names: positionals, force: values.force,
    ...(values.approve ? { approve: async (report) => {
      if (!values.json) printGateTable(report);
      return true;
    } } : {}),
    onStep: values.json ? undefined : (s) => printError(`mlops: ${MARK[s.status]} ${s.step}: ${s.detail}\n`),
  });
  if (values.json) printJson(outcomes);
  else if (!outcomes.length) print('No running deployments to check. Deploy one with: mlops serve <model@champion> --detach\n');
  else outcomes.forEach(printOutcome);
  const standing = outcomes.some((o) => o.checkError || (o.verdict?.alert && o.loop?.outcome !== 'promoted') || (o.loop && o.loop.outcome === 'failed'));
  return standing ? 1 : 0;
}

/** `mlops monitor status [--json]`: each deployment's latest verdict and retraining loop. */
function monitorStatusCommand(project: Project, argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length) throw wrongArguments();
  const all = monitorStatus(project);
  if (values.json) {
    printJson(all);
    return 0;
  }
  if (!all.length) {
    print('No deployments yet. Deploy one with: mlops serve <model@champion> --detach\n');
    return 0;
  }
  print(table(['DEPLOYMENT', 'STATE', 'SERVING', 'LAST CHECK', 'VERDICT', 'LAST LOOP'], all.map((s) => [
    s.deployment, s.state, s.serving,
    s.verdict ? formatTime(s.verdict.time) : 'never',
    s.verdict ? (s.verdict.alert ? `alert: ${s.verdict.reasons.join('; ')}` : `ok (${s.verdict.drift.drifted}/${s.verdict.drift.features} drifted)`) : '-',
    s.loop ? `${s.loop.state} ${formatTime(s.loop.ended ?? s.loop.started)}${s.loop.summary ? `: ${s.loop.summary}` : ''}` : '-',
  ])));
  return 0;
}

export function monitorCommand(project: Project, sub: 'run' | 'status', argv: string[]): Promise<number> | number {
  return sub === 'run' ? monitorRunCommand(project, argv) : monitorStatusCommand(project, argv);
}
