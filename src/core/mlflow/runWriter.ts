import type { RunEvent } from '../tracking/events';
import { AppendedEvents, type MetricPointsSummary } from '../tracking/ingest';
import type { Tracking } from '../tracking/tracking';
import { appendRecord, type Appended } from '../workspace/appendLog';
import { doesNotExist } from './errors';

/** A run's pending metric points are indexed at the latest after this many (24 bytes each). */
const MAX_PENDING_POINTS = 1_000_000;

/**
 * The endpoint's writes to run logs. Each request's events are appended at once, with one
 * O_APPEND write (the log is the truth: a request is answered only once its lines are in
 * it), and applied to the run's pending index update straight away, from memory, without
 * reading the lines back (AppendedEvents): nothing of a request outlives it. The update is
 * committed a moment later, many requests in one transaction. Anything that reads the index
 * first calls `flush()`, so every read sees every write before it, and so does every pass of
 * Tracking over the logs (beforeRead), so it never parses these lines again. When another
 * process wrote to the same log in between, the index simply reads the log as usual.
 */
export class RunWriter {
  private readonly pending = new Map<string, AppendedEvents>();
  private timer: NodeJS.Timeout | undefined;
  private readonly beforeRead: { dispose(): void };

  constructor(
    private readonly tracking: Tracking,
    private readonly onIndexed: (runIds: string[]) => void,
    private readonly delayMs = 50,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.beforeRead = tracking.beforeRead(() => this.flush());
  }

  /**
   * Appends `lines` (the events, one line each; text, or buffers written in one go) to the
   * run's existing log. With `defer`, the index catches up within `delayMs` or at the next
   * flush; without, before this returns.
   */
  append(runId: string, events: RunEvent[], lines: string | Buffer[], defer: boolean): void {
    const span = this.write(runId, typeof lines === 'string' ? [Buffer.from(lines)] : lines);
    if (!span) return;
    this.pendingAt(runId, span.from).add(events, span.to);
    if (defer) this.schedule();
    else this.flush(runId);
  }

  /** Appends one `mlflow_metrics` line whose points were summarised elsewhere (plainBatch.ts); indexed as `append` defers. */
  appendSummarised(runId: string, summaries: MetricPointsSummary[], line: Buffer[]): void {
    const span = this.write(runId, line);
    if (!span) return;
    this.pendingAt(runId, span.from).addSummaries(summaries, span.to);
    this.schedule();
  }

  /**
   * Writes the buffers as one record of the run's log (appendLog.ts: whole, or undone and
   * thrown); returns where they landed, or undefined when another writer's lines came in
   * between (then everything is indexed by reading the log).
   */
  private write(runId: string, buffers: Buffer[]): { from: number; to: number } | undefined {
    let length = 0;
    for (const b of buffers) length += b.length;
    let span: Appended;
    try {
      span = appendRecord(this.tracking.layout.eventsFile(runId), buffers, { create: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw doesNotExist(`Run with id=${runId} not found (its folder was removed)`);
      throw err;
    }
    if (span.to === span.from + length) return span;
    // Another writer's lines are in between: read the log (a refresh indexes what is pending first).
    this.tracking.refresh([runId]);
    this.onIndexed([runId]);
    return undefined;
  }

  /** The run's pending update that lines written at `from` continue (a new one when they do not). */
  private pendingAt(runId: string, from: number): AppendedEvents {
    let appended = this.pending.get(runId);
    if (!appended || appended.to !== from || appended.points >= MAX_PENDING_POINTS) {
      if (appended) this.flush(runId);
      this.pending.set(runId, (appended = new AppendedEvents(from)));
    }
    return appended;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (err) {
        this.onError(err as Error); // a timer must never throw: the lines are safe in the log, a later read indexes them
      }
    }, this.delayMs);
    this.timer.unref(); // never what keeps a process alive: the lines are already in the log
  }

  /** Indexes what is pending, for one run or all. */
  flush(runId?: string): void {
    if (runId === undefined && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const ids = runId === undefined ? [...this.pending.keys()] : this.pending.has(runId) ? [runId] : [];
    if (ids.length === 0) return;
    // All taken out before any is indexed: indexing one may refresh the log, which flushes first.
    const taken = ids.map((id) => this.pending.get(id)!);
    for (const id of ids) this.pending.delete(id);
    ids.forEach((id, i) => this.tracking.indexAppended(id, taken[i]));
    this.onIndexed(ids);
  }

  dispose(): void {
    this.beforeRead.dispose();
    this.flush();
  }
}
