import * as fs from 'node:fs';
import type { RunEvent } from '../tracking/events';
import type { Tracking } from '../tracking/tracking';
import { doesNotExist } from './errors';

/** Pending events of one run are indexed at the latest after this many. */
const MAX_PENDING_EVENTS = 100_000;

interface Pending { from: number; to: number; events: RunEvent[] }

/**
 * The endpoint's writes to run logs. Each request's events are appended at once, with one
 * O_APPEND write (the log is the truth: a request is answered only once its lines are in
 * it); they are indexed a moment later from memory, many requests in one transaction, without
 * reading the lines back (Tracking.indexAppended). Anything that reads the index first calls
 * `flush()`, so every read sees every write before it. When another process wrote to the same
 * log in between, the index simply reads the log as usual.
 */
export class RunWriter {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tracking: Tracking,
    private readonly onIndexed: (runIds: string[]) => void,
    private readonly delayMs = 5,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /**
   * Appends `text` (the events, one line each) to the run's existing log. With `defer`, the
   * index catches up within `delayMs` or at the next flush; without, before this returns.
   */
  append(runId: string, events: RunEvent[], text: string, defer: boolean): void {
    const bytes = Buffer.from(text);
    let fd: number;
    try {
      fd = fs.openSync(this.tracking.layout.eventsFile(runId), fs.constants.O_WRONLY | fs.constants.O_APPEND);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw doesNotExist(`Run with id=${runId} not found (its folder was removed)`);
      throw err;
    }
    let from: number;
    let to: number;
    try {
      from = fs.fstatSync(fd).size;
      fs.writeSync(fd, bytes);
      to = fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
    const current = this.pending.get(runId);
    if (to !== from + bytes.length) {
      // Another writer's lines are in between: index what is pending, then read the log.
      this.flush(runId);
      this.tracking.refresh([runId]);
      this.onIndexed([runId]);
      return;
    }
    if (current && current.to === from && current.events.length + events.length <= MAX_PENDING_EVENTS) {
      current.to = to;
      for (const e of events) current.events.push(e);
    } else {
      if (current) this.flush(runId);
      this.pending.set(runId, { from, to, events: events.slice() });
    }
    if (!defer) this.flush(runId);
    else if (!this.timer) {
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
  }

  /** Indexes what is pending, for one run or all. */
  flush(runId?: string): void {
    const ids = runId === undefined ? [...this.pending.keys()] : this.pending.has(runId) ? [runId] : [];
    if (runId === undefined && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (ids.length === 0) return;
    for (const id of ids) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      this.tracking.indexAppended(id, p.events, p);
    }
    this.onIndexed(ids);
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  dispose(): void {
    this.flush();
  }
}
