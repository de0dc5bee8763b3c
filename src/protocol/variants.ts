// The variant comparison panel's messages: a deployment's A/B arms and shadow side by side
// (traffic from its /metrics, predictions from its prediction log).

import type { CanvasInfo } from './common';

export const VARIANTS_PANEL = 'variants';
export const VARIANTS_VIEW_TYPE = 'mlops.variants';

/** One variant's traffic since its server started (from /metrics). */
export interface VariantTraffic {
  variant: string;
  model: string;
  version: string;
  requests: number;
  /** Non-success answers over all; null with no request. */
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** One variant's logged predictions. */
export interface VariantPredictionsData {
  variant: string;
  model: string;
  version: string;
  records: number;
  rows: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Share of rows per class, in `classes` order. */
  classShares: number[];
  /** Rows per score bin (`bins` edges). */
  histogram: number[];
}

export interface VariantComparisonData {
  output: string;
  /** What the histogram shows; null when the output has no score. */
  score: string | null;
  classes: string[];
  bins: number[];
  variants: VariantPredictionsData[];
  /** Shadow vs served answers of the same requests; null without a shadow. */
  agreement: { rows: number; agreed: number; rate: number; meanAbsDifference: number | null } | null;
  /** Total variation distance between the two arms of a split (0 same, 1 disjoint); null without two arms. */
  distance: number | null;
  records: number;
  from: number | null;
  to: number | null;
  skippedLines: number;
}

export interface VariantsData {
  deployment: string;
  /** What it serves, in words ("cancer:1 50% · cancer:2 50%, shadow cancer:3"). */
  serving: string;
  running: boolean;
  /** Null when the server is not running (or did not answer); `trafficNote` says why. */
  traffic: VariantTraffic[] | null;
  trafficNote: string | null;
  /** Null when the log has nothing to compare; `comparisonNote` says why. */
  comparison: VariantComparisonData | null;
  comparisonNote: string | null;
  /** The output compared (the webview's choice, else the default), and the outputs the log has. */
  outputs: string[];
  time: number;
}

/** What the webview shows, for tests. */
export interface VariantsInspection {
  deployment: string | null;
  output: string | null;
  /** The traffic and prediction tables, as their cells' text. */
  traffic: string[][];
  predictions: string[][];
  agreement: string | null;
  notices: string[];
  canvases: CanvasInfo[];
}

export interface VariantsContract {
  hostRequests: {
    /** The comparison now; `output` picks the output compared (default: the label, else the first). */
    'variants/load': { params: { output?: string }; result: VariantsData };
  };
  hostNotifications: {
    /** Fresh figures (sent every few seconds while the panel is visible). */
    'variants/updated': VariantsData;
  };
  webviewRequests: {
    'view/inspect': { params: Record<string, never>; result: VariantsInspection };
  };
  webviewNotifications: Record<string, never>;
}

/** The webview's saved state the host reads to restore the panel after a reload. */
export interface VariantsRestoreState {
  deployment: string;
}
