import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isSettled, reportDamagedLine } from '../workspace/appendLog';
import type { MlopsLayout } from '../workspace/layout';
import {
  decodeMetricValue, EventShapeError, validateEvent, type Capture, type CellEvent, type MlflowMetricsEvent, type RunEvent, type RunLifecycle,
  type RunSource, type RunStatus,
} from './events';
import { HistoryAppender, historyFileName, trimHistory } from './metricHistory';
import type { RunCursor, TrackingStore } from './store';

/** Params longer than this are cut in the index (the whole value stays in the event log). */
export const MAX_INDEXED_PARAM_CHARS = 64 * 1024;
/** A cell's error is cut to this in the index (the event log keeps it whole). */
const MAX_INDEXED_CELL_ERROR_CHARS = 4096;
const CHUNK_BYTES = 8 * 1024 * 1024;
/** Lines parsed between two points where an async pass may yield (a few ms of work). */
const LINES_PER_STEP = 2000;
/** Run cursors read between two points where an async pass may yield. */
const CURSORS_PER_STEP = 50;
/** An async pass gives the event loop a turn once it has worked this long (the extension host freezes meanwhile). */
const YIELD_AFTER_MS = 8;
const WARNINGS_PER_FILE = 20;

export interface IngestWarning { file: string; line: number; message: string }

export interface IngestResult {
  /** Runs whose rows changed (new lines read, or rebuilt). */
  changed: string[];
  /** Runs whose folder disappeared and whose rows were removed. */
  removed: string[];
  lines: number;
  warnings: IngestWarning[];
}

function emptyResult(): IngestResult {
  return { changed: [], removed: [], lines: 0, warnings: [] };
}

/** One metric's summary in the index: the latest point (MLflow's (step, timestamp, value) rule), min and max of the non-NaN values, and the count. */
export interface MetricAgg { latest: number; step: number; time: number; min: number | null; max: number | null; count: number }

/**
 * Points of one metric summarised away from the index (the MLflow endpoint's batch reader
 * thread), exactly as `apply` reads them: their summary and their history records, in order.
 */
export interface MetricPointsSummary { key: string; agg: MetricAgg; records: Float64Array }

/** What one ingest pass learned about one run, written to the store in one go. */
class RunBatch {
  fields: { name?: string; experiment?: string; source?: RunSource; start_time?: number; status?: RunStatus; end_time?: number; exit_code?: number | null; capture?: Capture; lifecycle?: RunLifecycle } = {};
  params = new Map<string, string>();
  /** A null value: the tag (artifact file) was deleted by the last event of this batch about it. */
  tags = new Map<string, string | null>();
  artifacts = new Map<string, { size: number; sha256: string } | null>();
  inputs = new Map<string, string[]>();
  cells: CellEvent[] = [];
  metrics = new Map<string, MetricAgg>();
  history = new HistoryAppender();
  historyFiles = new Map<string, string>();

  /** Reads one event into the batch; `warn` hears of what the index cannot keep whole. */
  apply(e: RunEvent, lineNo: number, warn: (line: number, message: string) => void): void {
    const f = this.fields;
    switch (e.type) {
      case 'run_start':
        f.name = e.name || undefined;
        f.experiment = e.experiment || 'Default';
        f.source = e.source ?? 'python';
        f.start_time = e.time;
        f.status ??= 'RUNNING';
        break;
      case 'capture':
        f.capture = e.capture;
        break;
      case 'param': {
        let value = e.value;
        if (value.length > MAX_INDEXED_PARAM_CHARS) {
          warn(lineNo, `param "${e.key}" is ${value.length} characters; the index keeps the first ${MAX_INDEXED_PARAM_CHARS} (the event log keeps it whole)`);
          value = value.slice(0, MAX_INDEXED_PARAM_CHARS);
        }
        this.params.set(e.key, value);
        break;
      }
      case 'tag':
        this.tags.set(e.key, e.value);
        break;
      case 'tag_delete':
        this.tags.set(e.key, null);
        break;
      case 'artifact_delete':
        this.artifacts.set(e.path, null);
        break;
      case 'lifecycle':
        f.lifecycle = e.stage;
        break;
      case 'artifact':
        this.artifacts.set(e.path, { size: e.size, sha256: e.sha256 });
        break;
      case 'metric':
        this.addPoint(e.key, e.step ?? 0, e.time, decodeMetricValue(e.value) as number);
        break;
      case 'metrics':
        // Point by point, exactly as the equivalent `metric` lines (each point's own timestamp as its time).
        for (const p of e.points) this.addPoint(p[0], p[2], p[3], typeof p[1] === 'number' ? p[1] : decodeMetricValue(p[1]) as number);
        break;
      case 'mlflow_metrics':
        for (const m of e.request.metrics) this.addPoint(m.key, m.step ?? 0, m.timestamp, m.value);
        break;
      case 'input':
        this.inputs.set(e.snapshot, e.paths);
        break;
      case 'cell':
        this.cells.push(e);
        break;
      case 'status':
        f.status = e.status;
        break;
      case 'rename':
        f.name = e.name;
        break;
      case 'move':
        f.experiment = e.experiment;
        break;
      case 'run_end':
        f.status = e.status;
        f.end_time = e.time;
        f.exit_code = e.exit_code ?? null;
        break;
    }
  }

