// The comparison panel's data on the extension side: the chosen runs, their
// curves downsampled before they leave (LTTB with min/max kept), the detail of
// a zoomed range, full-resolution CSV, and what changed while runs are active.
// No `vscode` import: unit tests drive it on a real Tracking.

import { exactNumber, toWire } from '../../protocol/common';
import { csvCell } from '../../protocol/csv';
import { defaultMetric, pointsPerRun, relativeOrigin, type CompareData, type ObjectiveInfo, type CompareLoadParams, type CompareRun, type CompareUpdate, type MetricInfo, type Series, type SeriesRequest, type SeriesResult } from '../../protocol/compare';
import { downsampleHistory } from '../../core/tracking/downsample';
import type { MetricPoints } from '../../core/tracking/metricHistory';
import type { MetricSummary, RunSummary } from '../../core/tracking/store';
import type { Tracking } from '../../core/tracking/tracking';
import { readObjectivesOrNone } from '../../core/workspace/objectives';

/** Bounds on what a webview may ask for. */
const MAX_POINTS_PER_SERIES = 5000;
const MIN_POINTS_PER_SERIES = 16;
/** The chart width, in pixels, a panel usually has when the host prepares its first curves. */
const USUAL_CHART_WIDTH = 1000;
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

  /**
   * The chosen runs as they are now; ids of deleted runs come back in `missing`. With `first`
   * (what the panel draws first), the curves of that metric come along.
   */
  load(first?: CompareLoadParams): CompareData {
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
      runs.push(compareRun(detail, detail.params, detail.metrics));
      this.shown.set(id, shownOf(detail, detail.metrics));
    }
    // Deleted runs leave the set, so a reload does not complain about them again.
    if (missing.length) this.ids = this.ids.filter((id) => !missing.includes(id));
    this.keys = new Set(metricKeys(runs));
    const objectives = t ? [...readObjectivesOrNone(t.layout.root).values()] : [];
    const data: CompareData = { runs, missing, metricKeys: [...this.keys], ...(objectives.length ? { objectives } : {}) };
    const curves = first && this.firstCurves(first, runs.length, objectives);
    if (curves) data.curves = curves;
    return data;
  }

  /**
   * Computes the curves a panel of the usual width draws first, while its script loads: the
   * load that follows answers with them unless the runs, the metric, the width, the smoothing
   * or the points changed meanwhile.
   */
  prepare(): void {
    this.prepared = undefined;
    if (!this.tracking()) return;
    const ids = this.ids;
    const { metricKeys: keys, runs, objectives } = this.load();
    this.ids = ids; // the panel's own load still names the deleted runs
    const metric = defaultMetric(keys, objectives);
    if (metric === null) return;
    const request = { metric, maxPoints: pointsPerRun(USUAL_CHART_WIDTH, runs.length) };
    this.prepared = { key: this.curvesKey(request), result: this.series(request) };
  }

  private prepared: { key: string; result: SeriesResult } | undefined;

  private firstCurves(first: CompareLoadParams, runs: number, objectives: ObjectiveInfo[]): SeriesResult | undefined {
    // The panel's own rule (defaultMetric), so the curves sent are the ones it draws.
    const metric = typeof first.metric === 'string' && this.keys.has(first.metric) ? first.metric : defaultMetric([...this.keys], objectives);
    if (metric === null) return undefined;
    const request: SeriesRequest = { metric, maxPoints: pointsPerRun(Number(first.chartWidth) || USUAL_CHART_WIDTH, runs), smoothing: first.smoothing };
    try {
      const key = this.curvesKey(request);
      const prepared = this.prepared?.key === key ? this.prepared.result : undefined;
      this.prepared = undefined;
      return prepared ?? this.series(request);
    } catch {
      return undefined; // a bad request: the panel asks for its curves and gets the error then
    }
  }

  /** What makes curves the same: runs, metric, points per run, smoothing, and the points each run has. */
  private curvesKey(request: SeriesRequest): string {
    const t = this.tracking();
    const counts = t ? pointCounts(t, this.ids, request.metric) : new Map<string, number>();
    return JSON.stringify([request.metric, request.maxPoints, request.smoothing ?? 0, this.ids.map((id) => counts.get(id) ?? -1), this.ids]);
  }

  /** Curves of one metric for the shown runs (or `runIds` of them), downsampled for the chart. */
  series(request: SeriesRequest): SeriesResult {
    const t = this.tracking();
    if (typeof request?.metric !== 'string') throw new Error('series: "metric" must be a metric key');
    const maxPoints = clamp(Math.floor(Number(request.maxPoints) || 1000), MIN_POINTS_PER_SERIES, MAX_POINTS_PER_SERIES);
    const range = validRange(request.range);
    const smoothing = validSmoothing(request.smoothing);
    const wanted = request.runIds ? this.ids.filter((id) => request.runIds!.includes(id)) : this.ids;
    const series: Series[] = [];
    if (t) {
      const counts = pointCounts(t, wanted, request.metric);
      const runs = range?.axis === 'relative' ? runsById(t) : undefined;
      for (const id of wanted) {
        const history = this.history(t, id, request.metric, counts.get(id));
        if (!history) continue;
        series.push({ runId: id, ...downsampleHistory(history, { maxPoints, smoothing, range: range && timeRange(range, runs?.get(id)?.start_time ?? null, history) }) });
      }
    }
    return { metric: request.metric, range: range ?? null, series };
  }

  /** Every point of a metric of the shown runs, one line per point: run, step, time, value. */
  csv(metric: string): string {
    const t = this.tracking();
    const lines = ['run_id,run_name,metric,step,timestamp_ms,value'];
    if (!t) return lines.join('\n') + '\n';
    const runs = runsById(t);
    const counts = pointCounts(t, this.ids, metric);
    for (const id of this.ids) {
      const run = runs.get(id);
      if (!run) continue;
      const h = this.history(t, id, metric, counts.get(id));
      if (!h) continue;
      const prefix = `${csvCell(id)},${csvCell(run.name)},${csvCell(metric)}`;
      for (let i = 0; i < h.values.length; i++) lines.push(`${prefix},${h.steps[i]},${h.times[i]},${exactNumber(h.values[i])}`);
    }
    return lines.join('\n') + '\n';
  }

  /**
   * Runs that changed (new points, a new status) or were deleted since the last load or update.
   * `listed`: the index's run list, when the caller has read it already (one read for every panel).
   */
  update(listed?: RunSummary[]): CompareUpdate | undefined {
    const t = this.tracking();
    if (!t) return undefined;
    const removed: { id: string; name: string }[] = [];
    const summaries = new Map((listed ?? t.listRuns()).map((r) => [r.id, r]));
    const candidates: RunSummary[] = [];
    for (const id of this.ids) {
      const before = this.shown.get(id);
      const summary = summaries.get(id);
      if (!summary) {
        if (before) removed.push({ id, name: before.name });
        continue;
      }
      if (before && before.status !== 'RUNNING' && before.status === summary.status && before.name === summary.name && before.end === summary.end_time) continue;
      candidates.push(summary);
    }
    // Metrics of the candidates, then params of those that changed: a query each, not a whole getRun per run.
    const metrics = candidates.length ? t.metricsOf(candidates.map((r) => r.id)) : new Map<string, MetricSummary[]>();
    const changed: RunSummary[] = [];
    for (const summary of candidates) {
      const before = this.shown.get(summary.id);
      const now = shownOf(summary, metrics.get(summary.id) ?? []);
      if (before && before.status === now.status && before.name === now.name && before.end === now.end && before.points === now.points) continue;
      this.shown.set(summary.id, now);
      changed.push(summary);
    }
    const params = changed.length ? t.paramsOf(changed.map((r) => r.id)) : new Map<string, Record<string, string>>();
    const runs = changed.map((r) => compareRun(r, params.get(r.id) ?? {}, metrics.get(r.id) ?? []));
    if (removed.length) {
      const gone = new Set(removed.map((r) => r.id));
      this.ids = this.ids.filter((id) => !gone.has(id));
      for (const id of gone) this.shown.delete(id);
    }
    if (!runs.length && !removed.length) return undefined;
    for (const k of metricKeys(runs)) this.keys.add(k);
    return { runs, removed, metricKeys: [...this.keys] };
  }

  /** The run's points of a metric; `count` (from pointCounts) tells a cached copy that is still whole. */
  private history(t: Tracking, runId: string, key: string, count: number | undefined): MetricPoints | undefined {
    if (count === undefined) return undefined;
    const cacheKey = `${runId}\u0000${key}`;
    const cached = this.cache.get(cacheKey);
    if (cached && cached.count === count) {
      // Most recently used last.
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, cached);
      return cached.points;
    }
    const points = t.metricHistory(runId, key);
    this.cache.set(cacheKey, { count, points });
    while (this.cache.size > HISTORY_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return points;
  }
}

