// Run attributes as the panels see them. Mirrors src/core/tracking/events.ts by
// value (webviews import protocol only, never core).

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
export type RunSource = 'script' | 'command' | 'python' | 'notebook' | 'mlflow';

/** What every panel shows of a run besides its params and metrics. */
export interface RunAttributes {
  id: string;
  name: string;
  experiment: string;
  status: RunStatus;
  source: RunSource;
  /** Milliseconds since the Unix epoch; null when unknown. */
  start: number | null;
  end: number | null;
}