  private addPoint(key: string, step: number, time: number, value: number): void {
    const agg = this.metrics.get(key);
    const finite = Number.isNaN(value) ? null : value;
    if (!agg) {
      this.metrics.set(key, { latest: value, step, time, min: finite, max: finite, count: 1 });
    } else {
      mergePoint(agg, step, time, value);
      agg.count++;
    }
    this.history.add(key, step, time, value);
  }

  /** Adds points summarised elsewhere; the same as applying them one by one. */
  mergeSummary(s: MetricPointsSummary): void {
    const agg = this.metrics.get(s.key);
    if (!agg) this.metrics.set(s.key, { ...s.agg });
    else mergeAgg(agg, s.agg);
    this.history.addRecords(s.key, s.records);
  }
}

/** The points of an `mlflow_metrics` event, summarised per key exactly as `apply` reads them (in key order of first sight). */
export function summariseMetrics(event: MlflowMetricsEvent): MetricPointsSummary[] {
  const batch = new RunBatch();
  batch.apply(event, 0, ignoreWarning);
  return [...batch.metrics].map(([key, agg]) => ({ key, agg, records: batch.history.recordsOf(key) }));
}

/**
 * Events this process appends to one run's log, as the bytes [from, to) (the MLflow endpoint's
 * write path): each is applied as it is written, through the same `apply` as a read, so nothing
 * of it stays in memory but the run's summaries and its new history records, until
 * Ingestor.commitAppended indexes them all in one transaction.
 */
export class AppendedEvents {
  readonly batch = new RunBatch();
  lines = 0;
  to: number;

  constructor(readonly from: number) {
    this.to = from;
  }

  /** `to`: where the log ends after these events' lines. */
  add(events: RunEvent[], to: number): void {
    for (const e of events) this.batch.apply(e, 0, ignoreWarning);
    this.lines += events.length;
    this.to = to;
  }

  /** One more line, `mlflow_metrics`, whose points were summarised elsewhere (summariseMetrics). */
  addSummaries(summaries: MetricPointsSummary[], to: number): void {
    for (const summary of summaries) this.batch.mergeSummary(summary);
    this.lines += 1;
    this.to = to;
  }

  /** Metric points waiting to be indexed. */
  get points(): number {
    return this.batch.history.records;
  }

  /** Whether the run's own row (name, status, lifecycle…) changes, not only its metrics, params, tags or artifacts. */
  get changesRunRow(): boolean {
    return Object.keys(this.batch.fields).length > 0;
  }
}

function ignoreWarning(): void {}

/**
 * Reads new lines of every run's event log into the store, incrementally (byte
 * offsets per run) and tolerantly (a bad line becomes a warning naming file and
 * line). With `persistHistory` false (a read-only process that does not own the
 * lock) it updates the in-memory summaries only and writes no history file.
 */
export class Ingestor {
  private readonly verified = new Set<string>();
  /**
   * Where each known run's log was read up to: loaded once, then kept current here, the only
   * writer of run rows (a rebuild clears the store and makes a new Ingestor).
   */
  private loadedCursors: Map<string, RunCursor> | undefined;

  constructor(
    private readonly store: TrackingStore,
    private readonly layout: MlopsLayout,
    private readonly persistHistory: boolean,
  ) {}

