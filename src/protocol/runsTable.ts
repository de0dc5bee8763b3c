// The runs table panel's messages. The host sends data only (never markup):
// rows in a compact form, then deltas while runs change.

import type { SaveFileParams, SaveFileResult, WireNumber } from './common';
import type { RunAttributes } from './runTypes';

export const RUNS_TABLE_PANEL = 'runsTable';
export const RUNS_TABLE_VIEW_TYPE = 'mlops.runsTable';

/**
 * One run. Params and metrics are positional against the key lists of the
 * dataset (`paramKeys`, `metricKeys`), which only ever grow during a session, so
 * a row sent earlier stays valid; entries past a row's length are missing.
 */
export interface RunRow extends RunAttributes {
  /** params[i] is the value of paramKeys[i], or null. */
  params: (string | null)[];
  /** Three entries per metric key: latest, min, max of metricKeys[i] at 3i, 3i+1, 3i+2. */
  metrics: WireNumber[];
  /** "✓", or "✗ " and the missed metrics, against mlops.yaml's objectives; absent when none applies. */
  objectives?: string;
  /** The pipeline run a stage's run belongs to (its mlops.pipeline.run tag); absent for other runs. */
  pipeline?: string;
}

export interface RunsTableData {
  paramKeys: string[];
  metricKeys: string[];
  rows: RunRow[];
  /** Whether mlops.yaml declares objectives with targets (the table then shows an Objectives column). */
  hasObjectives?: boolean;
}

/** The answer to a filter query. */
export type FilterResult =
  | { ok: true; query: string; /** ids of the matching runs; null when the query is empty (all match) */ matching: string[] | null }
  | { ok: false; query: string; /** what is wrong and where, for a person */ error: string };

export interface RunsDelta {
  /** The complete key lists (they only grow). */
  paramKeys: string[];
  metricKeys: string[];
  /** New runs and runs that changed. */
  upserts: RunRow[];
  /** Runs that are gone (deleted). */
  removed: string[];
  /**
   * The host's filter applied to `upserts`: the query text it used and which of
   * the upserted ids match. Absent when no filter is set.
   */
  filter?: { query: string; matching: string[] };
}

/** What the webview shows, for tests and diagnostics. */
export interface RunsTableInspection {
  totalRuns: number;
  /** Run ids in display order after filter, sort and grouping (all of them, not only those in the DOM). */
  shownRunIds: string[];
  /** Rows present in the DOM (virtualised rendering keeps this small). */
  domRows: number;
  /** Header labels of the visible columns, in order. */
  headers: string[];
  /** Cell texts of the rows in the DOM, in display order (group headers excluded). */
  renderedRows: { runId: string; cells: string[] }[];
  filterQuery: string;
  filterError: string | null;
  selected: string[];
  /** `column` is a column id: `attr:name` and the like, or per key `param:`, `metric:` (latest), `metric.min:`, `metric.max:`. */
  sort: { column: string; descending: boolean } | null;
  groupBy: string | null;
}

export interface RunsTableContract {
  hostRequests: {
    'runs/load': { params: Record<string, never>; result: RunsTableData };
    'runs/filter': { params: { query: string }; result: FilterResult };
    /** Opens the comparison panel with these runs. */
    'runs/compare': { params: { runIds: string[] }; result: void };
    /** Reveals the run in the Runs view. */
    'runs/reveal': { params: { runId: string }; result: void };
    'file/save': { params: SaveFileParams; result: SaveFileResult };
  };
  hostNotifications: {
    'runs/changed': RunsDelta;
  };
  webviewRequests: {
    /** Puts a query into the filter field and applies it, as if typed. */
    'runs/setFilter': { params: { query: string }; result: FilterResult };
    'view/inspect': { params: Record<string, never>; result: RunsTableInspection };
    /** Builds the CSV of the visible table (what Export saves). */
    'runs/csv': { params: Record<string, never>; result: string };
    /** Exports the visible table as the Export button does (the host then asks where to save). */
    'view/export': { params: { format: 'csv' }; result: SaveFileResult };
    /** Selects runs (replacing the selection), as clicks would. */
    'runs/select': { params: { runIds: string[] }; result: string[] };
  };
  webviewNotifications: Record<string, never>;
}
