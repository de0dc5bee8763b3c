// What the Pipelines view and the DAG panel show: each stage's state from the
// pipeline status, overlaid with what the pipeline run under way in this window
// is doing. No `vscode` import: unit tests drive it on a real workspace.

import { layers } from '../../core/pipelines/render';
import type { PipelineEvent } from '../../core/pipelines/run';
import { pipelineStatus, type StageStatus } from '../../core/pipelines/status';
import type { DagData, DagStageState } from '../../protocol/pipelines';

export interface StageView extends StageStatus {
  /** The state shown: the status, or what the run under way did to it. */
  shown: DagStageState;
  /** The reasons shown with it. */
  why: string[];
  /** The tracked run of the stage in the run under way (or its last run). */
  liveRun?: string;
  error?: string;
}

export class PipelineModel {
  private statuses: StageStatus[] = [];
  private problem: string | undefined;
  private live = new Map<string, { state: DagStageState; reasons: string[]; run?: string; error?: string }>();
  running = false;

  constructor(readonly root: string) {}

  /** Reads the status again; a pipeline that cannot be read leaves no stages and says why. */
  async refresh(): Promise<void> {
    try {
      this.statuses = (await pipelineStatus(this.root)).stages;
      this.problem = undefined;
    } catch (err) {
      this.statuses = [];
      this.problem = (err as Error).message;
    }
  }

  get error(): string | undefined {
    return this.problem;
  }

  get stages(): StageView[] {
    return this.statuses.map((s) => {
      const l = this.live.get(s.name);
      // During a run its events are what is shown. After it, what it did stays shown while it
      // still holds: a failure until the stage is up to date, a success until something changes.
      const holds = l && (this.running || l.state === 'running' || ((l.state === 'failed' || l.state === 'not-run') === (s.state !== 'up-to-date')));
      if (l && holds) return { ...s, shown: l.state, why: l.error ? [l.error, ...l.reasons] : l.reasons, liveRun: l.run, error: l.error };
      // A stage that failed last time and has not run since shows as failed until it runs again.
      if (s.state !== 'up-to-date' && s.last?.outcome === 'failed') {
        return { ...s, shown: 'failed', why: [s.last.error ?? 'its last run failed', ...s.reasons], liveRun: s.last.run, error: s.last.error };
      }
      return { ...s, shown: s.state, why: s.reasons };
    });
  }

  /** Takes in one event of the pipeline run under way. */
  apply(e: PipelineEvent): void {
    if (e.type === 'start') {
      this.live.clear();
      this.running = true;
    } else if (e.type === 'stage') {
      this.live.set(e.stage, { state: e.state, reasons: e.reasons, run: e.run, error: e.error });
    } else if (e.type === 'end') {
      this.running = false;
    }
  }

  dagData(): DagData {
    const stages = this.stages;
    const layer = layers({ order: stages.map((s) => s.name), upstream: new Map(stages.map((s) => [s.name, s.upstream])) });
    return {
      stages: stages.map((s) => ({ name: s.name, line: s.line, state: s.shown, reasons: s.why, upstream: s.upstream, cmd: s.cmd, layer: layer.get(s.name) ?? 0 })),
      ...(this.problem ? { error: this.problem } : {}),
      running: this.running,
    };
  }
}