  ingest(onlyRuns?: string[]): IngestResult {
    const result = emptyResult();
    for (const _ of this.steps(result, onlyRuns));
    return result;
  }

  /**
   * The same pass, giving the event loop a turn every few milliseconds of work, so
   * opening a large workspace (a thousand runs to check, or a full rebuild) never
   * freezes the caller for long in one piece.
   */
  async ingestAsync(onlyRuns?: string[]): Promise<IngestResult> {
    const result = emptyResult();
    let since = performance.now();
    for (const _ of this.steps(result, onlyRuns)) {
      if (performance.now() - since < YIELD_AFTER_MS) continue;
      await nextTurn();
      since = performance.now();
    }
    return result;
  }

  /** One ingest pass as steps of bounded work: a run with nothing new, or a slice of lines of one log. */
  private *steps(result: IngestResult, onlyRuns?: string[]): Generator<void> {
    yield* this.loadCursors();
    let runs = onlyRuns;
    if (!runs) {
      runs = this.runFolders();
      const present = new Set(runs);
      for (const id of [...this.cursors.keys()]) {
        if (present.has(id)) continue;
        this.forgetRun(id);
        result.removed.push(id);
      }
      yield; // listing a thousand run folders is a step of its own
    }
    for (const id of runs) {
      if (yield* this.ingestRun(id, result)) result.changed.push(id);
      yield;
    }
  }

  private get cursors(): Map<string, RunCursor> {
    if (!this.loadedCursors) for (const _ of this.loadCursors());
    return this.loadedCursors!;
  }

  /**
   * Loads every run's cursor, a slice of rows per step: at the open of a thousand runs the
   * first rows read run cold SQLite and wasm code, tens of milliseconds in one piece otherwise.
   */
  private *loadCursors(): Generator<void> {
    if (this.loadedCursors) return;
    const loaded = new Map<string, RunCursor>();
    for (const r of this.store.eachRow('SELECT id, log_offset, log_line FROM runs')) {
      loaded.set(r.id as string, { offset: r.log_offset as number, line: r.log_line as number });
      if (loaded.size % CURSORS_PER_STEP === 0) yield;
    }
    // A synchronous pass may have loaded (and moved) them while this one paused.
    this.loadedCursors ??= loaded;
  }

  /** Drops a run's rows and history so the next ingest reads its log from the start. */
  forgetRun(runId: string): void {
    this.store.deleteRun(runId);
    this.cursors.delete(runId);
    this.verified.delete(runId);
    if (this.persistHistory) fs.rmSync(this.layout.runHistoryDir(runId), { recursive: true, force: true });
  }

