// The runs table's state in the webview, without DOM: rows, columns and their
// layout, sorting, grouping and CSV. Pure, so unit tests and the benchmark
// exercise exactly what the panel runs.

import { exactNumber, fromWire } from '../../src/protocol/common';
import type { RunRow, RunsDelta, RunsTableData } from '../../src/protocol/runsTable';
import type { RunAttributes } from '../../src/protocol/runTypes';
import { toCsv } from '../common/csv';
import { durationSeconds, formatNumber, formatSeconds, formatTime, isNumericText } from '../common/format';

export interface RunRecord extends RunAttributes {
  params: (string | null)[];
  /** latest, min, max per metric key (3 per key); undefined when missing. */
  metrics: (number | undefined)[];
  /** "✓" or "✗ …" against mlops.yaml's objectives, from the host. */
  objectives?: string;
  /** The pipeline run this run is a stage of. */
  pipeline?: string;
}

export type ColumnKind = 'attr' | 'param' | 'metric';
export type MetricAgg = 'latest' | 'min' | 'max';

export interface Column {
  id: string;
  kind: ColumnKind;
  key: string;
  /** Index into params or metric keys. */
  index: number;
  agg?: MetricAgg;
  label: string;
  /** Name in a CSV header and in the filter syntax. */
  qualified: string;
  width: number;
}

const ATTRIBUTES: { key: string; label: string; width: number }[] = [
  { key: 'name', label: 'Name', width: 180 },
  { key: 'experiment', label: 'Experiment', width: 120 },
  { key: 'status', label: 'Status', width: 96 },
  { key: 'start', label: 'Start', width: 172 },
  { key: 'duration', label: 'Duration', width: 80 },
  { key: 'source', label: 'Source', width: 76 },
  { key: 'id', label: 'Run ID', width: 110 },
  { key: 'pipeline', label: 'Pipeline', width: 110 },
];

/** Shown after Status when mlops.yaml declares objectives with targets. */
const OBJECTIVES_COLUMN = { key: 'objectives', label: 'Objectives', width: 120 };

export function columnsOf(paramKeys: string[], metricKeys: string[], hasObjectives = false): Column[] {
  const attributes = hasObjectives ? [...ATTRIBUTES.slice(0, 3), OBJECTIVES_COLUMN, ...ATTRIBUTES.slice(3)] : ATTRIBUTES;
  const cols: Column[] = attributes.map((a, i) => ({ id: `attr:${a.key}`, kind: 'attr', key: a.key, index: i, label: a.label, qualified: a.key === 'name' ? 'run_name' : a.key, width: a.width }));
  paramKeys.forEach((key, i) => cols.push({ id: `param:${key}`, kind: 'param', key, index: i, label: key, qualified: `params.${key}`, width: 100 }));
  metricKeys.forEach((key, i) => {
    cols.push({ id: `metric:${key}`, kind: 'metric', key, index: i, agg: 'latest', label: key, qualified: `metrics.${key}`, width: 104 });
    cols.push({ id: `metric.min:${key}`, kind: 'metric', key, index: i, agg: 'min', label: `${key} (min)`, qualified: `metrics.${key} (min)`, width: 104 });
    cols.push({ id: `metric.max:${key}`, kind: 'metric', key, index: i, agg: 'max', label: `${key} (max)`, qualified: `metrics.${key} (max)`, width: 104 });
  });
  return cols;
}

/** Which columns show, in what order, and which stay at the left while scrolling. */
export interface ColumnLayout {
  /** Column ids in the user's order; columns not listed follow in their natural order. */
  order: string[];
  /** Hidden by the user. */
  hidden: string[];
  /** Shown by the user although hidden by default (min/max, run id). */
  shown: string[];
  pinned: string[];
}

export const DEFAULT_LAYOUT: ColumnLayout = { order: [], hidden: [], shown: [], pinned: ['attr:name'] };

function hiddenByDefault(col: Column): boolean {
  return col.id === 'attr:id' || col.id === 'attr:pipeline' || (col.kind === 'metric' && col.agg !== 'latest');
}

export function isVisible(col: Column, layout: ColumnLayout): boolean {
  if (layout.hidden.includes(col.id)) return false;
  return !hiddenByDefault(col) || layout.shown.includes(col.id);
}

/** Every column in display order: pinned first (in order), then the rest. */
export function orderedColumns(all: Column[], layout: ColumnLayout): Column[] {
  const rank = new Map(layout.order.map((id, i) => [id, i]));
  const natural = new Map(all.map((c, i) => [c.id, i]));
  const sorted = [...all].sort((a, b) => {
    const ra = rank.get(a.id), rb = rank.get(b.id);
    if (ra !== undefined && rb !== undefined) return ra - rb;
    if (ra !== undefined) return -1;
    if (rb !== undefined) return 1;
    return natural.get(a.id)! - natural.get(b.id)!;
  });
  const pinned = layout.pinned.map((id) => sorted.find((c) => c.id === id)).filter((c): c is Column => !!c);
  return [...pinned, ...sorted.filter((c) => !layout.pinned.includes(c.id))];
}

