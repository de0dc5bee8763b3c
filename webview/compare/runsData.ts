// Tables and axes built from the compared runs' params and metrics, without
// DOM: the parameter diff, the parallel-coordinates dimensions and the
// scatter's fields. Pure, so unit tests check what the panel shows.

import { exactNumber, fromWire } from '../../src/protocol/common';
import type { CompareRun } from '../../src/protocol/compare';
import { toCsv } from '../common/csv';
import { isNumericText } from '../common/format';

export interface DiffRow {
  key: string;
  values: string[];
  /** True when the runs do not all have the same value (a missing value counts as different). */
  differs: boolean;
}

/** One row per param key of any run, sorted by key; `values` in run order ('' when missing). */
export function paramDiff(runs: CompareRun[]): DiffRow[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.params)) keys.add(k);
  return [...keys].sort().map((key) => {
    const values = runs.map((r) => r.params[key] ?? '');
    const present = runs.map((r) => key in r.params);
    const differs = runs.length > 1 && (new Set(values).size > 1 || present.some((p) => !p));
    return { key, values, differs };
  });
}

export function paramDiffCsv(runs: CompareRun[], onlyDifferences: boolean): string {
  const rows = paramDiff(runs).filter((r) => !onlyDifferences || r.differs);
  return toCsv(['param', ...runs.map((r) => r.name)], rows.map((r) => [r.key, ...r.values]));
}

/** A field of a run that an axis can show: a param, or a metric's latest/min/max. */
export interface Field {
  id: string;
  label: string;
  kind: 'param' | 'metric';
  /** Numeric values; otherwise categories, placed evenly. */
  numeric: boolean;
  categories: string[];
}

export function fieldsOf(runs: CompareRun[], metricKeys: string[]): Field[] {
  const params = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.params)) params.add(k);
  const fields: Field[] = [];
  for (const key of [...params].sort()) {
    const values = runs.map((r) => r.params[key]).filter((v): v is string => v !== undefined);
    const numeric = values.length > 0 && values.every(isNumericText);
    fields.push({ id: `param:${key}`, label: `params.${key}`, kind: 'param', numeric, categories: numeric ? [] : [...new Set(values)].sort() });
  }
  for (const key of metricKeys) {
    fields.push({ id: `metric:${key}`, label: `metrics.${key}`, kind: 'metric', numeric: true, categories: [] });
    fields.push({ id: `metric.min:${key}`, label: `metrics.${key} (min)`, kind: 'metric', numeric: true, categories: [] });
    fields.push({ id: `metric.max:${key}`, label: `metrics.${key} (max)`, kind: 'metric', numeric: true, categories: [] });
  }
  return fields;
}

/** The run's value of a field: a number, or a category's index; undefined when missing. */
export function fieldValue(run: CompareRun, field: Field): number | undefined {
  const [prefix, ...rest] = field.id.split(':');
  const key = rest.join(':');
  if (prefix === 'param') {
    const v = run.params[key];
    if (v === undefined) return undefined;
    return field.numeric ? Number(v) : field.categories.indexOf(v);
  }
  const m = run.metrics[key];
  if (!m) return undefined;
  const v = fromWire(prefix === 'metric.min' ? m.min : prefix === 'metric.max' ? m.max : m.latest);
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

export interface Dimension {
  field: Field;
  min: number;
  max: number;
}

/** The param fields whose value is not the same in every run (a missing value counts as different). */
function differingParams(runs: CompareRun[], fields: Field[]): Field[] {
  return fields.filter((f) => f.kind === 'param' && new Set(runs.map((r) => r.params[f.id.slice(6)] ?? '')).size > 1);
}

/**
 * The scatter's x axis before the user picks one: a param that differs between
 * the runs (numeric first), else a numeric param, else the first field.
 */
export function defaultScatterX(runs: CompareRun[], fields: Field[]): Field | undefined {
  const differing = differingParams(runs, fields);
  return differing.find((f) => f.numeric) ?? differing[0] ?? fields.find((f) => f.kind === 'param' && f.numeric) ?? fields[0];
}

/**
 * Parallel coordinates: the params that differ between the runs (all params
 * when they never differ), then the chosen metric as the last axis.
 */
export function parallelDimensions(runs: CompareRun[], fields: Field[], metric: string | null): Dimension[] {
  const params = fields.filter((f) => f.kind === 'param');
  const differing = differingParams(runs, fields);
  const chosen = [...(differing.length ? differing : params)];
  const metricField = metric ? fields.find((f) => f.id === `metric:${metric}`) : undefined;
  if (metricField) chosen.push(metricField);
  return chosen.map((field) => {
    if (!field.numeric) return { field, min: 0, max: Math.max(1, field.categories.length - 1) };
    const values = runs.map((r) => fieldValue(r, field)).filter((v): v is number => v !== undefined);
    const min = values.length ? Math.min(...values) : 0;
    const max = values.length ? Math.max(...values) : 1;
    return { field, min, max };
  });
}

/** The run's position on a dimension, 0 (bottom) to 1 (top); undefined when it has no value. */
export function normalized(run: CompareRun, dim: Dimension): number | undefined {
  const v = fieldValue(run, dim.field);
  if (v === undefined) return undefined;
  if (dim.max === dim.min) return 0.5;
  return (v - dim.min) / (dim.max - dim.min);
}

/** The runs' params and latest metrics as CSV (the data behind the parallel and scatter charts). */
export function runsCsv(runs: CompareRun[], fields: Field[]): string {
  const cols = fields.filter((f) => f.kind === 'param' || f.id.startsWith('metric:'));
  return toCsv(
    ['run_id', 'run_name', ...cols.map((f) => f.label)],
    runs.map((r) => [
      r.id,
      r.name,
      ...cols.map((f) => {
        if (f.kind === 'param') return r.params[f.id.slice(6)] ?? '';
        const v = fieldValue(r, f);
        return v === undefined ? '' : exactNumber(v);
      }),
    ]),
  );
}
