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

/** A record as the server hands it over: tensors, turned into JSON rows only when written. */
export type PendingPrediction = Omit<PredictionRecord, 'inputs' | 'outputs'> & { inputs: Record<string, TensorValue>; outputs: Record<string, TensorValue> };

const FLUSH_MS = 200;
const FLUSH_RECORDS = 2000;

/**
 * A deployment's prediction log under `.mlops/serving/<deployment>/`: sampled records
 * buffered in memory and written by a timer, never on the request's path; the current file
 * is rotated by size. A failing disk drops records (counted), never requests.
 */
export class PredictionLog {
  readonly file: string;
  private pending: PendingPrediction[] = [];
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
    if (this.pending.length >= FLUSH_RECORDS) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves when it is on disk (or dropped). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.length) return this.writing;
    const rows = (tensors: Record<string, TensorValue>) => Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, tensorRows(t)]));
    const text = this.pending.map((r) => JSON.stringify({ ...r, inputs: rows(r.inputs), outputs: rows(r.outputs) }) + '\n').join('');
    const count = this.pending.length;
    this.pending = [];
    this.writing = this.writing.then(async () => {
      try {
        const bytes = Buffer.byteLength(text);
        if (this.size > 0 && this.size + bytes > this.options.maxFileBytes) await this.rotate();
        appendRecord(this.file, text); // whole records or none, never after a torn line
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