  private runFolders(): string[] {
    try {
      return fs.readdirSync(this.layout.runsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  }

  /** Reads a run's new complete lines chunk by chunk, writing each chunk's summaries and points before the next. */
  private *ingestRun(runId: string, result: IngestResult): Generator<void, boolean> {
    const file = this.layout.eventsFile(runId);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      return false;
    }
    let cursor = this.cursors.get(runId);
    let rebuilt = false;
    if (cursor && (size < cursor.offset || !this.historyIsWhole(runId))) {
      // The log shrank (replaced) or a history file is missing: read the run again from the start.
      this.forgetRun(runId);
      cursor = undefined;
      rebuilt = true;
    }
    let { offset, line } = cursor ?? { offset: 0, line: 0 };
    if (size === offset) return rebuilt;

    let warned = 0;
    const warn = (lineNo: number, message: string): void => {
      warned++;
      if (warned <= WARNINGS_PER_FILE) result.warnings.push({ file, line: lineNo, message });
    };
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      let carry = Buffer.alloc(0);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, CHUNK_BYTES, offset + carry.length);
        if (n === 0) break;
        const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
        const lastNl = data.lastIndexOf(10);
        if (lastNl < 0) {
          carry = Buffer.from(data);
          continue;
        }
        const complete = data.subarray(0, lastNl + 1);
        const batch = new RunBatch();
        let sinceStep = 0;
        for (const text of splitLines(complete, line, warn)) {
          line++;
          result.lines++;
          this.applyLine(text, line, batch, warn);
          if (++sinceStep === LINES_PER_STEP) {
            sinceStep = 0;
            yield;
          }
        }
        offset += complete.length;
        carry = Buffer.from(data.subarray(lastNl + 1));
        this.commit(runId, batch, { offset, line });
        yield;
      }
      if (carry.length && isSettled(file)) {
        reportDamagedLine(file, line + 1, 'the last line is cut off (no newline: a crash or a full disk cut it short); it is not read, and the next append moves it to events.jsonl.damaged');
      }
    } finally {
      fs.closeSync(fd);
    }
    if (warned > WARNINGS_PER_FILE) {
      result.warnings.push({ file, line, message: `${warned - WARNINGS_PER_FILE} more unreadable lines skipped` });
    }
    this.verified.add(runId);
    return true;
  }

  /**
   * Indexes events this process appended to a run's log (AppendedEvents), without reading them
   * back: only when the index had read the log exactly up to where they begin and the run was
   * already read in this process. Otherwise returns false, and a normal ingest reads them.
   */
  commitAppended(runId: string, appended: AppendedEvents): boolean {
    if (this.persistHistory && !this.verified.has(runId)) return false;
    const cursor = this.cursors.get(runId);
    if (!cursor || cursor.offset !== appended.from) return false;
    this.commit(runId, appended.batch, { offset: appended.to, line: cursor.line + appended.lines });
    return true;
  }

  /** Writes one chunk's summaries (a transaction) and points; memory stays bounded by the chunk size. */
  private commit(runId: string, batch: RunBatch, end: RunCursor): void {
    this.store.transaction(() => this.write(runId, batch, end));
    this.cursors.set(runId, end);
    if (this.persistHistory) batch.history.flush(batch.historyFiles);
  }

  /** Once per process and run: history files must hold exactly the points the saved index counts. */
  private historyIsWhole(runId: string): boolean {
    if (!this.persistHistory || this.verified.has(runId)) return true;
    const dir = this.layout.runHistoryDir(runId);
    for (const row of this.store.rows('SELECT history, count FROM metrics WHERE run_id = ?', [runId])) {
      if (trimHistory(path.join(dir, row.history as string), row.count as number) === 'short') return false;
    }
    this.verified.add(runId);
    return true;
  }

  private applyLine(text: string, lineNo: number, batch: RunBatch, warn: (line: number, message: string) => void): void {
    if (text.trim() === '') return;
    let event: RunEvent | undefined;
    try {
      event = validateEvent(JSON.parse(text));
    } catch (err) {
      const why = err instanceof EventShapeError ? err.message : 'not valid JSON';
      warn(lineNo, `${why}; line skipped`);
      return;
    }
    if (event) batch.apply(event, lineNo, warn);
  }

  /** Merges the batch into the store's rows (inside a transaction). */
  private write(runId: string, batch: RunBatch, end: RunCursor): void {
    const { store } = this;
    const f = batch.fields;
    if (!this.cursors.has(runId)) {
      store.db.run(
        "INSERT INTO runs (id, name, experiment_id, status, source, log_offset, log_line) VALUES (?, ?, 0, 'RUNNING', 'python', 0, 0)",
        [runId, runId.slice(0, 8)],
      );
    }
    const sets: string[] = ['log_offset = ?', 'log_line = ?'];
    const values: (string | number | null)[] = [end.offset, end.line];
    const set = (column: string, value: string | number | null | undefined): void => {
      if (value === undefined) return;
      sets.push(`${column} = ?`);
      values.push(value);
    };
    set('name', f.name);
    if (f.experiment !== undefined) set('experiment_id', store.experimentId(f.experiment, f.start_time ?? Date.now()));
    set('source', f.source);
    set('start_time', f.start_time);
    set('status', f.status);
    set('lifecycle', f.lifecycle);
    set('end_time', f.end_time);
    if ('exit_code' in f) set('exit_code', f.exit_code ?? null);
    if (f.capture) set('capture', JSON.stringify(f.capture));
    store.db.run(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`, [...values, runId]);

    for (const [key, value] of batch.params) store.db.run('INSERT OR REPLACE INTO params VALUES (?, ?, ?)', [runId, key, value]);
    for (const [key, value] of batch.tags) {
      if (value === null) store.db.run('DELETE FROM tags WHERE run_id = ? AND key = ?', [runId, key]);
      else store.db.run('INSERT OR REPLACE INTO tags VALUES (?, ?, ?)', [runId, key, value]);
    }
    for (const [snapshot, paths] of batch.inputs) store.db.run('INSERT OR REPLACE INTO inputs VALUES (?, ?, ?)', [runId, snapshot, JSON.stringify(paths)]);
    for (const [p, a] of batch.artifacts) {
      if (a === null) store.db.run('DELETE FROM artifacts WHERE run_id = ? AND path = ?', [runId, p]);
      else store.db.run('INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?)', [runId, p, a.size, a.sha256]);
    }
    for (const c of batch.cells) {
      store.db.run('INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?)', [runId, c.index, c.execution_count ?? null, c.time, c.duration_ms ?? null, c.status, c.error?.slice(0, MAX_INDEXED_CELL_ERROR_CHARS) ?? null]);
    }
    if (batch.metrics.size) this.writeMetrics(runId, batch);
  }

  private writeMetrics(runId: string, batch: RunBatch): void {
    const { store } = this;
    const existing = new Map<string, { seq: number; history: string; agg: MetricAgg }>();
    let nextSeq = 0;
    for (const r of store.rows('SELECT * FROM metrics WHERE run_id = ?', [runId])) {
      existing.set(r.key as string, {
        seq: r.seq as number,
        history: r.history as string,
        agg: { latest: (r.latest as number | null) ?? NaN, step: r.latest_step as number, time: r.latest_time as number, min: r.min as number | null, max: r.max as number | null, count: r.count as number },
      });
      nextSeq = Math.max(nextSeq, (r.seq as number) + 1);
    }
    const historyDir = this.layout.runHistoryDir(runId);
    const usedNames = new Set([...existing.values()].map((e) => e.history));
    for (const [key, add] of batch.metrics) {
      const old = existing.get(key);
      let merged = add;
      let history: string;
      let seq: number;
      if (old) {
        merged = { ...old.agg };
        mergeAgg(merged, add);
        history = old.history;
        seq = old.seq;
      } else {
        history = uniqueName(historyFileName(key), usedNames);
        seq = nextSeq++;
      }
      batch.historyFiles.set(key, path.join(historyDir, history));
      store.db.run('INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        runId, key, seq, merged.latest, merged.step, merged.time, merged.min, merged.max, merged.count, history,
      ]);
    }
  }
}

/**
 * MLflow's latest point: the greatest (step, timestamp, value), NaN comparing as 0 (MLflow
 * stores it so); a point equal to the latest so far does not replace it.
 */
function mergePoint(agg: MetricAgg, step: number, time: number, value: number): void {
  const nanAsZero = (v: number) => (Number.isNaN(v) ? 0 : v);
  if (step > agg.step || (step === agg.step && (time > agg.time || (time === agg.time && nanAsZero(value) > nanAsZero(agg.latest))))) {
    agg.latest = value;
    agg.step = step;
    agg.time = time;
  }
  if (!Number.isNaN(value)) {
    agg.min = minOf(agg.min, value);
    agg.max = maxOf(agg.max, value);
  }
}

/** Merges the summary of later points into `into`: the same as adding them one by one. */
function mergeAgg(into: MetricAgg, add: MetricAgg): void {
  mergePoint(into, add.step, add.time, add.latest);
  into.min = minOf(into.min, add.min);
  into.max = maxOf(into.max, add.max);
  into.count += add.count;
}

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  for (let i = 2; used.has(candidate); i++) candidate = name.replace(/\.f64$/, `~${i}.f64`);
  used.add(candidate);
  return candidate;
}

/** Splits complete lines; bytes that are not UTF-8 are replaced (U+FFFD) and reported, the line still read. */
function splitLines(complete: Buffer, firstLine: number, warn: (line: number, message: string) => void): string[] {
  if (isUtf8(complete)) {
    const lines = complete.toString('utf8').split('\n');
    lines.pop();
    return lines;
  }
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < complete.length; i++) {
    if (complete[i] !== 10) continue;
    const raw = complete.subarray(start, i);
    if (!isUtf8(raw)) warn(firstLine + out.length + 1, 'bytes that are not valid UTF-8 were replaced with U+FFFD');
    out.push(raw.toString('utf8'));
    start = i + 1;
  }
  return out;
}