export function visibleColumns(all: Column[], layout: ColumnLayout): Column[] {
  return orderedColumns(all, layout).filter((c) => isVisible(c, layout));
}

export function setVisible(layout: ColumnLayout, col: Column, visible: boolean): ColumnLayout {
  const hidden = layout.hidden.filter((id) => id !== col.id);
  const shown = layout.shown.filter((id) => id !== col.id);
  if (!visible) hidden.push(col.id);
  else if (hiddenByDefault(col)) shown.push(col.id);
  return { ...layout, hidden, shown };
}

export function setPinned(layout: ColumnLayout, id: string, pinned: boolean): ColumnLayout {
  const rest = layout.pinned.filter((p) => p !== id);
  return { ...layout, pinned: pinned ? [...rest, id] : rest };
}

/** Moves column `id` before `beforeId` (or to the end when null), in the full order. */
export function moveColumn(all: Column[], layout: ColumnLayout, id: string, beforeId: string | null): ColumnLayout {
  const order = orderedColumns(all, { ...layout, pinned: [] }).map((c) => c.id).filter((c) => c !== id);
  const at = beforeId === null ? order.length : order.indexOf(beforeId);
  order.splice(at < 0 ? order.length : at, 0, id);
  // Pinned columns keep their pin; their relative order follows the new order.
  const pinned = order.filter((c) => layout.pinned.includes(c));
  return { ...layout, order, pinned };
}

/** Moves a column one place left (-1) or right (+1) among the visible ones. */
export function shiftColumn(all: Column[], layout: ColumnLayout, id: string, by: -1 | 1): ColumnLayout {
  const visible = visibleColumns(all, layout).map((c) => c.id);
  const i = visible.indexOf(id);
  const j = i + by;
  if (i < 0 || j < 0 || j >= visible.length) return layout;
  return by < 0 ? moveColumn(all, layout, id, visible[j]) : moveColumn(all, layout, visible[j], id);
}

// ---------------------------------------------------------------- rows

export class RunStore {
  readonly rows = new Map<string, RunRecord>();
  paramKeys: string[] = [];
  metricKeys: string[] = [];
  hasObjectives = false;
  columns: Column[] = columnsOf([], []);

  load(data: RunsTableData): void {
    this.rows.clear();
    this.hasObjectives = data.hasObjectives ?? false;
    this.setKeys(data.paramKeys, data.metricKeys);
    for (const row of data.rows) this.rows.set(row.id, decode(row));
  }

  apply(delta: RunsDelta): void {
    if (delta.paramKeys.length !== this.paramKeys.length || delta.metricKeys.length !== this.metricKeys.length) this.setKeys(delta.paramKeys, delta.metricKeys);
    for (const id of delta.removed) this.rows.delete(id);
    for (const row of delta.upserts) this.rows.set(row.id, decode(row));
  }

  private setKeys(paramKeys: string[], metricKeys: string[]): void {
    this.paramKeys = [...paramKeys];
    this.metricKeys = [...metricKeys];
    this.columns = columnsOf(this.paramKeys, this.metricKeys, this.hasObjectives);
  }
}

function decode(row: RunRow): RunRecord {
  const metrics = new Array<number | undefined>(row.metrics.length);
  for (let i = 0; i < row.metrics.length; i++) metrics[i] = fromWire(row.metrics[i]);
  return { id: row.id, name: row.name, experiment: row.experiment, status: row.status, source: row.source, start: row.start, end: row.end, params: row.params, metrics, pipeline: row.pipeline, ...(row.objectives ? { objectives: row.objectives } : {}) };
}

const AGG_OFFSET: Record<MetricAgg, number> = { latest: 0, min: 1, max: 2 };

/** The value a cell sorts by: numbers for metrics, times and durations, text otherwise. */
export function cellValue(row: RunRecord, col: Column, now: number): number | string | undefined {
  switch (col.kind) {
    case 'metric':
      return row.metrics[col.index * 3 + AGG_OFFSET[col.agg ?? 'latest']];
    case 'param': {
      const v = row.params[col.index];
      return v === null || v === undefined ? undefined : v;
    }
    case 'attr':
      switch (col.key) {
        case 'name': return row.name;
        case 'experiment': return row.experiment;
        case 'status': return row.status;
        case 'start': return row.start ?? undefined;
        case 'duration': return durationSeconds(row.start, row.end, now);
        case 'source': return row.source;
        case 'objectives': return row.objectives;
        case 'pipeline': return row.pipeline;
        default: return row.id;
      }
  }
}

export function cellText(row: RunRecord, col: Column, now: number): string {
  const v = cellValue(row, col, now);
  if (v === undefined) return '';
  if (col.kind === 'metric') return formatNumber(v as number);
  if (col.kind === 'attr' && col.key === 'start') return formatTime(v as number);
  if (col.kind === 'attr' && col.key === 'duration') return formatSeconds(v as number);
  if (col.kind === 'attr' && col.key === 'id') return (v as string).slice(0, 12);
  return String(v);
}

