import type { ModelSession } from './modelSession';
import { concatRows, sliceRows, type TensorValue } from './tensors';

/** Dynamic batching: off when maxBatch is 1. */
export interface BatchOptions {
  /** Most rows one model run takes. */
  maxBatch: number;
  /**
   * Longest a request waits for others to join its batch. 0: no waiting; a batch runs as soon as
   * the model is free, taking every request that arrived while the previous one ran.
   */
  maxDelayMs: number;
}

export interface InferenceResult {
  outputs: Record<string, TensorValue>;
  /** Seconds the request waited in the queue. */
  queueSeconds: number;
}

interface Waiting {
  feeds: Record<string, TensorValue>;
  rows: number;
  since: number;
  resolve(r: InferenceResult): void;
  reject(e: unknown): void;
}

interface Group { items: Waiting[]; rows: number; timer?: NodeJS.Timeout }

/** The first input's rows (its first dimension; 1 for a scalar). */
function firstRows(feeds: Record<string, TensorValue>): number {
  for (const name in feeds) return feeds[name].shape[0] ?? 1;
  return 1;
}

/** Requests stack into one batch when their inputs agree in name, datatype and every dimension but the first. */
function groupKey(feeds: Record<string, TensorValue>): string {
  let key = '';
  for (const name in feeds) {
    const { datatype, shape } = feeds[name];
    key += `${name}:${datatype}:${shape.length === 2 ? shape[1] : shape.slice(1).join('x')}|`;
  }
  return key;
}

/**
 * Runs requests on one model session. With batching on, concurrent requests whose inputs
 * agree beyond the first dimension are stacked into one run, and the results split back. A
 * batch runs when max batch rows are waiting, or when the oldest has waited max delay; with
 * max delay 0, as soon as the model is free: requests gather while a run is under way, so
 * batches grow with the load and a lone request waits for nothing.
 */
export class Batcher {
  private readonly groups = new Map<string, Group>();
  /** Batches running now; while one is, new requests gather. */
  private running = 0;
  private waking = false;

  constructor(
    private readonly session: ModelSession,
    private readonly options: BatchOptions,
    /** Told the rows of each model run, for the batch-size histogram. */
    private readonly onRun: (rows: number) => void = () => {},
  ) {}

  infer(feeds: Record<string, TensorValue>): Promise<InferenceResult> {
    const rows = firstRows(feeds);
    if (this.options.maxBatch <= 1 || !this.session.batchable || rows >= this.options.maxBatch) {
      this.onRun(rows);
      return this.session.run(feeds).then((outputs) => ({ outputs, queueSeconds: 0 }));
    }
    return new Promise((resolve, reject) => {
      const key = groupKey(feeds);
      let group = this.groups.get(key);
      if (group && group.rows + rows > this.options.maxBatch) {
        this.dispatch(key, group);
        group = undefined;
      }
      if (!group) this.groups.set(key, (group = { items: [], rows: 0 }));
      group.items.push({ feeds, rows, since: performance.now(), resolve, reject });
      group.rows += rows;
      if (group.rows >= this.options.maxBatch) this.dispatch(key, group);
      else if (this.options.maxDelayMs <= 0) {
        if (this.running === 0) this.wake();
      } else if (!group.timer) {
        const g = group;
        g.timer = setTimeout(() => this.dispatch(key, g), this.options.maxDelayMs);
      }
    });
  }

  /** Runs what waits once this turn of the event loop has read every request that arrived with this one. */
  private wake(): void {
    if (this.waking) return;
    this.waking = true;
    setImmediate(() => {
      this.waking = false;
      if (this.running === 0) for (const [key, group] of this.groups) this.dispatch(key, group);
    });
  }

  private dispatch(key: string, group: Group): void {
    if (this.groups.get(key) === group) this.groups.delete(key);
    clearTimeout(group.timer);
    const { items } = group;
    const started = performance.now();
    const names = Object.keys(items[0].feeds);
    const feeds = Object.fromEntries(names.map((n) => [n, concatRows(items.map((i) => i.feeds[n]))]));
    this.onRun(group.rows);
    this.running++;
    const done = () => {
      if (--this.running === 0 && this.groups.size && this.options.maxDelayMs <= 0) this.wake();
    };
    this.session.run(feeds).finally(done).then(
      (outputs) => {
        let at = 0;
        for (const item of items) {
          const mine: Record<string, TensorValue> = {};
          for (const name in outputs) mine[name] = sliceRows(outputs[name], at, at + item.rows);
          at += item.rows;
          item.resolve({ outputs: mine, queueSeconds: (started - item.since) / 1000 });
        }
      },
      (err) => { for (const item of items) item.reject(err); },
    );
  }
}
