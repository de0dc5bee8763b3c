// Runs a sweep: keeps up to `parallel` trials going on the sweep's target, each
// an ordinary tracked run given its params as `--name value`, asks the method
// for the next params as trials end, stops weak trials early, and records it all
// in the sweep's log so a sweep cut short (editor closed, CLI killed) resumes
// where it was: finished trials count, interrupted ones run again.

import * as fs from 'node:fs';
import { cancelRemoteRun } from '../../compute/cancelRun';
import { readRemoteJob, startRemoteRun } from '../../compute/remoteRun';
import { findTarget } from '../../compute/targets';
import { appendEvents } from '../../tracking/eventWriter';
import { launchTrackedRun, type RunOutcome } from '../../tracking/launcher';
import type { MlopsLayout } from '../../workspace/layout';
import { isProcessAlive } from '../../workspace/processes';
import { seededRandom } from '../../validation/random';
import type { Sweep } from './config';
import { EarlyStopper } from './earlyStopping';
import { asArguments, gridPoints, sampleRandom, type Params } from './space';
import { appendSweepRecord, claimSweep, readSweepState, stopRequested, type Trial } from './sweepLog';
import { suggestTpe } from './tpe';
import { TrialProgress } from './trialProgress';

export type SweepEvent =
  | { type: 'resumed'; finished: number; interrupted: number }
  | { type: 'trial-started'; trial: number; runId: string; params: Params }
  | { type: 'trial-stopped'; trial: number; reason: string }
  | { type: 'trial-ended'; trial: number; status: Trial['status']; value?: number };

export interface SweepRunOptions {
  layout: MlopsLayout;
  sweep: Sweep;
  /** Where trials run (the project root, for a local target). */
  cwd: string;
  onEvent?: (event: SweepEvent) => void;
  /** How often running trials are read for early stopping and a stop request (default 250 ms). */
  pollMs?: number;
}

export interface SweepResult {
  trials: Trial[];
  best?: Trial;
  /** "budget reached", "stopped on request", … */
  reason: string;
}

interface Running {
  trial: Trial;
  progress: TrialProgress;
  stop: () => Promise<RunOutcome>;
  outcome?: RunOutcome;
  stopReason?: string;
}

const ENDED = new Set(['FINISHED', 'FAILED', 'KILLED', 'STOPPED']);

/** The best trial by the objective (ties: the earlier one). */
export function bestTrial(trials: Trial[], goal: Sweep['goal']): Trial | undefined {
  const sign = goal === 'maximize' ? -1 : 1;
  let best: Trial | undefined;
  for (const t of trials) if (t.value !== undefined && (!best || sign * t.value < sign * best.value!)) best = t;
  return best;
}

export async function runSweep(o: SweepRunOptions): Promise<SweepResult> {
  const { layout, sweep } = o;
  const target = findTarget(layout.root, sweep.target);
  const release = claimSweep(layout, sweep.name);
  try {
    const trials = await recover(o);
    appendSweepRecord(layout, sweep.name, { type: 'sweep_start', time: Date.now(), pid: process.pid });
    const sign: 1 | -1 = sweep.goal === 'maximize' ? -1 : 1;
    const stopper = sweep.earlyStopping ? new EarlyStopper(sweep.earlyStopping) : undefined;
    const random = seededRandom(sweep.seed * 7919 + trials.length);
    const grid = sweep.method === 'grid' ? gridPoints(sweep.space) : [];
    // Interrupted trials run again with the same params, before new ones.
    const rerun = trials.filter((t) => t.status === 'LOST').map((t) => t.params);
    const counted = () => trials.filter((t) => t.status !== 'LOST').length;
    const running = new Map<number, Running>();
    let reason = 'budget reached';

    const nextParams = (): Params => {
      if (rerun.length) return rerun.shift()!;
      if (sweep.method === 'grid') {
        const tried = new Set(trials.filter((t) => t.status !== 'LOST').map((t) => JSON.stringify(t.params)));
        return grid.find((p) => !tried.has(JSON.stringify(p)))!;
      }
      if (sweep.method === 'random') return sampleRandom(sweep.space, random);
      const observations = trials.filter((t) => ENDED.has(t.status) && t.value !== undefined).map((t) => ({ params: t.params, loss: sign * t.value! }));
      return suggestTpe(sweep.space, observations, random);
    };

    const start = async (): Promise<void> => {
      const params = nextParams();
      const n = trials.length ? Math.max(...trials.map((t) => t.trial)) + 1 : 1;
      const text = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
      const [command, ...base] = sweep.command;
      const args = [...base, ...asArguments(params)];
      const tags = { 'mlops.sweep': sweep.name, 'mlops.sweep.trial': String(n) };
      const proc = target.type === 'local'
        ? launchTrackedRun({ layout, command, args, cwd: o.cwd, experiment: sweep.name, nameBase: sweep.name, source: 'command', tags, params: text })
        : await startRemoteRun({ layout, target, command, args, name: `${sweep.name}-${n}`, experiment: sweep.name, tags, params: text });
      const trial: Trial = { trial: n, runId: proc.runId, params, status: 'RUNNING' };
      trials.push(trial);
      appendSweepRecord(layout, sweep.name, { type: 'trial', time: Date.now(), trial: n, run_id: proc.runId, params });
      const r: Running = { trial, progress: new TrialProgress(layout.eventsFile(proc.runId), sweep.objective, sign), stop: () => proc.stop() };
      running.set(n, r);
      void proc.finished.then((outcome) => (r.outcome = outcome), (err) => (r.outcome = { status: 'FAILED', exitCode: null, error: String(err) }));
      o.onEvent?.({ type: 'trial-started', trial: n, runId: proc.runId, params });
    };

    const curves = () => {
      const all = new Map<string, ReturnType<TrialProgress['points']['slice']>>();
      for (const r of running.values()) all.set(r.trial.runId, r.progress.points);
      for (const [id, points] of endedCurves) all.set(id, points);
      return all;
    };
    const endedCurves = new Map<string, TrialProgress['points']>();

    for (;;) {
      if (stopRequested(layout, sweep.name)) {
        reason = 'stopped on request';
        await Promise.all([...running.values()].map((r) => r.stop()));
      }
      // Ended trials first, so their curves and values count for the rest.
      for (const [n, r] of running) {
        r.progress.update();
        if (!r.outcome) continue;
        running.delete(n);
        const status = r.stopReason ? 'STOPPED' : r.outcome.status === 'RUNNING' ? 'FAILED' : r.outcome.status;
        r.trial.status = status;
        if (r.progress.last !== undefined) r.trial.value = r.progress.last;
        endedCurves.set(r.trial.runId, r.progress.points);
        appendSweepRecord(layout, sweep.name, { type: 'ended', time: Date.now(), trial: n, status, ...(r.trial.value !== undefined ? { value: r.trial.value } : {}) });
        o.onEvent?.({ type: 'trial-ended', trial: n, status, ...(r.trial.value !== undefined ? { value: r.trial.value } : {}) });
      }
      if (reason === 'stopped on request' && !running.size) break;
      if (stopper) {
        const all = curves();
        for (const r of running.values()) {
          if (r.stopReason) continue;
          const why = stopper.judge(r.trial.runId, all);
          if (!why) continue;
          r.stopReason = why;
          r.trial.stopReason = why;
          appendSweepRecord(layout, sweep.name, { type: 'stopped', time: Date.now(), trial: r.trial.trial, reason: why });
          appendEvents(layout.eventsFile(r.trial.runId), [{ type: 'tag', key: 'mlops.sweep.stopped', value: why }]);
          o.onEvent?.({ type: 'trial-stopped', trial: r.trial.trial, reason: why });
          void r.stop();
        }
      }
      while (reason !== 'stopped on request' && running.size < sweep.parallel && counted() < sweep.budget) await start();
      if (!running.size) break;
      await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 250));
    }
    appendSweepRecord(layout, sweep.name, { type: 'sweep_end', time: Date.now(), reason });
    return { trials, best: bestTrial(trials, sweep.goal), reason };
  } finally {
    release();
  }
}

