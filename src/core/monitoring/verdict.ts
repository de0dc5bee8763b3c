import type { ColumnDrift } from './drift';
import type { ReferenceChoice } from './reference';
import type { ServingReadings } from './servingObjectives';

/** One feature's result in a verdict: the report's, without its histogram. */
export interface ColumnVerdict {
  column: string;
  role: ColumnDrift['role'];
  test: ColumnDrift['test'];
  /** "Infinity" for chi-square with a category the reference never had. */
  statistic: number | 'Infinity';
  pValue?: number;
  threshold: number;
  drift: boolean;
  /** How far past its threshold: ≥ 1 is drift; what the panel sorts by. */
  severity: number;
}

/** What one check of a deployment found: one line of `.mlops/monitoring/<deployment>/checks.jsonl`. */
export interface MonitoringVerdict {
  deployment: string;
  time: number;
  /** What the deployment served (its primary target). */
  target: string;
  reference: { source: string; label: string; rows: number; from: ReferenceChoice['from'] };
  current: { label: string; rows: number; window: string; from?: number; to?: number; skippedLines: number };
  drift: { features: number; drifted: number; share: number; threshold: number; drift: boolean; predictionDrift?: boolean };
  columns: ColumnVerdict[];
  serving: ServingReadings;
  /** Whether something is wrong now, and what. */
  alert: boolean;
  reasons: string[];
  /** Whether this check raised the alert (the previous one had none, or other reasons): only then are people told. */
  raised: boolean;
}
