import { encodeMetricValue, type MetricValueJson } from './events';
import type { ArtifactEntry, RunDetail, RunInput, RunSummary } from './store';

/**
 * The stable JSON shapes of `mlops runs list --json` and `mlops runs show --json`
 * (docs/cli.md). Times are milliseconds since the epoch; NaN and ±Infinity are
 * the strings "NaN", "Infinity", "-Infinity", as in the event log.
 */
export interface RunJson {
  id: string;
  name: string;
  experiment: string;
  status: string;
  source: string;
  start_time: number | null;
  end_time: number | null;
  exit_code: number | null;
}

export interface MetricJson { latest: MetricValueJson; step: number; min: MetricValueJson | null; max: MetricValueJson | null; count: number }

export interface RunDetailJson extends RunJson {
  params: Record<string, string>;
  metrics: Record<string, MetricJson>;
  tags: Record<string, string>;
  artifacts: ArtifactEntry[];
  inputs: RunInput[];
  capture: Record<string, unknown>;
}

export function runJson(r: RunSummary): RunJson {
  return {
    id: r.id, name: r.name, experiment: r.experiment, status: r.status, source: r.source,
    start_time: r.start_time, end_time: r.end_time, exit_code: r.exit_code,
  };
}

const orNull = (v: number | null): MetricValueJson | null => (v === null ? null : encodeMetricValue(v));

export function runDetailJson(d: RunDetail): RunDetailJson {
  const metrics: Record<string, MetricJson> = {};
  for (const m of [...d.metrics].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    metrics[m.key] = { latest: encodeMetricValue(m.latest), step: m.step, min: orNull(m.min), max: orNull(m.max), count: m.count };
  }
  return { ...runJson(d), params: d.params, metrics, tags: d.tags, artifacts: d.artifacts, inputs: d.inputs, capture: d.capture };
}
