// A sweep's record, `.mlops/sweeps/<name>/trials.jsonl` (append-only, through the
// workspace's one append primitive): each trial started with its params and run,
// each early stop and its reason, each trial's end with its objective value, and
// the sweep's own starts and ends. Resuming and `mlops sweep status` read it back.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendRecord, reportDamagedLine } from '../../workspace/appendLog';
import { readLockHolder, type LockHolder } from '../../workspace/fileLock';
import { describeHolder, ProcessLock } from '../../workspace/processLock';
import type { MlopsLayout } from '../../workspace/layout';
import type { Params } from './space';

export type TrialStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED' | 'STOPPED' | 'LOST';

export type SweepRecord =
  | { type: 'sweep_start'; time: number; pid: number }
  | { type: 'sweep_end'; time: number; reason: string }
  | { type: 'trial'; time: number; trial: number; run_id: string; params: Params }
  | { type: 'stopped'; time: number; trial: number; reason: string }
  | { type: 'ended'; time: number; trial: number; status: Exclude<TrialStatus, 'RUNNING'>; value?: number };

export interface Trial {
  trial: number;
  runId: string;
  params: Params;
  status: TrialStatus;
  /** The objective's last value, when the trial logged it. */
  value?: number;
  /** Why it was stopped early. */
  stopReason?: string;
}

export interface SweepState {
  trials: Trial[];
  /** The sweep's last `sweep_end` reason, when it is not running. */
  endReason?: string;
  startedAt?: number;
}

export function sweepDir(layout: MlopsLayout, name: string): string {
  return path.join(layout.dir, 'sweeps', name);
}

const logFile = (layout: MlopsLayout, name: string) => path.join(sweepDir(layout, name), 'trials.jsonl');
const ownerFile = (layout: MlopsLayout, name: string) => path.join(sweepDir(layout, name), 'running.json');
const stopFile = (layout: MlopsLayout, name: string) => path.join(sweepDir(layout, name), 'stop-requested');

export function appendSweepRecord(layout: MlopsLayout, name: string, record: SweepRecord): void {
  fs.mkdirSync(sweepDir(layout, name), { recursive: true });
  appendRecord(logFile(layout, name), `${JSON.stringify(record)}\n`);
}

export function readSweepState(layout: MlopsLayout, name: string): SweepState {
  const file = logFile(layout, name);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { trials: [] };
  }
  const trials = new Map<number, Trial>();
  const state: SweepState = { trials: [] };
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let r: SweepRecord;
    try {
      r = JSON.parse(line) as SweepRecord;
    } catch {
      // A torn last line is a writer mid-append; anything else is damage worth naming.
      if (i < lines.length - 1) reportDamagedLine(file, i + 1, 'not JSON');
      return;
    }
    if (r.type === 'sweep_start') {
      state.startedAt = r.time;
      delete state.endReason;
    } else if (r.type === 'sweep_end') state.endReason = r.reason;
    else if (r.type === 'trial') trials.set(r.trial, { trial: r.trial, runId: r.run_id, params: r.params, status: 'RUNNING' });
    else if (r.type === 'stopped') {
      const t = trials.get(r.trial);
      if (t) t.stopReason = r.reason;
    } else if (r.type === 'ended') {
      const t = trials.get(r.trial);
      if (t) Object.assign(t, { status: r.status }, r.value !== undefined ? { value: r.value } : {});
    }
  });
  state.trials = [...trials.values()].sort((a, b) => a.trial - b.trial);
  return state;
}

/** Who runs the sweep now, if a live process does. */
export function sweepOwner(layout: MlopsLayout, name: string): LockHolder | undefined {
  const file = ownerFile(layout, name);
  return ProcessLock.isHeld(file) ? readLockHolder(file) : undefined;
}

/** Claims the sweep for this process; an error naming the owner when another live process runs it. */
export function claimSweep(layout: MlopsLayout, name: string): () => void {
  fs.mkdirSync(sweepDir(layout, name), { recursive: true });
  const lock = ProcessLock.tryAcquire(ownerFile(layout, name));
  if (!(lock instanceof ProcessLock)) {
    throw new Error(lock.held ? `Sweep "${name}" is already running (${describeHolder(lock.holder)}). Stop it with: mlops sweep stop ${name}` : `Cannot start sweep "${name}": ${lock.why}.`);
  }
  fs.rmSync(stopFile(layout, name), { force: true });
  return () => lock.release();
}

export function requestStop(layout: MlopsLayout, name: string): void {
  fs.mkdirSync(sweepDir(layout, name), { recursive: true });
  fs.writeFileSync(stopFile(layout, name), String(Date.now()));
}

export function stopRequested(layout: MlopsLayout, name: string): boolean {
  return fs.existsSync(stopFile(layout, name));
}
