import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { Database, SqlValue } from 'sql.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { writeFileAtomic } from '../workspace/atomicFile';
import type { Capture, CellStatus, RunSource, RunStatus } from './events';
import { loadSqlJs } from './sqlite';

/** Bumped whenever the tables or what they hold change (5: the latest metric by MLflow's (step, timestamp, value)); an older file is rebuilt from the event logs. */
export const STORE_SCHEMA = '5';

export const SCHEMA_SQL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);
CREATE TABLE runs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, experiment_id INTEGER NOT NULL, status TEXT NOT NULL,
  source TEXT NOT NULL, start_time INTEGER, end_time INTEGER, exit_code INTEGER, capture TEXT,
  log_offset INTEGER NOT NULL DEFAULT 0, log_line INTEGER NOT NULL DEFAULT 0,
  lifecycle TEXT NOT NULL DEFAULT 'active');
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);
CREATE TABLE params (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
CREATE TABLE tags (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
CREATE TABLE artifacts (run_id TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, path));
CREATE TABLE inputs (run_id TEXT NOT NULL, snapshot TEXT NOT NULL, paths TEXT NOT NULL, PRIMARY KEY (run_id, snapshot));
-- One row per (run, metric key): the summary; the points themselves are in the history files.
-- latest is NULL when the latest value is NaN (SQLite has no NaN); min/max ignore NaN.
CREATE TABLE metrics (
  run_id TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, latest REAL, latest_step INTEGER NOT NULL,
  latest_time INTEGER NOT NULL, min REAL, max REAL, count INTEGER NOT NULL, history TEXT NOT NULL,
  PRIMARY KEY (run_id, key));
-- One row per notebook cell execution ("cell" events), in log order (rowid).
CREATE TABLE cells (
  run_id TEXT NOT NULL, idx INTEGER NOT NULL, execution_count INTEGER, time INTEGER NOT NULL,
  duration_ms REAL, status TEXT NOT NULL, error TEXT);
CREATE INDEX cells_by_run ON cells (run_id);
INSERT INTO experiments (id, name, created) VALUES (0, 'Default', 0);
`;

export interface RunSummary {
  id: string;
  name: string;
  experiment: string;
  status: RunStatus;
  source: RunSource;
  start_time: number | null;
  end_time: number | null;
  exit_code: number | null;
}

export interface MetricSummary {
  key: string;
  latest: number;
  step: number;
  time: number;
  min: number | null;
  max: number | null;
  count: number;
}

export interface ArtifactEntry { path: string; size: number; sha256: string }

/** A data snapshot a run read: taken of the configured data paths when it started. */
export interface RunInput { snapshot: string; paths: string[] }

/** One execution of a notebook cell; `time` is when it ended. */
export interface CellExecution {
  index: number;
  executionCount: number | null;
  time: number;
  durationMs: number | null;
  status: CellStatus;
  error: string | null;
}

export interface RunDetail extends RunSummary {
  params: Record<string, string>;
  inputs: RunInput[];
  metrics: MetricSummary[];
  tags: Record<string, string>;
  artifacts: ArtifactEntry[];
  /** Cell executions of a notebook run, in the order they ended (empty for other runs). */
  cells: CellExecution[];
  capture: Capture;
}

/** Which runs to list; runs deleted through MLflow's API (lifecycle `deleted`) only when asked. */
export interface RunFilter { experiment?: string; status?: RunStatus; includeDeleted?: boolean }

export interface Experiment { id: number; name: string; runCount: number }

/** Where ingest stopped in a run's log. */
export interface RunCursor { offset: number; line: number }

type Row = Record<string, SqlValue>;

/** `tracking.db.sha256`: the SHA-256 of tracking.db as last saved, next to it. */
function digestFile(file: string): string {
  return `${file}.sha256`;
}

/**
 * Records the digest of bytes saved or checked. A digest that does not match (a crash between
 * the two writes, another process's save) only costs the integrity check at the next open.
 */
function writeDigest(file: string, bytes: Uint8Array): void {
  try {
    fs.writeFileSync(digestFile(file), createHash('sha256').update(bytes).digest('hex'));
  } catch {
    // a read-only folder: the next open runs the check again
  }
}

/** Bytes hashed between two turns of the event loop (a few ms). */
const DIGEST_SLICE = 1024 * 1024;

/** Whether the bytes are exactly those saved last. */
async function savedAsIs(file: string, bytes: Uint8Array): Promise<boolean> {
  let saved: string;
  try {
    saved = (await fs.promises.readFile(digestFile(file), 'utf8')).trim();
  } catch {
    return false;
  }
  const hash = createHash('sha256');
  for (let at = 0; at < bytes.length; at += DIGEST_SLICE) {
    hash.update(bytes.subarray(at, at + DIGEST_SLICE));
    await nextTurn();
  }
  return hash.digest('hex') === saved;
}

/** The sql.js index over all event logs (`.mlops/tracking.db`). Holds summaries only, never metric histories. */
export class TrackingStore {
  private constructor(readonly db: Database, readonly file: string) {}

  /**
   * Opens the file, or reports why it cannot be used (missing, corrupt, old schema) so the caller
   * can rebuild. `owner`: this process owns the index (readers write nothing, not even a digest).
   */
  static async open(file: string, owner = false): Promise<{ store: TrackingStore; problem?: string }> {
    const SQL = await loadSqlJs();
    let bytes: Uint8Array | undefined;
    try {
      bytes = await fs.promises.readFile(file);
    } catch (err) {
      // A folder in its place is the caller's to report (Tracking.open).
      const code = (err as NodeJS.ErrnoException).code;
      const problem = code === 'ENOENT' || code === 'EISDIR' ? 'missing' : `it cannot be read (${code ?? (err as Error).message})`;
      return { store: TrackingStore.empty(SQL, file), problem };
    }
    try {
      // The integrity check blocks the thread for a long time on a large index: only a file
      // that is not byte for byte what this engine saved gets it (damage, another tool, an old save).
      const asSaved = await savedAsIs(file, bytes);
      const db = new SQL.Database(bytes);
      // Each statement's first run compiles the SQLite code it needs: give the event loop a turn between them.
      await nextTurn();
      if (!asSaved) {
        const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
        await nextTurn();
        if (check !== 'ok') throw new Error(`integrity check said ${String(check)}`);
        if (owner) writeDigest(file, bytes); // checked once: the next open of these bytes skips the check
      }
      const schema = db.exec("SELECT value FROM meta WHERE key = 'schema'")[0]?.values[0]?.[0];
      if (schema !== STORE_SCHEMA) {
        db.close();
        return { store: TrackingStore.empty(SQL, file), problem: `it has schema ${String(schema)}, this version needs ${STORE_SCHEMA}` };
      }
      return { store: new TrackingStore(db, file) };
    } catch (err) {
      return { store: TrackingStore.empty(SQL, file), problem: `it is not a readable SQLite database (${(err as Error).message})` };
    }
  }

  private static empty(SQL: Awaited<ReturnType<typeof loadSqlJs>>, file: string): TrackingStore {
    const db = new SQL.Database();
    db.exec(SCHEMA_SQL);
    db.run("INSERT INTO meta (key, value) VALUES ('schema', ?)", [STORE_SCHEMA]);
    return new TrackingStore(db, file);
  }

  /** Empties every table (for a rebuild) but keeps the file name. */
  clear(): void {
    this.db.exec('DELETE FROM runs; DELETE FROM params; DELETE FROM tags; DELETE FROM artifacts; DELETE FROM metrics; DELETE FROM inputs; DELETE FROM cells; DELETE FROM experiments WHERE id <> 0;');
  }

  save(): void {
    const bytes = this.db.export();
    writeFileAtomic(this.file, bytes);
    writeDigest(this.file, bytes);
  }

  close(): void {
    this.db.close();
  }

  rows(sql: string, params: SqlValue[] = []): Row[] {
    return [...this.eachRow(sql, params)];
  }

  /**
   * The rows of a query one at a time, so that a long read can give the event loop a turn
   * between them (the statement stays open meanwhile: only for reads nothing else interleaves with).
   */
  *eachRow(sql: string, params: SqlValue[] = []): Generator<Row> {
    const stmt = this.db.prepare(sql, params);
    try {
      // The names once, not per row as getAsObject asks for them (thousands of rows at open).
      const names = stmt.getColumnNames();
      while (stmt.step()) {
        const values = stmt.get();
        const row: Row = {};
        for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
        yield row;
      }
    } finally {
      stmt.free();
    }
  }

  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  experimentId(name: string, created: number): number {
    const found = this.rows('SELECT id FROM experiments WHERE name = ?', [name])[0];
    if (found) return found.id as number;
    this.db.run('INSERT INTO experiments (name, created) VALUES (?, ?)', [name, created]);
    return this.rows('SELECT last_insert_rowid() AS id')[0].id as number;
  }

  knownRunIds(): string[] {
    return this.rows('SELECT id FROM runs').map((r) => r.id as string);
  }

  /** The runs still RUNNING whose process was started on `host`, with its pid: two fields of the capture, not all of it parsed. */
  activeRuns(host: string): { id: string; name: string; pid: number }[] {
    return this.rows(
      `SELECT id, name, json_extract(capture, '$.pid') AS pid FROM runs
       WHERE status = 'RUNNING' AND json_extract(capture, '$.host') = ? AND json_type(capture, '$.pid') IS NOT NULL`,
      [host],
    ).map((r) => ({ id: r.id as string, name: r.name as string, pid: r.pid as number }));
  }

  deleteRun(runId: string): void {
    for (const table of ['params', 'tags', 'artifacts', 'metrics', 'inputs', 'cells']) this.db.run(`DELETE FROM ${table} WHERE run_id = ?`, [runId]);
    this.db.run('DELETE FROM runs WHERE id = ?', [runId]);
  }

  listExperiments(): Experiment[] {
    return this.rows(
      `SELECT e.id, e.name, COUNT(r.id) AS n FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id AND r.lifecycle = 'active'
       GROUP BY e.id HAVING n > 0 OR e.id = 0 ORDER BY e.name`,
    ).map((r) => ({ id: r.id as number, name: r.name as string, runCount: r.n as number }));
  }

  listRuns(filter: RunFilter = {}): RunSummary[] {
    const where: string[] = filter.includeDeleted ? [] : ["r.lifecycle = 'active'"];
    const params: SqlValue[] = [];
    if (filter.experiment !== undefined) {
      where.push('e.name = ?');
      params.push(filter.experiment);
    }
    if (filter.status !== undefined) {
      where.push('r.status = ?');
      params.push(filter.status);
    }
    return this.rows(
      `SELECT r.id, r.name, e.name AS experiment, r.status, r.source, r.start_time, r.end_time, r.exit_code
       FROM runs r JOIN experiments e ON e.id = r.experiment_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.start_time DESC, r.id`,
      params,
    ).map(toSummary);
  }

  getRun(runId: string): RunDetail | undefined {
    const row = this.rows(
      `SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`,
      [runId],
    )[0];
    if (!row) return undefined;
    return {
      ...toSummary(row),
      params: keyValues(this.rows('SELECT key, value FROM params WHERE run_id = ? ORDER BY key', [runId])),
      tags: keyValues(this.rows('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key', [runId])),
      inputs: this.rows('SELECT snapshot, paths FROM inputs WHERE run_id = ? ORDER BY rowid', [runId]).map((r) => ({
        snapshot: r.snapshot as string, paths: JSON.parse(r.paths as string) as string[],
      })),
      metrics: this.metricsOf([runId]).get(runId) ?? [],
      artifacts: this.rows('SELECT path, size, sha256 FROM artifacts WHERE run_id = ? ORDER BY path', [runId]).map((r) => ({
        path: r.path as string, size: r.size as number, sha256: r.sha256 as string,
      })),
      cells: this.rows('SELECT idx, execution_count, time, duration_ms, status, error FROM cells WHERE run_id = ? ORDER BY rowid', [runId]).map((r) => ({
        index: r.idx as number, executionCount: r.execution_count as number | null, time: r.time as number,
        durationMs: r.duration_ms as number | null, status: r.status as CellStatus, error: r.error as string | null,
      })),
      capture: row.capture ? (JSON.parse(row.capture as string) as Capture) : {},
    };
  }

  /** Latest/min/max/count per metric for many runs in one query, in the order keys were first logged. */
  metricsOf(runIds?: string[]): Map<string, MetricSummary[]> {
    const filter = runIds ? `WHERE run_id IN (${runIds.map(() => '?').join(',')})` : '';
    const out = new Map<string, MetricSummary[]>();
    const stmt = this.db.prepare(
      `SELECT run_id, key, latest, latest_step, latest_time, min, max, count FROM metrics ${filter} ORDER BY run_id, seq`,
      runIds ?? [],
    );
    try {
      while (stmt.step()) {
        const [runId, key, latest, step, time, min, max, count] = stmt.get() as [string, string, number | null, number, number, number | null, number | null, number];
        let list = out.get(runId);
        if (!list) out.set(runId, (list = []));
        list.push({ key, latest: latest ?? NaN, step, time, min, max, count });
      }
    } finally {
      stmt.free();
    }
    return out;
  }

  /** Params of many runs in one query (the runs table reads thousands). */
  paramsOf(runIds?: string[]): Map<string, Record<string, string>> {
    return this.keyValuesOf('params', runIds);
  }

  tagsOf(runIds?: string[]): Map<string, Record<string, string>> {
    return this.keyValuesOf('tags', runIds);
  }

  private keyValuesOf(table: 'params' | 'tags', runIds?: string[]): Map<string, Record<string, string>> {
    const filter = runIds ? `WHERE run_id IN (${runIds.map(() => '?').join(',')})` : '';
    const out = new Map<string, Record<string, string>>();
    const stmt = this.db.prepare(`SELECT run_id, key, value FROM ${table} ${filter} ORDER BY run_id, key`, runIds ?? []);
    try {
      while (stmt.step()) {
        const [runId, key, value] = stmt.get() as [string, string, string];
        let entry = out.get(runId);
        if (!entry) out.set(runId, (entry = {}));
        entry[key] = value;
      }
    } finally {
      stmt.free();
    }
    return out;
  }

  historyFile(runId: string, key: string): string | undefined {
    return this.rows('SELECT history FROM metrics WHERE run_id = ? AND key = ?', [runId, key])[0]?.history as string | undefined;
  }
}

function toSummary(r: Row): RunSummary {
  return {
    id: r.id as string,
    name: r.name as string,
    experiment: r.experiment as string,
    status: r.status as RunStatus,
    source: r.source as RunSource,
    start_time: r.start_time as number | null,
    end_time: r.end_time as number | null,
    exit_code: r.exit_code as number | null,
  };
}

function keyValues(rows: Row[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) out[r.key as string] = r.value as string;
  return out;
}
