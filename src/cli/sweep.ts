import { parseArgs } from 'node:util';
import { findSweep, readSweeps } from '../core/pipelines/sweeps/config';
import { bestTrial, runSweep, type SweepEvent } from '../core/pipelines/sweeps/runSweep';
import { paramsText } from '../core/pipelines/sweeps/space';
import { readSweepState, requestStop, sweepOwner, type Trial } from '../core/pipelines/sweeps/sweepLog';
import { formatNumber } from '../core/format';
import { MlopsLayout } from '../core/workspace/layout';
import { oneLine, print, printError, printJson, table } from './output';
import { wrongArguments } from './usage';

/** `mlops sweep run|status|stop <sweep> [--json]`. */
export async function sweepCommand(root: string, sub: 'run' | 'status' | 'stop', argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const layout = new MlopsLayout(root);
  if (sub === 'status' && !positionals.length) return listSweeps(layout, values.json ?? false);
  if (positionals.length !== 1) throw wrongArguments(`sweep ${sub} needs one sweep name.`);
  const sweep = findSweep(root, positionals[0]);
  if (sub === 'stop') {
    const owner = sweepOwner(layout, sweep.name);
    if (!owner) {
      print(`Sweep "${oneLine(sweep.name)}" is not running.\n`);
      return 0;
    }
    requestStop(layout, sweep.name);
    print(`Asked sweep "${oneLine(sweep.name)}" (process ${owner.pid}) to stop: its running trials end now.\n`);
    return 0;
  }
  if (sub === 'status') {
    const state = readSweepState(layout, sweep.name);
    const best = bestTrial(state.trials, sweep.goal);
    const running = Boolean(sweepOwner(layout, sweep.name));
    if (values.json) {
      printJson({ name: sweep.name, running, objective: sweep.objective, goal: sweep.goal, budget: sweep.budget, method: sweep.method, trials: state.trials, best: best ?? null, ended: state.endReason ?? null });
      return 0;
    }
    print(`${oneLine(sweep.name)}: ${sweep.method}, ${state.trials.filter((t) => t.status !== 'LOST').length}/${sweep.budget} trials, ${running ? 'running' : state.endReason ? `ended (${state.endReason})` : 'not started'}; ${sweep.goal} ${oneLine(sweep.objective)}\n`);
    if (state.trials.length) print(trialTable(state.trials, best));
    return 0;
  }
  layout.ensure();
  const result = await runSweep({ layout, sweep, cwd: root, onEvent: values.json ? undefined : report });
  if (values.json) printJson({ name: sweep.name, reason: result.reason, trials: result.trials, best: result.best ?? null });
  else {
    print(trialTable(result.trials, result.best));
    print(result.best ? `Best: trial ${result.best.trial} (${paramsText(result.best.params)}) ${oneLine(sweep.objective)}=${formatNumber(result.best.value!)}; ${result.reason}.\n` : `No trial logged ${oneLine(sweep.objective)}; ${result.reason}.\n`);
  }
  return result.reason === 'stopped on request' ? 130 : 0;
}

function listSweeps(layout: MlopsLayout, json: boolean): number {
  const rows = readSweeps(layout.root).map((s) => {
    const state = readSweepState(layout, s.name);
    return { name: s.name, method: s.method, budget: s.budget, trials: state.trials.filter((t) => t.status !== 'LOST').length, running: Boolean(sweepOwner(layout, s.name)), best: bestTrial(state.trials, s.goal) ?? null, objective: s.objective };
  });
  if (json) printJson(rows);
  else if (!rows.length) print('mlops.yaml declares no sweeps (add them under "sweeps:"; see mlops sweep run --help).\n');
  else print(table(['SWEEP', 'METHOD', 'TRIALS', 'STATE', 'BEST'], rows.map((r) => [r.name, r.method, `${r.trials}/${r.budget}`, r.running ? 'running' : r.trials ? 'ended' : 'not started', r.best ? `${r.objective}=${formatNumber(r.best.value!)}` : '-'])));
  return 0;
}

function report(e: SweepEvent): void {
  if (e.type === 'resumed') printError(`mlops: resuming: ${e.finished} trial(s) done, ${e.interrupted} interrupted (they run again)\n`);
  else if (e.type === 'trial-started') printError(`mlops: trial ${e.trial} started (${paramsText(e.params)}), run ${e.runId}\n`);
  else if (e.type === 'trial-stopped') printError(`mlops: trial ${e.trial} stopped early: ${e.reason}\n`);
  else printError(`mlops: trial ${e.trial} ${e.status}${e.value !== undefined ? ` (${formatNumber(e.value)})` : ''}\n`);
}

function trialTable(trials: Trial[], best: Trial | undefined): string {
  return table(['TRIAL', 'STATUS', 'VALUE', 'PARAMS', 'RUN'], trials.map((t) => [
    `${t.trial}${t === best ? ' ★' : ''}`, t.status, t.value === undefined ? '-' : formatNumber(t.value), paramsText(t.params), t.runId.slice(0, 12),
  ]));
}
