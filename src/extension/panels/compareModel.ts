// The comparison panel's data on the extension side: the chosen runs, their
// curves downsampled before they leave (LTTB with min/max kept), the detail of
// a zoomed range, full-resolution CSV, and what changed while runs are active.
// No `vscode` import: unit tests drive it on a real Tracking.

import { toWire } from '../../protocol/common';
import { relativeOrigin, type CompareData, type CompareRun, type CompareUpdate, type MetricInfo, type Series, type SeriesRequest, type SeriesResult } from '../../protocol/compare';
import { downsampleHistory } from '../../core/tracking/downsample';
import type { MetricPoints } from '../../core/tracking/metricHistory';
import type { RunDetail } from '../../core/tracking/store';
import type { Tracking } from '../../core/tracking/tracking';

/** Bounds on what a webview may ask for. */
const MAX_POINTS_PER_SERIES = 5000;
const MIN_POINTS_PER_SERIES = 16;
/** Histories kept in memory between requests (zooming asks again for the same curves). */
const HISTORY_CACHE_ENTRIES = 256;

interface Shown {
  id: string;
  name: string;
  status: string;
  end: number | null;
  points: number;
}

export class CompareModel {
  private ids: string[];
  private shown = new Map<string, Shown>();
  private keys = new Set<string>();
  private readonly cache = new Map<string, { count: number; points: MetricPoints }>();

  constructor(private readonly tracking: () => Tracking | undefined, runIds: string[]) {
    this.ids = unique(runIds);
  }

  get runIds(): string[] {
    return [...this.ids];
  }

  setRuns(runIds: string[]): void {
    this.ids = unique(runIds);
    this.shown.clear();
  }

  /** The chosen runs as they are now; ids of deleted runs come back in `missing`. */
  load(): CompareData {
    const t = this.tracking();
    const runs: CompareRun[] = [];
    const missing: string[] = [];
    this.shown.clear();
    for (const id of this.ids) {
      const detail = t?.getRun(id);
      if (!detail) {
        missing.push(id);
        continue;
      }
      runs.push(compareRun(detail));
      this.shown.set(id, shownOf(detail));
    }
    // Deleted runs leave the set, so a reload does not complain about them again.
    if (missing.length) this.ids = this.ids.filter((id) => !missing.includes(id));
    this.keys = new Set(metricKeys(runs));
    return { runs, missing, metricKeys: [...this.keys] };
  }

  /** Curves of one metric for the shown runs (or `runIds` of them), downsampled for the chart. */
  series(request: SeriesRequest): SeriesResult {
    const t = this.tracking();
    if (typeof request?.metric !== 'string') throw new Error('series: "metric" must be a metric key');
    const maxPoints = clamp(Math.floor(Number(request.maxPoints) || 1000), MIN_POINTS_PER_SERIES, MAX_POINTS_PER_SERIES);
    const range = validRange(request.range);
    const wanted = request.runIds ? this.ids.filter((id) => request.runIds!.includes(id)) : this.ids;
    const series: Series[] = [];
    for (const id of wanted) {
      const history = t && this.history(t, id, request.metric);
      if (!history) continue;
      series.push({ runId: id, ...downsampleHistory(history, { maxPoints, range: range && timeRange(range, t!, id, history) }) });
    }
    return { metric: request.metric, range: range ?? null, series };
  }

  /** Every point of a metric of the shown runs, one line per point: run, step, time, value. */
  csv(metric: string): string {
    const t = this.tracking();
    const lines = ['run_id,run_name,metric,step,timestamp_ms,value'];
    if (!t) return lines.join('\n') + '\n';
    for (const id of this.ids) {
      const run = t.getRun(id);
      if (!run) continue;
      const h = this.history(t, id, metric);
      if (!h) continue;
      const prefix = `${csvCell(id)},${csvCell(run.name)},${csvCell(metric)}`;
      for (let i = 0; i < h.values.length; i++) lines.push(`${prefix},${h.steps[i]},${h.times[i]},${h.values[i]}`);
    }
    return lines.join('\n') + '\n';
  }

