// The thread that reads a large prediction-log window (windowThread.ts): it scans the log and
// sorts the window's numeric columns while the main thread reads the reference.
import { parentPort, workerData } from 'node:worker_threads';
import { sortNumbers } from '../validation/sortNumbers';
import { PredictionLogError, readPredictionWindow } from './predictionWindow';
import type { WindowReply, WindowRequest } from './windowThread';

const { dir, label, options } = workerData as WindowRequest;
let reply: WindowReply;
try {
  const read = readPredictionWindow(dir, label, options);
  const buffers: ArrayBuffer[] = [read.latencies.buffer as ArrayBuffer];
  for (const c of read.columns.values()) {
    if (c.kind !== 'numeric') continue;
    sortNumbers(c.values);
    buffers.push(c.values.buffer as ArrayBuffer);
  }
  reply = { window: read };
  parentPort!.postMessage(reply, buffers); // the columns travel without a copy
} catch (err) {
  reply = { error: (err as Error).message, logError: err instanceof PredictionLogError };
  parentPort!.postMessage(reply);
}
