// The pipeline DAG panel's messages: the stages with their state and column,
// and the user's asks (run a stage, run what follows it, open it in mlops.yaml).

export const PIPELINE_DAG_PANEL = 'pipelineDag';
export const PIPELINE_DAG_VIEW_TYPE = 'mlops.pipelineDag';

/**
 * What a stage shows: its state from `mlops pipeline status` (up-to-date, changed,
 * restorable), or what it is doing / did in the pipeline run under way.
 */
export type DagStageState = 'up-to-date' | 'changed' | 'restorable' | 'running' | 'ran' | 'skipped' | 'restored' | 'failed' | 'not-run';

export interface DagStage {
  name: string;
  /** Line in mlops.yaml. */
  line: number;
  state: DagStageState;
  reasons: string[];
  upstream: string[];
  cmd: string;
  /** Left-to-right column: one more than its furthest upstream stage. */
  layer: number;
}

export interface DagData {
  stages: DagStage[];
  /** Why there is no DAG to draw (a cycle, bad YAML…), with the fix. */
  error?: string;
  /** A pipeline run is under way in this window. */
  running: boolean;
}

export interface PipelineDagContract {
  hostRequests: {
    'dag/load': { params: null; result: DagData };
    'dag/run': { params: { stage?: string; downstream: boolean }; result: null };
    'dag/open': { params: { stage: string }; result: null };
  };
  hostNotifications: { 'dag/update': DagData };
  webviewRequests: Record<string, never>;
  webviewNotifications: Record<string, never>;
}
