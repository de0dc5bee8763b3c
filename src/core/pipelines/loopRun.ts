import * as fs from 'node:fs';
import * as path from 'node:path';
import { EVENT_SCHEMA_VERSION, type NewRunEvent } from '../tracking/events';
import { appendEvents, newRunId } from '../tracking/eventWriter';
import type { Tracking } from '../tracking/tracking';
import { appendRecord } from '../workspace/appendLog';
import { currentUser } from '../workspace/user';
import { isProcessAlive } from '../workspace/processes';
import type { MlopsLayout } from '../workspace/layout';

/** Loop runs live in this experiment; their steps' runs carry MLflow's parent tag, so they group under it. */
export const RETRAINING_EXPERIMENT = 'Retraining';
export const PARENT_TAG = 'mlflow.parentRunId';
const LOOP_TAG = 'mlops.loop.deployment';

export type StepName = 'snapshot' | 'train' | 'register' | 'gates' | 'approval' | 'rollout' | 'promote' | 'switch';
export type StepStatus = 'done' | 'failed' | 'skipped' | 'kept';

/** One step of a loop: what it did, in the user's words, and the run it made, if any. */
export interface LoopStep {
  step: StepName;
  status: StepStatus;
  detail: string;
  time: number;
  /** A tracked run the step made (training, evaluation). */
  run?: string;
}

/** promoted: the challenger serves now; kept: the champion stays, and `reason` says why. */
export type LoopOutcome = 'promoted' | 'kept' | 'awaiting-approval' | 'failed';

/** `.mlops/loops.jsonl`: each loop's start, steps and end, append only; folded into loops on read. */
type LoopRecord =
  | { type: 'start'; loop: string; deployment: string; model: string; trigger: string; reason?: string; pid: number; user: string; time: number }
  | ({ type: 'step'; loop: string } & LoopStep)
  | { type: 'end'; loop: string; outcome: LoopOutcome; reason: string; version?: number; time: number };

export interface LoopSummary {
  /** The loop run's id. */
  loop: string;
  deployment: string;
  model: string;
  trigger: string;
  reason?: string;
  started: number;
  ended?: number;
  /** running while its process lives; interrupted when that process died mid-loop. */
  state: 'running' | 'interrupted' | LoopOutcome;
  outcome?: LoopOutcome;
  /** Why it ended so (the failed gates, the switch error), or what it is doing. */
  summary?: string;
  /** The version it made. */
  version?: number;
  steps: LoopStep[];
}

function loopsFile(layout: MlopsLayout): string {
  return path.join(layout.dir, 'loops.jsonl');
}

/** Every loop recorded in the workspace, oldest first. */
export function readLoops(layout: MlopsLayout): LoopSummary[] {
  let text: string;
  try {
    text = fs.readFileSync(loopsFile(layout), 'utf8');
  } catch {
    return [];
  }
  const loops = new Map<string, LoopSummary & { pid: number }>();
  for (const line of text.split('\n')) {
    let r: LoopRecord;
    try {
      if (!line.trim()) continue;
      r = JSON.parse(line) as LoopRecord;
    } catch {
      continue; // a torn last line from a crash mid-write
    }
    if (r.type === 'start') {
      loops.set(r.loop, { loop: r.loop, deployment: r.deployment, model: r.model, trigger: r.trigger, ...(r.reason ? { reason: r.reason } : {}), started: r.time, state: 'running', steps: [], pid: r.pid });
      continue;
    }
    const l = loops.get(r.loop);
    if (!l) continue;
    if (r.type === 'step') {
      const { type: _t, loop: _l, ...step } = r;
      l.steps.push(step);
    } else {
      Object.assign(l, { ended: r.time, state: r.outcome, outcome: r.outcome, summary: r.reason, ...(r.version !== undefined ? { version: r.version } : {}) });
    }
  }
  return [...loops.values()].map(({ pid, ...l }) => (l.state === 'running' && !isProcessAlive(pid) ? { ...l, state: 'interrupted' as const } : l));
}

/**
 * One retraining loop as a tracked run (experiment "Retraining") whose tags list its steps in
 * order, the timeline the Runs view shows; the runs its steps make point at it with MLflow's
 * parent tag. The same steps go to `.mlops/loops.jsonl` for `mlops monitor status` and reports.
 */
export class LoopRun {
  readonly id = newRunId();
  private readonly steps: LoopStep[] = [];

  constructor(private readonly tracking: Tracking, readonly deployment: string, readonly model: string) {}

  private get layout(): MlopsLayout {
    return this.tracking.layout;
  }

  private events(events: NewRunEvent[]): void {
    appendEvents(this.layout.eventsFile(this.id), events);
    this.tracking.refresh([this.id]);
  }

  private record(record: LoopRecord): void {
    appendRecord(loopsFile(this.layout), JSON.stringify(record) + '\n', { sync: true });
  }

  start(trigger: string, reason: string | undefined, params: Record<string, string>): void {
    fs.mkdirSync(this.layout.runDir(this.id), { recursive: true });
    const time = Date.now();
    this.events([
      { type: 'run_start', schema: EVENT_SCHEMA_VERSION, run_id: this.id, name: `retrain ${this.deployment}`, experiment: RETRAINING_EXPERIMENT, source: 'command', time },
      { type: 'capture', capture: { argv: process.argv.slice(1), cwd: process.cwd(), pid: process.pid, user: currentUser() } },
      ...Object.entries({ deployment: this.deployment, model: this.model, trigger, ...(reason ? { reason } : {}), ...params }).map(([key, value]): NewRunEvent => ({ type: 'param', key, value })),
      { type: 'tag', key: LOOP_TAG, value: this.deployment },
    ]);
    this.record({ type: 'start', loop: this.id, deployment: this.deployment, model: this.model, trigger, ...(reason ? { reason } : {}), pid: process.pid, user: currentUser(), time });
  }

  /** Records a step: a tag `mlops.loop.step.NN.<step>` on the loop run, a line in loops.jsonl, the parent tag on its run. */
  step(step: StepName, status: StepStatus, detail: string, run?: string): LoopStep {
    const s: LoopStep = { step, status, detail, time: Date.now(), ...(run ? { run } : {}) };
    this.steps.push(s);
    const mark = { done: '✓', failed: '✗', skipped: '–', kept: '✗' }[status];
    this.events([{ type: 'tag', key: `mlops.loop.step.${String(this.steps.length).padStart(2, '0')}.${step}`, value: `${mark} ${detail}` }]);
    if (run) this.adopt(run);
    this.record({ type: 'step', loop: this.id, ...s });
    return s;
  }

  /** Marks a run as one of this loop's steps (MLflow's nested-run tag). */
  adopt(run: string): void {
    if (!fs.existsSync(this.layout.eventsFile(run))) return;
    appendEvents(this.layout.eventsFile(run), [{ type: 'tag', key: PARENT_TAG, value: this.id }]);
    this.tracking.refresh([run]);
  }

  end(outcome: LoopOutcome, reason: string, version?: number): void {
    this.events([
      { type: 'tag', key: 'mlops.loop.outcome', value: `${outcome}: ${reason}` },
      ...(version !== undefined ? [{ type: 'param', key: 'version', value: String(version) } as NewRunEvent] : []),
      { type: 'run_end', status: outcome === 'failed' ? 'FAILED' : 'FINISHED', exit_code: outcome === 'failed' ? 1 : 0 },
    ]);
    this.record({ type: 'end', loop: this.id, outcome, reason, ...(version !== undefined ? { version } : {}), time: Date.now() });
  }

  get timeline(): readonly LoopStep[] {
    return this.steps;
  }
}
