import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { predictionLogFiles } from '../serving/predictionLog';
import { PredictionLogError, readPredictionWindow, type PredictionWindow, type PredictionWindowOptions } from './predictionWindow';

export interface WindowRequest { dir: string; label: string; options: PredictionWindowOptions }
export type WindowReply = { window: PredictionWindow } | { error: string; logError: boolean };

/** The thread's script: beside this module in out/ (tsc), beside the bundles in dist/ (esbuild). */
const WORKER_FILE = path.join(__dirname, 'windowWorker.js');

/** Below these a window is read here: a thread costs more to start than the read. */
const THREAD_MIN_BYTES = 4 * 1024 * 1024;
const THREAD_MIN_ROWS = 20_000;

function logBytes(dir: string): number {
  return predictionLogFiles(dir).reduce((sum, f) => sum + (fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
}

/**
 * Reads a prediction-log window (readPredictionWindow) on a worker thread when it is large,
 * its numeric columns sorted there: the log is most of a check's time, and the main thread
 * reads the reference meanwhile (and, in the editor, stays responsive). Without the thread's
 * script, or for a small window, it is read here.
 */
export async function readWindow(dir: string, label: string, options: PredictionWindowOptions): Promise<PredictionWindow> {
  const large = !('rows' in options.window) || options.window.rows >= THREAD_MIN_ROWS;
  if (!large || !fs.existsSync(WORKER_FILE) || logBytes(dir) < THREAD_MIN_BYTES) return readPredictionWindow(dir, label, options);
  const reply = await new Promise<WindowReply>((resolve, reject) => {
    const worker = new Worker(WORKER_FILE, { workerData: { dir, label, options } satisfies WindowRequest });
    worker.once('message', (r: WindowReply) => {
      resolve(r);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`The prediction-log reader thread stopped (exit code ${code}) before reading ${label}.`)));
  });
  if ('window' in reply) return reply.window;
  throw reply.logError ? new PredictionLogError(reply.error) : new Error(reply.error);
}