/**
 * The trials of an earlier, interrupted start: those whose run ended are judged from
 * their event log; those still marked running had their process end with the sweep's,
 * so they are recorded as interrupted (LOST) and run again.
 */
async function recover(o: SweepRunOptions): Promise<Trial[]> {
  const { layout, sweep } = o;
  const trials = readSweepState(layout, sweep.name).trials;
  let finished = 0, interrupted = 0;
  for (const t of trials) {
    if (t.status !== 'RUNNING') {
      if (ENDED.has(t.status)) finished++;
      continue;
    }
    const end = runEnd(layout.eventsFile(t.runId));
    const progress = new TrialProgress(layout.eventsFile(t.runId), sweep.objective, 1);
    progress.update();
    if (end) {
      t.status = t.stopReason ? 'STOPPED' : end;
      if (progress.last !== undefined) t.value = progress.last;
      finished++;
    } else {
      // Its process outlived the sweep's (trials run in their own process group, or on a target): end it, and the run.
      await endInterrupted(layout, t.runId, t.params);
      t.status = 'LOST';
      interrupted++;
    }
    appendSweepRecord(layout, sweep.name, { type: 'ended', time: Date.now(), trial: t.trial, status: t.status as Exclude<Trial['status'], 'RUNNING'>, ...(t.value !== undefined ? { value: t.value } : {}) });
  }
  if (trials.length) o.onEvent?.({ type: 'resumed', finished, interrupted });
  return trials;
}

async function endInterrupted(layout: MlopsLayout, runId: string, params: Params): Promise<void> {
  const file = layout.eventsFile(runId);
  let why = 'the sweep stopped while this trial ran; it runs again';
  if (readRemoteJob(layout, runId)) {
    // A remote trial's job went on without its follower: end it there, or say why it may still run.
    try {
      await cancelRemoteRun(layout, runId);
    } catch (err) {
      why += `; its job on the target could not be cancelled (${(err as Error).message})`;
    }
  } else {
    const pid = Number(/"pid":(\d+)/.exec(fs.readFileSync(file, 'utf8'))?.[1]);
    if (pid > 1 && isProcessAlive(pid) && isTrialProcess(pid, params)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }
  appendEvents(file, [{ type: 'tag', key: 'mlops.sweep.interrupted', value: why }, { type: 'run_end', status: 'KILLED', exit_code: null }]);
}

/** Whether the pid still is the trial's process (its command line holds the trial's params), not a reuse of it. */
function isTrialProcess(pid: number, params: Params): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(asArguments(params).join('\0'));
  } catch {
    return false;
  }
}

/** The status of a run's `run_end` event, if its log has one. */
function runEnd(file: string): 'FINISHED' | 'FAILED' | 'KILLED' | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const at = text.lastIndexOf('"type":"run_end"');
  if (at < 0) return undefined;
  const status = /"status":"(FINISHED|FAILED|KILLED)"/.exec(text.slice(text.lastIndexOf('\n', at) + 1))?.[1];
  return status as 'FINISHED' | 'FAILED' | 'KILLED' | undefined;
}
