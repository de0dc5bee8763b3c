// The endpoint's batch reader thread: parses and summarises log-batch bodies (plainBatch.ts)
// so the main thread, which owns the index, spends its time on HTTP, writing and indexing.
import { parentPort } from 'node:worker_threads';
import { readPlainBatch } from './plainBatch';
import type { BatchReply, BatchRequest } from './batchReader';

parentPort?.on('message', ({ id, body }: BatchRequest) => {
  const batch = readPlainBatch(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  const reply: BatchReply = { id, batch };
  // The records travel without a copy.
  parentPort!.postMessage(reply, batch ? batch.summaries.map((s) => s.records.buffer as ArrayBuffer) : []);
});
