import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Metric histories live on disk, one file per (run, metric key), as fixed 24-byte
 * little-endian records: float64 step, float64 time (ms), float64 value (NaN and
 * ±Infinity as IEEE values). Reading one metric of one run is one sequential read,
 * and nothing of a history stays in memory after it is written (docs/metric-history.md).
 */
export const RECORD_BYTES = 24;

export interface MetricPoints {
  steps: Float64Array;
  times: Float64Array;
  values: Float64Array;
}

/** File name of a key: readable when the key is plain, a hash otherwise (keys may hold '/', '..', etc.). */
export function historyFileName(key: string): string {
  if (/^[A-Za-z0-9_.-]{1,100}$/.test(key) && key !== '.' && key !== '..') return `${key}.f64`;
  const hash = createHash('sha1').update(key).digest('hex').slice(0, 16);
  return `${key.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}-${hash}.f64`;
}

/**
 * Collects points per metric key during an ingest batch and appends them in one write per file.
 * Each key's records grow in a Float64Array: outside the JS heap, so holding many points costs
 * the garbage collector nothing.
 */
export class HistoryAppender {
  private readonly pending = new Map<string, { values: Float64Array; length: number }>();
  private count = 0;

  add(key: string, step: number, time: number, value: number): void {
    const list = this.withRoom(key, 3);
    const v = list.values;
    const at = list.length;
    v[at] = step;
    v[at + 1] = time;
    v[at + 2] = value;
    list.length = at + 3;
    this.count++;
  }

  /** Appends records collected elsewhere (recordsOf), in order. */
  addRecords(key: string, records: Float64Array): void {
    const list = this.withRoom(key, records.length);
    list.values.set(records, list.length);
    list.length += records.length;
    this.count += records.length / 3;
  }

  /** One key's records, [step, time, value] each: a view of its own buffer, which nothing else shares (it can be transferred). */
  recordsOf(key: string): Float64Array {
    const list = this.pending.get(key);
    return list ? list.values.subarray(0, list.length) : new Float64Array(0);
  }

  /** The key's list, grown to hold `more` numbers more. */
  private withRoom(key: string, more: number): { values: Float64Array; length: number } {
    let list = this.pending.get(key);
    if (!list) this.pending.set(key, (list = { values: new Float64Array(Math.max(3 * 64, more)), length: 0 }));
    if (list.length + more > list.values.length) {
      const grown = new Float64Array(Math.max(list.values.length * 2, list.length + more));
      grown.set(list.values.subarray(0, list.length));
      list.values = grown;
    }
    return list;
  }

  /** Records collected and not yet written. */
  get records(): number {
    return this.count;
  }

  /** `fileOfKey` names each key's history file (chosen when the index row is written). */
  flush(fileOfKey: Map<string, string>): void {
    for (const [key, list] of this.pending) {
      const file = fileOfKey.get(key);
      if (!file) continue;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, new Uint8Array(list.values.buffer, 0, list.length * 8));
    }
    this.pending.clear();
    this.count = 0;
  }
}

/** Makes a history file hold exactly `count` records: drops points written after the last saved index. */
export function trimHistory(file: string, count: number): 'ok' | 'short' {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return count === 0 ? 'ok' : 'short';
  }
  const want = count * RECORD_BYTES;
  if (size < want) return 'short';
  if (size > want) fs.truncateSync(file, want);
  return 'ok';
}

export function readHistory(file: string): MetricPoints {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    buf = Buffer.alloc(0);
  }
  const n = Math.floor(buf.length / RECORD_BYTES);
  const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + n * RECORD_BYTES));
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    steps[i] = all[j];
    times[i] = all[j + 1];
    values[i] = all[j + 2];
  }
  return { steps, times, values };
}

/** Records [from, from + count) of a history file as flat [step, time, value, …]; short when the file is. */
export function readHistoryRange(file: string, from: number, count: number): Float64Array {
  if (count <= 0) return new Float64Array(0);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return new Float64Array(0);
  }
  try {
    const buf = Buffer.alloc(count * RECORD_BYTES); // never pooled: 8-byte aligned
    let read = 0;
    while (read < buf.length) {
      const n = fs.readSync(fd, buf, read, buf.length - read, from * RECORD_BYTES + read);
      if (n === 0) break;
      read += n;
    }
    const records = Math.floor(read / RECORD_BYTES);
    return new Float64Array(buf.buffer, buf.byteOffset, records * 3);
  } finally {
    fs.closeSync(fd);
  }
}
