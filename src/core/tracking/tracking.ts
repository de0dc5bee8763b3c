import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SqlValue } from 'sql.js';
import { isReadOnlyError, MlopsLayout } from '../workspace/layout';
import { isProcessAlive } from '../workspace/processes';
import { ProcessLock } from '../workspace/processLock';
import { appendEvents } from './eventWriter';
import { Ingestor, type AppendedEvents, type IngestResult } from './ingest';
import { readHistory, type MetricPoints } from './metricHistory';
import { TrackingStore, type RunDetail, type RunFilter, type RunSummary } from './store';

/** Creates `.mlops/runs/` unless the disk refuses (read-only): then the folder must already be a workspace. */
function tryEnsure(layout: MlopsLayout): boolean {
  try {
    layout.ensure();
    return true;
  } catch (err) {
    if (isReadOnlyError(err)) return false;
    throw err;
  }
}

function isFolder(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** How long a dead run's log must be quiet before it is marked KILLED (its launcher may still be finishing). */
const ORPHAN_QUIET_MS = 30_000;

export interface OpenOptions {
  /** How long to wait for another process's lock before opening read-only (default 0). */
  waitMs?: number;
  /**
   * For readers (`mlops runs list`): the folder must already be a workspace (else a
   * NotAWorkspaceError) and nothing is created there. Otherwise `.mlops/` is created if missing.
   */
  mustExist?: boolean;
  /** Messages a person should see (a rebuilt index, skipped lines). */
  onMessage?: (message: string) => void;
  /** Never take the lock, even when it is free (the language server): read the index, save nothing. */
  readOnly?: boolean;
}

/**
 * The tracking engine of one workspace: the event logs, the index over them and
 * the lock that makes one process its writer. Every front end goes through this.
 */
export class Tracking {
  private dirty = false;
  private runsGeneration = 0;
  /** Flushes of writers that hold index updates of lines they appended (RunWriter); see beforeRead. */
  private readonly pendingFlushes = new Set<() => void>();

  private constructor(
    readonly layout: MlopsLayout,
    private store: TrackingStore,
    private ingestor: Ingestor,
    private readonly lock: ProcessLock | undefined,
    /** Why this process reads the index without owning it; undefined when it owns it. */
    readonly whyReadOnly: string | undefined,
    private readonly onMessage: (message: string) => void,
  ) {}

  /**
   * Opens (and if needed rebuilds) the index of the workspace at `root`, then reads new log lines.
   * It owns the index when it can take the lock; otherwise (another process has it, a read-only
   * folder) it builds the index in memory and saves nothing, without a word: readers never wait.
   */
  static async open(root: string, options: OpenOptions = {}): Promise<Tracking> {
    const layout = new MlopsLayout(root);
    if (options.mustExist || !tryEnsure(layout)) layout.requireWorkspace();
    const onMessage = options.onMessage ?? (() => undefined);
    const folderInstead = isFolder(layout.trackingDb);
    if (folderInstead) onMessage(`${layout.trackingDb} is a folder, not the index file; move it away and the index is rebuilt from the run logs. Until then nothing is saved.`);
    const taken = folderInstead ? 'tracking.db is a folder' : options.readOnly ? 'it was opened read-only' : await ProcessLock.acquire(layout.trackingLock, options.waitMs ?? 0);
    const lock = typeof taken === 'string' ? undefined : taken;
    const { store, problem } = await TrackingStore.open(layout.trackingDb, !!lock);
    const tracking = new Tracking(layout, store, new Ingestor(store, layout, !!lock), lock, typeof taken === 'string' ? taken : undefined, onMessage);
    // The first pass may read every log (a fresh clone, a schema change): it yields between chunks.
    if (problem) await tracking.rebuild(problem);
    else tracking.report(await tracking.ingestor.ingestAsync(), true);
    return tracking;
  }

  /** True when another process owns the index (or the folder is read-only): this one reads logs but saves nothing. */
  get readOnly(): boolean {
    return !this.lock;
  }

  /** Reads new lines from the event logs (all runs, or only `runIds`). */
  refresh(runIds?: string[]): IngestResult {
    this.flushPending();
    return this.report(this.ingestor.ingest(runIds), !runIds);
  }

  /**
   * Registers the flush of a writer in this process that holds index updates of lines it
   * appended (the MLflow endpoint's RunWriter). Every pass that reads logs calls it first, so
   * it never parses those lines again. `flush` may be called from within its own indexAppended.
   */
  beforeRead(flush: () => void): { dispose(): void } {
    this.pendingFlushes.add(flush);
    return { dispose: () => this.pendingFlushes.delete(flush) };
  }

  private flushPending(): void {
    for (const flush of this.pendingFlushes) flush();
  }

  /** Passes on warnings, ends orphaned runs (on a pass over all runs), and notes whether there is anything to save. */
  private report(result: IngestResult, allRuns: boolean): IngestResult {
    for (const w of result.warnings) this.onMessage(`${w.file}:${w.line}: ${w.message}`);
    const ended = allRuns ? this.endOrphanedRuns() : [];
    if (ended.length) {
      const again = this.ingestor.ingest(ended);
      result.changed.push(...again.changed.filter((id) => !result.changed.includes(id)));
    }
    if (result.changed.length || result.removed.length) {
      this.dirty = true;
      this.runsGeneration++;
    }
    return result;
  }

  /**
   * A run still RUNNING whose process on this host is gone and whose log has been
   * quiet for a while (the process was SIGKILLed, or the launcher died with it)
   * gets the run_end its process never wrote: KILLED.
   */
  private endOrphanedRuns(): string[] {
    if (!this.lock) return [];
    const ended: string[] = [];
    for (const run of this.store.activeRuns(os.hostname())) {
      if (isProcessAlive(run.pid)) continue;
      const file = this.layout.eventsFile(run.id);
      try {
        if (Date.now() - fs.statSync(file).mtimeMs < ORPHAN_QUIET_MS) continue;
      } catch {
        continue;
      }
      appendEvents(file, [{ type: 'run_end', status: 'KILLED', exit_code: null }]);
      this.onMessage(`Run "${run.name}" (${run.id}) lost its process ${run.pid} without ending; marked it KILLED.`);
      ended.push(run.id);
    }
    return ended;
  }

  /** Rebuilds the index from the event logs (`mlops reindex`, or a missing/corrupt tracking.db). */
  reindex(): Promise<IngestResult> {
    return this.rebuild();
  }

  private async rebuild(problem?: string): Promise<IngestResult> {
    // Each first SQL statement runs cold SQLite code (the new store's schema, just made, too):
    // the event loop gets a turn before and after the clear, not one long piece with them.
    await nextTurn();
    this.flushPending();
    this.store.clear();
    this.runsGeneration++;
    if (this.lock) fs.rmSync(this.layout.historyDir, { recursive: true, force: true });
    this.ingestor = new Ingestor(this.store, this.layout, !!this.lock);
    await nextTurn(); // after the new ingestor is in place: a refresh meanwhile reads into the cleared store
    const result = this.report(await this.ingestor.ingestAsync(), true);
    this.dirty = true;
    const runs = this.store.knownRunIds().length;
    // A missing index is the normal first use (runs logged, nothing read yet): only damage is news.
    if (problem && problem !== 'missing') {
      this.onMessage(`tracking.db was unusable: ${problem}; rebuilt it from ${runs} run log${runs === 1 ? '' : 's'}.`);
    }
    this.save();
    return result;
  }

  /**
   * Changes whenever a run's row may have changed other than by metrics, params, tags or
   * artifacts being added (a run read in, removed, renamed, deleted or restored, a rebuild):
   * callers may cache what they read from a run's row until it does.
   */
  get runRowsGeneration(): number {
    return this.runsGeneration;
  }

  /** Saves the index atomically when something changed and this process owns it. */
  save(): void {
    if (!this.dirty || !this.lock) return;
    this.store.save();
    this.dirty = false;
  }

  close(): void {
    this.save();
    this.store.close();
    this.lock?.release();
  }

  listExperiments() {
    return this.store.listExperiments();
  }

  listRuns(filter?: RunFilter): RunSummary[] {
    return this.store.listRuns(filter);
  }

  getRun(runId: string): RunDetail | undefined {
    return this.store.getRun(runId);
  }

  metricsOf(runIds?: string[]) {
    return this.store.metricsOf(runIds);
  }

  /**
   * Read-only SQL over the index (tables in store.ts), for bulk queries the methods here do not
   * cover (the MLflow endpoint's run search). Callers must not write through it.
   */
  query(sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
    return this.store.rows(sql, params);
  }

  paramsOf(runIds?: string[]) {
    return this.store.paramsOf(runIds);
  }

  tagsOf(runIds?: string[]) {
    return this.store.tagsOf(runIds);
  }

  /** All points of one metric of one run, read from its history file. */
  metricHistory(runId: string, key: string): MetricPoints {
    const file = this.store.historyFile(runId, key);
    if (!file) return { steps: new Float64Array(0), times: new Float64Array(0), values: new Float64Array(0) };
    return readHistory(path.join(this.layout.runHistoryDir(runId), file));
  }

  /** Finds a run by its full id or a unique prefix of it. */
  resolveRunId(idOrPrefix: string): string | undefined {
    const ids = this.store.knownRunIds().filter((id) => id.startsWith(idOrPrefix));
    return ids.length === 1 ? ids[0] : ids.find((id) => id === idOrPrefix);
  }

  /**
   * Indexes events this process appended to a run's log (AppendedEvents) without reading them
   * back when nothing else was written to the log in between (else by reading the log as usual).
   * For a writer of many events in this process: the MLflow endpoint.
   */
  indexAppended(runId: string, appended: AppendedEvents): void {
    if (this.ingestor.commitAppended(runId, appended)) {
      this.dirty = true;
      if (appended.changesRunRow) this.runsGeneration++;
      return;
    }
    this.refresh([runId]);
  }

  /** Renames a run by appending to its log (the truth), then reading it back. */
  renameRun(runId: string, name: string): void {
    const trimmed = name.trim();
    if (!trimmed) throw new Error('A run name cannot be empty.');
    appendEvents(this.layout.eventsFile(runId), [{ type: 'rename', name: trimmed }]);
    this.refresh([runId]);
  }

  /** Moves every run of experiment `from` into `to` (a rename) by appending to their logs, then reading them back. */
  moveExperimentRuns(from: string, to: string): string[] {
    const ids = this.query('SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ?', [from]).map((r) => r.id as string);
    for (const id of ids) appendEvents(this.layout.eventsFile(id), [{ type: 'move', experiment: to }]);
    if (ids.length) this.refresh(ids);
    return ids;
  }

  /** Removes a run's folder (log and artifacts) and its rows. */
  deleteRun(runId: string): void {
    fs.rmSync(this.layout.runDir(runId), { recursive: true, force: true });
    this.ingestor.forgetRun(runId);
    this.runsGeneration++;
    this.dirty = true;
  }
}
