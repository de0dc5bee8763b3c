// The drift panel's messages: one drift report (per feature the reference and current
// histograms, the test, statistic, threshold and verdict), the timeline of a deployment's
// checks, and what its latest check measured of serving.

import type { CanvasInfo, WireNumber } from './common';

export const DRIFT_PANEL = 'drift';
export const DRIFT_VIEW_TYPE = 'mlops.drift';

/** What the panel compares: a deployment's log against its reference, a model version's training data against the workspace's, or two snapshots. */
export type DriftSubject =
  | { kind: 'deployment'; deployment: string }
  | { kind: 'version'; model: string; version: number }
  | { kind: 'snapshots'; reference: string; current: string };

export interface DriftFeature {
  column: string;
  role: 'feature' | 'prediction';
  kind: 'numeric' | 'categorical';
  test: string;
  statistic: WireNumber;
  pValue: WireNumber;
  threshold: number;
  drift: boolean;
  /** ≥ 1 is drift; the rows are sorted by it, most severe first. */
  severity: number;
  missing: { reference: number; current: number };
  newCategories?: { values: string[]; rows: number };
  /** Bin labels ("1.2–3.4" or a category) and each side's share per bin. */
  bins: string[];
  reference: number[];
  current: number[];
}

/** One check of a deployment: the drift share and each feature's statistic then. */
export interface DriftTimelinePoint {
  time: number;
  share: number;
  drift: boolean;
  alert: boolean;
  statistics: Record<string, WireNumber>;
}

/** What the latest check measured of serving (p99 over its window, error rate since the check before). */
export interface ServingFigures {
  p99Ms?: { value: number; threshold?: number; crossed: boolean };
  errorRate?: { value: number; threshold?: number; crossed: boolean; requests: number };
}

export interface DriftData {
  title: string;
  subject: DriftSubject;
  reference: { label: string; rows: number };
  current: { label: string; rows: number };
  dataset: { features: number; drifted: number; share: number; threshold: number; drift: boolean };
  predictionDrift?: boolean;
  features: DriftFeature[];
  /** A deployment's checks, oldest first (empty for other subjects). */
  timeline: DriftTimelinePoint[];
  checkedAt?: number;
  /** Why the deployment alerts now, if it does. */
  reasons: string[];
  serving?: ServingFigures;
  /** A running deployment's traffic of the last seconds ("12.5 req/s · p50 1.2 ms · p99 4.0 ms · 0.8% errors"). */
  live?: { summary: string; seconds: number };
  notices: string[];
}

export interface DriftInspection {
  title: string;
  /** The feature rows as shown, top to bottom. */
  rows: { column: string; verdict: 'drift' | 'ok'; severity: number }[];
  selected: string | null;
  timelinePoints: number;
  canvases: CanvasInfo[];
  notices: string[];
}

export interface DriftContract {
  hostRequests: {
    'drift/load': { params: Record<string, never>; result: DriftData };
    /** Checks again now (a deployment: a new check is recorded); answers the new data. */
    'drift/check': { params: Record<string, never>; result: DriftData };
    /** Starts retraining the deployment (command mlops.retrain). */
    'drift/retrain': { params: Record<string, never>; result: void };
  };
  hostNotifications: {
    /** A new check came in (scheduled, another window, the CLI). */
    'drift/updated': DriftData;
  };
  webviewRequests: {
    'view/inspect': { params: Record<string, never>; result: DriftInspection };
    /** Selects a feature as clicking its row would. */
    'drift/select': { params: { column: string }; result: DriftInspection };
  };
  webviewNotifications: Record<string, never>;
}

/** The part of the webview's saved state the host reads to restore the panel after a reload. */
export interface DriftRestoreState {
  subject: DriftSubject;
}
