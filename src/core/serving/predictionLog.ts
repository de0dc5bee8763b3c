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
const CHUNK_BYTES = 64 * 1024;

/**
 * A deployment's prediction log under `.mlops/serving/<deployment>/`. The server hands a
 * sampled record over once its answer is sent; it becomes its JSONL line at once, so what
 * waits for the write is bytes, not objects the garbage collector must keep walking. The
 * buffer is written by a timer, or once it is large; the current file is rotated by size. A
 * failing disk drops records (counted), never requests.
 */
export class PredictionLog {
  readonly file: string;
  /** Filled chunks, then `chunk` up to `used`: whole lines only. */
  private chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private buffered = 0;
  private records = 0;
  private size: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

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
    this.text(`{"time":${r.time},"deployment":${JSON.stringify(r.deployment)},"model":${JSON.stringify(r.model)},"version":${JSON.stringify(r.version)},"variant":${JSON.stringify(r.variant)},"latency_ms":${r.latency_ms},"inputs":{`);
    let first = true;
    for (const name in r.inputs) {
      const t = r.inputs[name];
      this.text(`${first ? '' : ','}${JSON.stringify(name)}:`);
      if (Buffer.isBuffer(t)) this.bytes(t);
      else this.text(dataJson(t, true));
      first = false;
    }
    let outputs = '';
    for (const name in r.outputs) outputs += `${outputs ? ',' : ''}${JSON.stringify(name)}:${dataJson(r.outputs[name], true)}`;
    this.text(`},"outputs":{${outputs}}${r.id !== undefined ? `,"id":${JSON.stringify(r.id)}` : ''}}\n`);
    this.records++;
    if (this.buffered >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  private text(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.used + s.length * 3 > this.chunk.length) this.nextChunk(s.length * 3);
    const n = this.chunk.write(s, this.used);
    this.used += n;
    this.buffered += n;
  }

  private bytes(b: Buffer): void {
    if (this.used + b.length > this.chunk.length) this.nextChunk(b.length);
    this.used += b.copy(this.chunk, this.used);
    this.buffered += b.length;
  }

  private nextChunk(room: number): void {
    if (this.used) this.chunks.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
    this.used = 0;
  }

  /** Writes what is buffered; resolves when it is on disk (or dropped). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buffered) return this.writing;
    this.nextChunk(0);
    const lines = this.chunks;
    const bytes = this.buffered;
    const count = this.records;
    this.chunks = [];
    this.buffered = 0;
    this.records = 0;
    this.writing = this.writing.then(async () => {
      try {
        if (this.size > 0 && this.size + bytes > this.options.maxFileBytes) await this.rotate();
        appendRecord(this.file, lines); // whole records or none, never after a torn line
        this.size += bytes;
      } catch (err) {
        this.onError(`prediction log: ${count} records not written: ${(err as Error).message}`);
      }
    });
    return this.writing;
  }

  private async rotate(): Promise<void> {
    await fs.promises.rename(this.file, path.join(this.dir, `predictions-${Date.now()}.jsonl`));
    this.size = 0;
    const rotated = (await fs.promises.readdir(this.dir)).filter((n) => /^predictions-\d+\.jsonl$/.test(n)).sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.options.keepFiles))) await fs.promises.rm(path.join(this.dir, old), { force: true });
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
