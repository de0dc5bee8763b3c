import * as fs from 'node:fs';
import * as path from 'node:path';
import { tensorRows, type TensorValue } from './tensors';
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
 * A record as the server hands it over: tensors, turned into JSON rows only when written; an
 * input may already be JSON rows (the client's own text, which costs nothing to write).
 */
export type PendingPrediction = Omit<PredictionRecord, 'inputs' | 'outputs'> & { inputs: Record<string, TensorValue | Buffer>; outputs: Record<string, TensorValue> };

const FLUSH_MS = 200;
/** Written sooner when this much is buffered, so a burst of large requests neither piles up memory nor stalls one long write. */
const FLUSH_BYTES = 256 * 1024;
const FLUSH_RECORDS = 2000;

/** One record's JSONL line, with the same keys in the same order as JSON.stringify of the PredictionRecord. */
function line(r: PendingPrediction, parts: Buffer[]): void {
  const { inputs, outputs, id, ...head } = r;
  let text = `${JSON.stringify(head).slice(0, -1)},"inputs":{`;
  for (const [i, [name, t]] of Object.entries(inputs).entries()) {
    text += `${i ? ',' : ''}${JSON.stringify(name)}:`;
    if (Buffer.isBuffer(t)) {
      parts.push(Buffer.from(text), t);
      text = '';
    } else text += JSON.stringify(tensorRows(t));
  }
  const named = Object.entries(outputs).map(([n, t]) => `${JSON.stringify(n)}:${JSON.stringify(tensorRows(t))}`);
  parts.push(Buffer.from(`${text}},"outputs":{${named.join(',')}}${id !== undefined ? `,"id":${JSON.stringify(id)}` : ''}}\n`));
}

/** About how many bytes a record's line will take. */
function estimate(r: PendingPrediction): number {
  let bytes = 200;
  for (const t of Object.values(r.inputs)) bytes += Buffer.isBuffer(t) ? t.length : t.data.length * 20;
  for (const t of Object.values(r.outputs)) bytes += t.data.length * 20;
  return bytes;
}

/**
 * A deployment's prediction log under `.mlops/serving/<deployment>/`: sampled records
 * buffered in memory and written by a timer, never on the request's path; the current file
 * is rotated by size. A failing disk drops records (counted), never requests.
 */
export class PredictionLog {
  readonly file: string;
  private pending: PendingPrediction[] = [];
  private pendingBytes = 0;
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

  record(r: PendingPrediction): void {
    this.pending.push(r);
    this.pendingBytes += estimate(r);
    if (this.pending.length >= FLUSH_RECORDS || this.pendingBytes >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves when it is on disk (or dropped). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.length) return this.writing;
    const parts: Buffer[] = [];
    for (const r of this.pending) line(r, parts);
    const lines = Buffer.concat(parts);
    const count = this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = this.writing.then(async () => {
      try {
        const bytes = lines.length;
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
