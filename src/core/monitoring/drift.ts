import { binnedShares, driftTest, isSorted, type BinnedShares, type ColumnValues, type DriftTestName } from '../validation/statistics';
import { sortNumbers } from '../validation/sortNumbers';
import type { ColumnarTable, ColumnData } from './columns';

/** A column's test and threshold when not the default (`--column-test`, `monitoring.column_tests`). */
export interface ColumnTest { test: DriftTestName; threshold?: number }

export interface DriftOptions {
  columnTests?: Record<string, ColumnTest>;
  /** Dataset drift when at least this share of the features drifted (default 0.5). */
  driftShare?: number;
  /** Columns of the current table that are model outputs: judged as prediction drift, not in the dataset share. */
  predictions?: string[];
}

/** One side's histogram: shares per bin, over numeric edges or category values. */
export interface DriftHistogram {
  edges?: number[];
  categories?: string[];
  reference: number[];
  current: number[];
}

export interface ColumnDrift {
  column: string;
  role: 'feature' | 'prediction';
  kind: 'numeric' | 'categorical';
  test: DriftTestName;
  statistic: number;
  pValue?: number;
  threshold: number;
  drift: boolean;
  missing: { reference: number; current: number };
  /** Values the current data has that the reference never had (categorical columns). */
  newCategories?: { values: string[]; rows: number };
  histogram: DriftHistogram;
}

export interface DriftReport {
  reference: { label: string; rows: number };
  current: { label: string; rows: number };
  columns: ColumnDrift[];
  /** Feature columns only: the share that drifted, and whether that makes the dataset drifted. */
  dataset: { features: number; drifted: number; share: number; threshold: number; drift: boolean };
  /** Whether any model output drifted; undefined when neither side has outputs to compare. */
  predictionDrift?: boolean;
  /** Columns on one side only: not compared. */
  onlyIn: { reference: string[]; current: string[] };
}

export class DriftError extends Error {}

/** Categories kept by name in a report's histogram; the rest are summed into "(other)" so reports stay small. */
const MAX_CATEGORIES = 50;
const NEW_CATEGORIES_LISTED = 20;

function asCategorical(c: ColumnData): ColumnValues {
  if (c.kind === 'categorical') return { kind: 'categorical', counts: c.counts };
  const counts = new Map<string, number>();
  for (const v of c.values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return { kind: 'categorical', counts };
}

/** Sorts numeric columns in place once, so every test after reads them in linear time. */
function values(c: ColumnData, categorical: boolean): ColumnValues {
  if (categorical || c.kind === 'categorical') return asCategorical(c);
  if (!isSorted(c.values)) sortNumbers(c.values);
  return { kind: 'numeric', values: c.values };
}

function share(part: number, whole: number): number {
  return whole ? part / whole : 0;
}

function histogram(b: BinnedShares): DriftHistogram {
  if (b.edges) return { edges: [...b.edges], reference: [...b.ref], current: [...b.cur] };
  const keys = b.keys ?? [];
  const order = keys.map((_, i) => i).sort((x, y) => b.ref[y] + b.cur[y] - (b.ref[x] + b.cur[x]));
  const kept = order.slice(0, MAX_CATEGORIES);
  const rest = (shares: Float64Array) => order.slice(MAX_CATEGORIES).reduce((s, i) => s + shares[i], 0);
  const other = order.length > MAX_CATEGORIES;
  return {
    categories: [...kept.map((i) => keys[i]), ...(other ? ['(other)'] : [])],
    reference: [...kept.map((i) => b.ref[i]), ...(other ? [rest(b.ref)] : [])],
    current: [...kept.map((i) => b.cur[i]), ...(other ? [rest(b.cur)] : [])],
  };
}

function newCategories(ref: ColumnValues, cur: ColumnValues): ColumnDrift['newCategories'] {
  if (ref.kind !== 'categorical' || cur.kind !== 'categorical') return undefined;
  const fresh = [...cur.counts].filter(([k, n]) => n > 0 && !ref.counts.has(k)).sort((a, b) => b[1] - a[1]);
  if (!fresh.length) return undefined;
  return { values: fresh.slice(0, NEW_CATEGORIES_LISTED).map(([k]) => k), rows: fresh.reduce((s, [, n]) => s + n, 0) };
}

function compareColumn(column: string, role: ColumnDrift['role'], ref: ColumnData, cur: ColumnData, rows: { ref: number; cur: number }, chosen?: ColumnTest): ColumnDrift {
  const categorical = ref.kind !== cur.kind;
  const r = values(ref, categorical), c = values(cur, categorical);
  const missing = { reference: share(ref.missing, rows.ref), current: share(cur.missing, rows.cur) };
  const empty = (r.kind === 'numeric' ? r.values.length : r.counts.size) === 0 || (c.kind === 'numeric' ? c.values.length : c.counts.size) === 0;
  if (empty) throw new DriftError(`Column "${column}" has no values on the ${(r.kind === 'numeric' ? r.values.length : r.counts.size) === 0 ? 'reference' : 'current'} side (all missing); leave it out or fix the data.`);
  const shares = binnedShares(r, c);
  let result;
  try {
    result = driftTest(r, c, { test: chosen?.test, threshold: chosen?.threshold, shares });
  } catch (err) {
    throw new DriftError(`Column "${column}": ${(err as Error).message} It holds categories; give it chisquare, ztest, jensenshannon or psi.`);
  }
  const fresh = newCategories(r, c);
  return {
    column, role, kind: r.kind, test: result.test, statistic: result.statistic, ...(result.pValue !== undefined ? { pValue: result.pValue } : {}),
    threshold: result.threshold, drift: result.drift, missing, ...(fresh ? { newCategories: fresh } : {}), histogram: histogram(shares),
  };
}

/**
 * Compares current data with the reference column by column, with the test the reference
 * tool would pick (docs/monitoring.md) unless one is named, and judges the dataset by the
 * share of drifted features. Numeric columns of both tables are sorted in place.
 */
export function computeDrift(reference: ColumnarTable, current: ColumnarTable, options: DriftOptions = {}): DriftReport {
  const tests = options.columnTests ?? {};
  const shared = [...reference.columns.keys()].filter((c) => current.columns.has(c));
  for (const name of Object.keys(tests)) {
    if (!shared.includes(name)) throw new DriftError(`No column "${name}" on both sides to give a test to; the compared columns are: ${shared.join(', ') || '(none)'}.`);
  }
  if (!shared.length) throw new DriftError(`${reference.label} and ${current.label} share no column; compare data with the same column names.`);
  const predictions = new Set(options.predictions ?? []);
  const columns = shared.map((name) => compareColumn(name, predictions.has(name) ? 'prediction' : 'feature', reference.columns.get(name)!, current.columns.get(name)!, { ref: reference.rows, cur: current.rows }, tests[name]));
  const features = columns.filter((c) => c.role === 'feature');
  const drifted = features.filter((c) => c.drift).length;
  const threshold = options.driftShare ?? 0.5;
  const outputs = columns.filter((c) => c.role === 'prediction');
  return {
    reference: { label: reference.label, rows: reference.rows },
    current: { label: current.label, rows: current.rows },
    columns,
    dataset: { features: features.length, drifted, share: share(drifted, features.length), threshold, drift: features.length > 0 && share(drifted, features.length) >= threshold },
    ...(outputs.length ? { predictionDrift: outputs.some((c) => c.drift) } : {}),
    onlyIn: {
      reference: [...reference.columns.keys()].filter((c) => !current.columns.has(c)),
      current: [...current.columns.keys()].filter((c) => !reference.columns.has(c)),
    },
  };
}
