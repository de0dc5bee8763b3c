// The comparison panel's messages. Curves arrive downsampled by the host
// (LTTB with min/max kept); zooming asks for the detail of a range.

import type { CanvasInfo, SaveFileParams, SaveFileResult, WireNumber } from './common';
import type { RunAttributes } from './runTypes';

export const COMPARE_PANEL = 'compare';
export const COMPARE_VIEW_TYPE = 'mlops.compare';

export interface MetricInfo {
  latest: WireNumber;
  min: WireNumber;
  max: WireNumber;
  step: number;
  count: number;
}

export interface CompareRun extends RunAttributes {
  params: Record<string, string>;
  metrics: Record<string, MetricInfo>;
}

export interface CompareData {
  /** In the order chosen; each run's colour comes from its id (the same in every panel). */
  runs: CompareRun[];
  /** Ids asked for that no longer exist (deleted), with a message to show. */
  missing: string[];
  /** Union of the runs' metric keys, in first-logged order. */
  metricKeys: string[];
  /** mlops.yaml's objectives (the project's KPIs): a goal line on their charts; the first is the default metric. */
  objectives?: ObjectiveInfo[];
  /** The curves of the metric the panel shows first (CompareLoadParams), so it draws without asking again. */
  curves?: SeriesResult;
}

/** One objective of mlops.yaml, by value (webviews never import core). */
export interface ObjectiveInfo {
  metric: string;
  goal: 'maximize' | 'minimize';
  target?: number;
}

/** The metric a panel opens on: the first objective the runs logged, else the first metric. */
export function defaultMetric(metricKeys: string[], objectives: ObjectiveInfo[] = []): string | null {
  return objectives.find((o) => metricKeys.includes(o.metric))?.metric ?? metricKeys[0] ?? null;
}

/** What the panel will draw first: the host sends those curves with the runs. */
export interface CompareLoadParams {
  /** The metric shown last time, if any (else the first key). */
  metric?: string | null;
  /** The chart's width in pixels, about (it sets the points per run: pointsPerRun). */
  chartWidth?: number;
  smoothing?: number;
}

/** Points over all runs of one chart: a hundred overlaid curves need fewer each to read the same. */
const TOTAL_POINTS = 50_000;

/**
 * Points per run to ask for: about one per pixel of width, but no more than TOTAL_POINTS over
 * all runs, never under 200. Zooming fetches the detail.
 */
export function pointsPerRun(width: number, runs: number): number {
  return Math.round(Math.max(200, Math.min(width, 2000, TOTAL_POINTS / Math.max(1, runs))));
}

export type XAxis = 'step' | 'time' | 'relative';

/**
 * Where relative time starts for a run: its start time, else its first point.
 * The host ranges and the webview draws with the same rule, so a zoom matches what is shown.
 */
export function relativeOrigin(start: number | null, times: ArrayLike<number>): number {
  return start ?? (times.length ? times[0] : 0);
}

export interface SeriesRequest {
  metric: string;
  /** Only these runs (e.g. those still running); all when absent. */
  runIds?: string[];
  /**
   * Only points inside [min, max] of the axis: the step, the wall time in ms
   * ('time'), or seconds since the run started ('relative'); all when absent.
   */
  range?: { axis: XAxis; min: number; max: number };
  /** The most points per run to send (the chart's width in pixels is a good value). */
  maxPoints: number;
  /**
   * Debiased EMA weight, 0 (none) to 0.999: the host smooths each run's whole
   * history before downsampling, so a smoothed value at a step is the same at any zoom.
   */
  smoothing?: number;
}

/** One run's curve of one metric: parallel arrays of the kept points. */
export interface Series {
  runId: string;
  steps: number[];
  /** Wall time of each point, ms since the Unix epoch. */
  times: number[];
  values: number[];
  /** The smoothed value at each point (present when `smoothing` was asked for). */
  smoothed?: number[];
  /** Points the run has in the range (before downsampling). */
  total: number;
  /** Points left out because their value is NaN or ±Infinity. */
  nonFinite: number;
  downsampled: boolean;
}

export interface SeriesResult {
  metric: string;
  range: SeriesRequest['range'] | null;
  series: Series[];
}

export interface CompareUpdate {
  /** Summaries of runs that changed (new metrics, status). */
  runs: CompareRun[];
  /** Runs that were deleted while shown, with their names. */
  removed: { id: string; name: string }[];
  metricKeys: string[];
}

export interface CompareInspection {
  runIds: string[];
  metric: string | null;
  xAxis: XAxis;
  logScale: boolean;
  smoothing: number;
  zoom: { min: number; max: number } | null;
  tab: CompareTab;
  /** Per run on the curves chart: points drawn, the last point's value (raw) and its smoothed value when smoothing. */
  curves: { runId: string; label: string; points: number; lastX: number | null; lastY: number | null; lastSmoothed: number | null }[];
  /** Rows of the parameter diff table. */
  diff: { key: string; values: string[]; differs: boolean }[];
  notices: string[];
  canvases: CanvasInfo[];
  /** The hover read-out at the last hovered x, if any. */
  hover: string[];
  /** The objective's target line on the curves chart ("target 0.95 (higher is better)"), if drawn. */
  goalLine: string | null;
}

export type CompareTab = 'curves' | 'params' | 'parallel' | 'scatter';

export interface CompareContract {
  hostRequests: {
    'compare/load': { params: CompareLoadParams; result: CompareData };
    'compare/series': { params: SeriesRequest; result: SeriesResult };
    /** Saves every point (not downsampled) of a metric of the shown runs as CSV. */
    'compare/exportCsv': { params: { metric: string }; result: SaveFileResult };
    /** Lets the user change the runs (quick pick); resolves when done, the host then sends compare/reset. */
    'compare/pickRuns': { params: Record<string, never>; result: void };
    'file/save': { params: SaveFileParams; result: SaveFileResult };
  };
  hostNotifications: {
    /** The set of runs changed (compare opened again with others): start over with this data. */
    'compare/reset': CompareData;
    /** Runs changed (live) or were deleted. */
    'compare/updated': CompareUpdate;
  };
  webviewRequests: {
    'view/inspect': { params: Record<string, never>; result: CompareInspection };
    /** Shows a tab / sets the chart's options, as the controls would. */
    'compare/show': {
      params: { tab?: CompareTab; metric?: string; xAxis?: XAxis; logScale?: boolean; smoothing?: number; zoom?: { min: number; max: number } | null };
      result: CompareInspection;
    };
    /** Exports the shown tab as its PNG or CSV button does (the host then asks where to save). */
    'view/export': { params: { format: 'png' | 'csv' }; result: SaveFileResult };
    /** Hovers the curves chart at x (in the current axis' units): the read-out lists every run's value there. */
    'compare/hover': { params: { x: number }; result: string[] };
  };
  webviewNotifications: Record<string, never>;
}

/** The part of the compare webview's saved state the host reads to restore the panel after a reload. */
export interface CompareRestoreState {
  runIds: string[];
}