  /** Runs that changed (new points, a new status) or were deleted since the last load or update. */
  update(): CompareUpdate | undefined {
    const t = this.tracking();
    if (!t) return undefined;
    const runs: CompareRun[] = [];
    const removed: { id: string; name: string }[] = [];
    const summaries = new Map(t.listRuns().map((r) => [r.id, r]));
    for (const id of this.ids) {
      const before = this.shown.get(id);
      const summary = summaries.get(id);
      if (!summary) {
        if (before) removed.push({ id, name: before.name });
        continue;
      }
      if (before && before.status !== 'RUNNING' && before.status === summary.status && before.name === summary.name && before.end === summary.end_time) continue;
      const detail = t.getRun(id);
      if (!detail) continue;
      const now = shownOf(detail);
      if (before && before.status === now.status && before.name === now.name && before.end === now.end && before.points === now.points) continue;
      this.shown.set(id, now);
      runs.push(compareRun(detail));
    }
    if (removed.length) {
      const gone = new Set(removed.map((r) => r.id));
      this.ids = this.ids.filter((id) => !gone.has(id));
      for (const id of gone) this.shown.delete(id);
    }
    if (!runs.length && !removed.length) return undefined;
    for (const k of metricKeys(runs)) this.keys.add(k);
    return { runs, removed, metricKeys: [...this.keys] };
  }

  private history(t: Tracking, runId: string, key: string): MetricPoints | undefined {
    const summary = t.metricsOf([runId]).get(runId)?.find((m) => m.key === key);
    if (!summary) return undefined;
    const cacheKey = `${runId}\u0000${key}`;
    const cached = this.cache.get(cacheKey);
    if (cached && cached.count === summary.count) {
      // Most recently used last.
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, cached);
      return cached.points;
    }
    const points = t.metricHistory(runId, key);
    this.cache.set(cacheKey, { count: summary.count, points });
    while (this.cache.size > HISTORY_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return points;
  }
}

function compareRun(d: RunDetail): CompareRun {
  const metrics: Record<string, MetricInfo> = {};
  for (const m of d.metrics) metrics[m.key] = { latest: toWire(m.latest), min: toWire(m.min), max: toWire(m.max), step: m.step, count: m.count };
  return {
    id: d.id, name: d.name, experiment: d.experiment, status: d.status, source: d.source,
    start: d.start_time, end: d.end_time, params: { ...d.params }, metrics,
  };
}

function shownOf(d: RunDetail): Shown {
  return { id: d.id, name: d.name, status: d.status, end: d.end_time, points: d.metrics.reduce((n, m) => n + m.count, 0) };
}

function metricKeys(runs: CompareRun[]): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.metrics)) keys.add(k);
  return [...keys];
}

function validRange(range: SeriesRequest['range']): SeriesRequest['range'] {
  if (!range) return undefined;
  if (!['step', 'time', 'relative'].includes(range.axis) || !Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) {
    throw new Error('series: "range" needs axis "step", "time" or "relative" and finite min <= max');
  }
  return { axis: range.axis, min: range.min, max: range.max };
}

/** A relative range (seconds since the run started) is a wall-time range of each run's own. */
function timeRange(range: NonNullable<SeriesRequest['range']>, t: Tracking, runId: string, history: MetricPoints): { axis: 'step' | 'time'; min: number; max: number } {
  if (range.axis !== 'relative') return { axis: range.axis, min: range.min, max: range.max };
  const start = relativeOrigin(t.getRun(runId)?.start_time ?? null, history.times);
  return { axis: 'time', min: start + range.min * 1000, max: start + range.max * 1000 };
}

function unique(ids: string[]): string[] {
  return [...new Set(ids.filter((id) => typeof id === 'string' && id))];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
