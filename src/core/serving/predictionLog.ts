import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataJson, type TensorValue } from './tensors';
import { appendRecord } from '../workspace/appendLog';

/** One served prediction, as drift monitoring reads it back (docs/serving.md, "Prediction log"). */
export interface PredictionRecord {
  /** ms since the epoch. */
  time: number;
  deployment: string;
  model: string;
  version: string;
  /** "primary", an A/B arm ("a", "b"), or "shadow". */
  variant: string;
  latency_ms: number;
  /** Raw inputs as the client sent them (before standardisation): name → rows. */
  inputs: Record<string, unknown[]>;
  outputs: Record<string, unknown[]>;
  id?: string;
}

export interface PredictionLogOptions {
  /** Share of predictions written, 0–1. */
  sampleRate: number;
  /** predictions.jsonl is rotated when it would grow past this. */
  maxFileBytes: number;
  /** Rotated files kept (predictions-<time>.jsonl); older ones are deleted. */
  keepFiles: number;
}

export const DEFAULT_PREDICTION_LOG: PredictionLogOptions = { sampleRate: 1, maxFileBytes: 16 * 1024 * 1024, keepFiles: 5 };

/**
 * A record as the server hands it over: tensors (turned into JSON rows as the record is
 * taken), or an input's rows already as JSON (the client's own text, copied as it is).
 */
export type PendingPrediction = Omit<PredictionRecord, 'inputs' | 'outputs'> & { inputs: Record<string, TensorValue | Buffer>; outputs: Record<string, TensorValue> };

const FLUSH_MS = 200;
/** Written sooner when this much is buffered, so a burst of large requests neither piles up memory nor stalls one long write. */
const FLUSH_BYTES = 256 * 1024;

/**
 * A deployment's prediction log under `.mlops/serving/<deployment>/`. The server hands a
 * sampled record over once its answer is sent; it becomes its JSONL line at once, in one
 * buffer that every write empties and the next record reuses, so what waits for the disk is
 * bytes, not objects for the garbage collector to walk or freed blocks to fragment memory.
 * The buffer is written by a timer, or once it is large; the current file is rotated by size.
 * A failing disk drops records (counted), never requests.
 */
export class PredictionLog {
  readonly file: string;
  /** Whole lines, up to `used`. */
  private buffer = Buffer.allocUnsafeSlow(FLUSH_BYTES * 2);
  private used = 0;
  private records = 0;
  private size: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly dir: string, private readonly options: PredictionLogOptions, private readonly onError: (m: string) => void = () => {}) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'predictions.jsonl');
    try {
      this.size = fs.statSync(this.file).size;
    } catch {
      this.size = 0;
    }
  }

  /** Whether this prediction is in the sample; decided before the record is built, which costs. */
  sampled(): boolean {
    return this.options.sampleRate >= 1 || Math.random() < this.options.sampleRate;
  }

  /** Buffers the record's line, with the same keys in the same order as JSON.stringify of the PredictionRecord. */
  record(r: PendingPrediction): void {
    const parts: (string | Buffer)[] = [`{"time":${r.time},"deployment":${JSON.stringify(r.deployment)},"model":${JSON.stringify(r.model)},"version":${JSON.stringify(r.version)},"variant":${JSON.stringify(r.variant)},"latency_ms":${r.latency_ms},"inputs":{`];
    let first = true;
    for (const name in r.inputs) {
      const t = r.inputs[name];
      parts.push(`${first ? '' : ','}${JSON.stringify(name)}:`, Buffer.isBuffer(t) ? t : dataJson(t, true));
      first = false;
    }
    let outputs = '';
    for (const name in r.outputs) outputs += `${outputs ? ',' : ''}${JSON.stringify(name)}:${dataJson(r.outputs[name], true)}`;
    parts.push(`},"outputs":{${outputs}}${r.id !== undefined ? `,"id":${JSON.stringify(r.id)}` : ''}}\n`);
    // At most 3 UTF-8 bytes per UTF-16 unit: room for the whole line, so a write never splits it.
    let room = 0;
    for (const p of parts) room += typeof p === 'string' ? p.length * 3 : p.length;
    if (this.used + room > this.buffer.length) {
      this.flush();
      if (room > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(room);
    }
    for (const p of parts) this.used += typeof p === 'string' ? this.buffer.write(p, this.used) : p.copy(this.buffer, this.used);
    this.records++;
    if (this.used >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered (or drops it, reporting why, when the disk fails). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.used) return;
    const lines = this.buffer.subarray(0, this.used);
    try {
      if (this.size > 0 && this.size + lines.length > this.options.maxFileBytes) this.rotate();
      appendRecord(this.file, lines); // whole records or none, never after a torn line
      this.size += lines.length;
    } catch (err) {
      this.onError(`prediction log: ${this.records} records not written: ${(err as Error).message}`);
    }
    this.used = 0;
    this.records = 0;
    // A one-off large record's buffer is not kept.
    if (this.buffer.length > FLUSH_BYTES * 2) this.buffer = Buffer.allocUnsafeSlow(FLUSH_BYTES * 2);
  }

  private rotate(): void {
    fs.renameSync(this.file, path.join(this.dir, `predictions-${Date.now()}.jsonl`));
    this.size = 0;
    const rotated = fs.readdirSync(this.dir).filter((n) => /^predictions-\d+\.jsonl$/.test(n)).sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.options.keepFiles))) fs.rmSync(path.join(this.dir, old), { force: true });
  }
}

/** The log's files, oldest first (rotated ones, then the current one): what a reader walks. */
export function predictionLogFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const rotated = names.filter((n) => /^predictions-\d+\.jsonl$/.test(n)).sort();
  return [...rotated, ...(names.includes('predictions.jsonl') ? ['predictions.jsonl'] : [])].map((n) => path.join(dir, n));
}