function compareRun(r: RunSummary, params: Record<string, string>, list: MetricSummary[]): CompareRun {
  const metrics: Record<string, MetricInfo> = {};
  for (const m of list) metrics[m.key] = { latest: toWire(m.latest), min: toWire(m.min), max: toWire(m.max), step: m.step, count: m.count };
  return {
    id: r.id, name: r.name, experiment: r.experiment, status: r.status, source: r.source,
    start: r.start_time, end: r.end_time, params: { ...params }, metrics,
  };
}

function shownOf(r: RunSummary, metrics: MetricSummary[]): Shown {
  return { id: r.id, name: r.name, status: r.status, end: r.end_time, points: metrics.reduce((n, m) => n + m.count, 0) };
}

/** Every run in the index by id, as getRun finds them (runs deleted through MLflow included). */
function runsById(t: Tracking): Map<string, RunSummary> {
  return new Map(t.listRuns({ includeDeleted: true }).map((r) => [r.id, r]));
}

/** Points of one metric per run, in one query; a run that never logged it is absent. */
function pointCounts(t: Tracking, runIds: string[], key: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!runIds.length) return counts;
  for (const [id, metrics] of t.metricsOf(runIds)) {
    const m = metrics.find((x) => x.key === key);
    if (m) counts.set(id, m.count);
  }
  return counts;
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

function validSmoothing(smoothing: SeriesRequest['smoothing']): number {
  if (smoothing === undefined) return 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing < 1)) throw new Error('series: "smoothing" must be a number from 0 (none) to below 1');
  return smoothing;
}

/** A relative range (seconds since the run started) is a wall-time range of each run's own. */
function timeRange(range: NonNullable<SeriesRequest['range']>, startTime: number | null, history: MetricPoints): { axis: 'step' | 'time'; min: number; max: number } {
  if (range.axis !== 'relative') return { axis: range.axis, min: range.min, max: range.max };
  const start = relativeOrigin(startTime, history.times);
  return { axis: 'time', min: start + range.min * 1000, max: start + range.max * 1000 };
}

function unique(ids: string[]): string[] {
  return [...new Set(ids.filter((id) => typeof id === 'string' && id))];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
