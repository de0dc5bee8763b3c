import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PlainBatch } from './plainBatch';

export interface BatchRequest { id: number; body: Uint8Array }
export interface BatchReply { id: number; batch: PlainBatch | undefined }

/** The thread's script: beside this module in out/ (tsc), beside the bundles in dist/ (esbuild). */
const WORKER_FILE = path.join(__dirname, 'batchWorker.js');

/**
 * The main thread's side of the batch reader thread (batchWorker.ts): hands it log-batch bodies
 * and gets their plain batches back, so parsing large bodies runs beside the main thread. It
 * starts on first use. When it cannot start or stops, `read` answers undefined for every body,
 * which the main thread then reads itself: the endpoint never depends on the thread.
 */
export class BatchReader {
  private worker: Worker | undefined;
  private unavailable = false;
  private nextId = 0;
  private readonly waiting = new Map<number, (batch: PlainBatch | undefined) => void>();

  constructor(private readonly log: (message: string) => void = () => undefined, private readonly file = WORKER_FILE) {}

  /** The body's plain batch (plainBatch.ts), or undefined: not plain, or no thread to read it. */
  read(body: Buffer): Promise<PlainBatch | undefined> {
    const worker = this.started();
    if (!worker) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ id, body } satisfies BatchRequest); // shared memory when the server read it so (no copy); the main thread still writes it
    });
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.unavailable = true;
    this.stopped();
    await worker?.terminate();
  }

  private started(): Worker | undefined {
    if (this.worker || this.unavailable) return this.worker;
    if (!fs.existsSync(this.file)) {
      this.unavailable = true;
      this.log(`MLflow endpoint: ${this.file} is missing; log-batch bodies are read on the main thread.`);
      return undefined;
    }
    const worker = new Worker(this.file);
    worker.unref(); // never what keeps a process alive
    worker.on('message', (reply: BatchReply) => {
      const resolve = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      resolve?.(reply.batch);
    });
    worker.on('error', (err) => {
      this.log(`MLflow endpoint: the batch reader thread failed (${err.message}); log-batch bodies are read on the main thread.`);
      this.unavailable = true;
      this.stopped();
    });
    worker.on('exit', () => {
      this.unavailable = true;
      this.stopped();
    });
    this.worker = worker;
    return worker;
  }

  /** Whatever was waiting is read on the main thread instead. */
  private stopped(): void {
    this.worker = undefined;
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
  }
}