/** The tooltip of a metric cell: latest, min and max together. */
export function metricTooltip(row: RunRecord, col: Column): string {
  const at = col.index * 3;
  const [latest, min, max] = [row.metrics[at], row.metrics[at + 1], row.metrics[at + 2]];
  if (latest === undefined && min === undefined) return '';
  return `${col.key}\nlatest ${formatNumber(latest)}\nmin ${formatNumber(min)}\nmax ${formatNumber(max)}`;
}

/** Sort key: numbers (and numeric text) before other text; NaN and missing last. */
function sortKey(v: number | string | undefined): [number, number | string] {
  if (v === undefined) return [3, 0];
  if (typeof v === 'number') return Number.isNaN(v) ? [2, 0] : [0, v];
  if (isNumericText(v)) return [0, Number(v)];
  return [1, v.toLowerCase()];
}

function compareKeys(a: [number, number | string], b: [number, number | string]): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] < b[1]) return -1;
  if (a[1] > b[1]) return 1;
  return 0;
}

/** Sorted copy; missing values stay last in both directions; ties keep the input order. */
export function sortRows(rows: RunRecord[], col: Column | undefined, descending: boolean, now: number): RunRecord[] {
  if (!col) return rows;
  const keyed = rows.map((row, i) => ({ row, i, key: sortKey(cellValue(row, col, now)) }));
  keyed.sort((a, b) => {
    const aMissing = a.key[0] >= 2, bMissing = b.key[0] >= 2;
    if (aMissing !== bMissing) return aMissing ? 1 : -1;
    const c = compareKeys(a.key, b.key);
    // Among missing values the order never flips: NaN, then no value.
    return (descending && !aMissing ? -c : c) || a.i - b.i;
  });
  return keyed.map((k) => k.row);
}

export type TableItem =
  | { type: 'group'; key: string; label: string; count: number; collapsed: boolean }
  | { type: 'run'; row: RunRecord };

/** `groupBy` is null, "experiment", "status" or a param column id ("param:lr"). */
export function groupLabel(groupBy: string): string {
  if (groupBy === 'experiment') return 'Experiment';
  if (groupBy === 'status') return 'Status';
  if (groupBy === 'pipeline') return 'Pipeline run';
  return `params.${groupBy.replace(/^param:/, '')}`;
}

function groupValue(row: RunRecord, groupBy: string, store: RunStore): string {
  if (groupBy === 'experiment') return row.experiment;
  if (groupBy === 'status') return row.status;
  if (groupBy === 'pipeline') return row.pipeline ?? '(not in a pipeline)';
  const i = store.paramKeys.indexOf(groupBy.replace(/^param:/, ''));
  const v = i < 0 ? null : row.params[i];
  return v === null || v === undefined ? '(none)' : v;
}

/** The rows to show: filtered (match null = all), sorted, and grouped with group headers. */
export function buildItems(
  store: RunStore,
  match: Set<string> | null,
  sort: { column: string; descending: boolean } | null,
  groupBy: string | null,
  collapsed: Set<string>,
  now: number,
): { items: TableItem[]; shown: RunRecord[] } {
  let rows = [...store.rows.values()];
  if (match) rows = rows.filter((r) => match.has(r.id));
  const sortCol = sort ? store.columns.find((c) => c.id === sort.column) : undefined;
  rows = sortRows(rows, sortCol, sort?.descending ?? false, now);
  if (!groupBy) return { items: rows.map((row) => ({ type: 'run', row })), shown: rows };
  const groups = new Map<string, RunRecord[]>();
  for (const row of rows) {
    const key = groupValue(row, groupBy, store);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(row);
  }
  const keys = [...groups.keys()].sort((a, b) => compareKeys(sortKey(a), sortKey(b)));
  const items: TableItem[] = [];
  const shown: RunRecord[] = [];
  for (const key of keys) {
    const list = groups.get(key)!;
    const isCollapsed = collapsed.has(key);
    items.push({ type: 'group', key, label: `${groupLabel(groupBy)}: ${key}`, count: list.length, collapsed: isCollapsed });
    shown.push(...list);
    if (!isCollapsed) for (const row of list) items.push({ type: 'run', row });
  }
  return { items, shown };
}

/** The visible table as CSV: shown rows (all of them, not only those scrolled into view), visible columns. */
export function tableCsv(rows: RunRecord[], columns: Column[], now: number): string {
  const header = columns.map((c) => (c.kind === 'attr' ? (c.key === 'id' ? 'run_id' : c.qualified) : c.qualified));
  const lines = rows.map((row) =>
    columns.map((c) => {
      const v = cellValue(row, c, now);
      if (v === undefined) return '';
      if (c.kind === 'metric') return exactNumber(v as number); // full precision in files, -0 with its sign
      if (c.kind === 'attr' && c.key === 'start') return formatTime(v as number);
      return String(v);
    }),
  );
  return toCsv(header, lines);
}
