import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { sortNumbers } from '../validation/sortNumbers';
import { isSorted } from '../validation/statistics';
import type { ColumnarTable } from './columns';

/**
 * Sorting the numeric columns is nearly all of a large comparison's time (every test after
 * reads sorted columns in linear time), and each column sorts on its own: large columns are
 * sorted by worker threads, one per core, in shared memory. Small ones are not worth a thread.
 */
const WORKER_MIN_ROWS = 200_000;

/** The worker: sorts the Float64Array it is given in place (shared memory) and says which. */
const WORKER_CODE = `
const { parentPort } = require('node:worker_threads');
const sortNumbers = (${sortNumbers.toString()});
parentPort.on('message', ({ id, buffer, length }) => {
  sortNumbers(new Float64Array(buffer, 0, length));
  parentPort.postMessage(id);
});`;

/** Sorts every large unsorted numeric column of the tables in place, on up to one thread per core; returns the threads used. */
export async function sortLargeColumns(tables: ColumnarTable[], threads = os.availableParallelism()): Promise<number> {
  const columns: Float64Array[] = [];
  for (const t of tables) for (const c of t.columns.values()) if (c.kind === 'numeric' && c.values.length >= WORKER_MIN_ROWS && !isSorted(c.values)) columns.push(c.values);
  const count = Math.min(threads, columns.length);
  if (count < 2) return 0; // one thread: sorting here costs the same, without the copies
  const workers = Array.from({ length: count }, () => new Worker(WORKER_CODE, { eval: true }));
  try {
    let next = 0;
    await Promise.all(workers.map(async (worker) => {
      let done: { resolve: () => void; reject: (err: Error) => void } | undefined;
      worker.on('message', () => done?.resolve());
      worker.on('error', (err) => done?.reject(err));
      for (let id = next++; id < columns.length; id = next++) {
        const column = columns[id];
        const shared = new Float64Array(new SharedArrayBuffer(column.byteLength));
        shared.set(column);
        await new Promise<void>((resolve, reject) => {
          done = { resolve, reject };
          worker.postMessage({ id, buffer: shared.buffer, length: column.length });
        });
        column.set(shared);
      }
    }));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return count;
}
