// The runs table's data on the extension side: every run as a compact row,
// deltas as runs change, and the filter query evaluated here (where the
// parser lives). No `vscode` import: unit tests drive it on a real Tracking.

import { toWire } from '../../protocol/common';
import type { FilterResult, RunRow, RunsDelta, RunsTableData } from '../../protocol/runsTable';
import { queryRunOf, type CompiledRunQuery, type QueryRun } from '../../core/tracking/runQuery';
import { filterRunIds } from '../../core/tracking/runQuery';
import type { MetricSummary, RunSummary } from '../../core/tracking/store';
import type { Tracking } from '../../core/tracking/tracking';
import { judgeObjectives, readObjectivesOrNone, verdictText, type Objective } from '../../core/workspace/objectives';
import { PIPELINE_RUN_TAG } from '../../core/pipelines/tags';

export type CompileQuery = (text: string) => CompiledRunQuery;

interface Known {
  summary: RunSummary;
  query: QueryRun;
}

/** Keys (params, metrics) in first-seen order; indices never change within a model. */
class KeyList {
  readonly keys: string[] = [];
  private readonly index = new Map<string, number>();

  indexOf(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.keys.push(key);
      this.index.set(key, i);
    }
    return i;
  }
}

export class RunsTableModel {
  private paramKeys = new KeyList();
  private metricKeys = new KeyList();
  private known = new Map<string, Known>();
  private filter: CompiledRunQuery & { ok: true } = { ok: true, query: '' };
  /** Read at each load, so an edited mlops.yaml shows when the table reloads. */
  private objectives = new Map<string, Objective>();

  constructor(private readonly tracking: () => Tracking | undefined, private readonly compile: CompileQuery) {}

  /** Every run, from scratch (a webview that just loaded). */
  load(): RunsTableData {
    this.paramKeys = new KeyList();
    this.metricKeys = new KeyList();
    this.known.clear();
    const t = this.tracking();
    if (!t) return { paramKeys: [], metricKeys: [], rows: [] };
    this.objectives = readObjectivesOrNone(t.layout.root);
    const runs = t.listRuns();
    const rows = this.rowsOf(t, runs);
    const hasObjectives = [...this.objectives.values()].some((o) => o.target !== undefined);
    return { paramKeys: [...this.paramKeys.keys], metricKeys: [...this.metricKeys.keys], rows, ...(hasObjectives ? { hasObjectives } : {}) };
  }

  /**
   * What changed since the last load or refresh; undefined when nothing did.
   * `listed`: the index's run list, when the caller has read it already (one read for every panel).
   */
  refresh(listed?: RunSummary[]): RunsDelta | undefined {
    const t = this.tracking();
    if (!t) return undefined;
    const runs = listed ?? t.listRuns();
    const present = new Set<string>();
    const changed: RunSummary[] = [];
    for (const run of runs) {
      present.add(run.id);
      const before = this.known.get(run.id);
      // Active runs change all the time; an ended run changes only when renamed, ended or moved.
      if (!before || before.summary.status === 'RUNNING' || differs(before.summary, run)) {
        changed.push(run);
      }
    }
    const removed = [...this.known.keys()].filter((id) => !present.has(id));
    for (const id of removed) this.known.delete(id);
    if (!changed.length && !removed.length) return undefined;
    const upserts = this.rowsOf(t, changed);
    const delta: RunsDelta = { paramKeys: [...this.paramKeys.keys], metricKeys: [...this.metricKeys.keys], upserts, removed };
    if (this.filter.test) {
      delta.filter = { query: this.filter.query, matching: filterRunIds(this.filter, changed.map((r) => this.known.get(r.id)!.query)) ?? [] };
    }
    return delta;
  }

  /** Sets the filter (kept for later deltas when it parses) and says which runs match. */
  setFilter(text: string): FilterResult {
    const compiled = this.compile(text);
    if (!compiled.ok) return { ok: false, query: compiled.query, error: compiled.error };
    this.filter = compiled;
    const matching = filterRunIds(compiled, [...this.known.values()].map((k) => k.query));
    return { ok: true, query: compiled.query, matching };
  }

  get filterQuery(): string {
    return this.filter.query;
  }

  private rowsOf(t: Tracking, runs: RunSummary[]): RunRow[] {
    if (!runs.length) return [];
    // Many runs: one query over every row beats a long IN list (and its host-parameter limit).
    const ids = runs.length > BULK_THRESHOLD ? undefined : runs.map((r) => r.id);
    const metrics = t.metricsOf(ids);
    const allParams = t.paramsOf(ids);
    const allTags = t.tagsOf(ids);
    const rows: RunRow[] = [];
    for (const run of runs) {
      const params = allParams.get(run.id) ?? {};
      const tags = allTags.get(run.id) ?? {};
      const list = metrics.get(run.id) ?? [];
      rows.push(this.row(run, params, list, tags[PIPELINE_RUN_TAG]));
      this.known.set(run.id, { summary: run, query: queryRunOf(run, params, list, tags) });
    }
    return rows;
  }

  private row(run: RunSummary, params: Record<string, string>, metrics: MetricSummary[], pipeline: string | undefined): RunRow {
    const p: (string | null)[] = [];
    for (const [key, value] of Object.entries(params)) {
      const i = this.paramKeys.indexOf(key);
      while (p.length < i) p.push(null);
      p[i] = value;
    }
    const m: RunRow['metrics'] = [];
    for (const metric of metrics) {
      const i = this.metricKeys.indexOf(metric.key) * 3;
      while (m.length < i) m.push(null);
      m[i] = toWire(metric.latest);
      m[i + 1] = toWire(metric.min);
      m[i + 2] = toWire(metric.max);
    }
    const verdict = judgeObjectives(this.objectives, (key) => metrics.find((x) => x.key === key)?.latest);
    return {
      id: run.id, name: run.name, experiment: run.experiment, status: run.status, source: run.source,
      start: run.start_time, end: run.end_time, params: p, metrics: m, ...(pipeline ? { pipeline } : {}),
      ...(verdict ? { objectives: verdictText(verdict) } : {}),
    };
  }
}

const BULK_THRESHOLD = 500;

function differs(a: RunSummary, b: RunSummary): boolean {
  return a.name !== b.name || a.status !== b.status || a.end_time !== b.end_time || a.experiment !== b.experiment || a.start_time !== b.start_time;
}
