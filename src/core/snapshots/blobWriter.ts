import * as fs from 'node:fs';
import { RepoPaths } from './gitFs';
import { writeLooseBuffer, writeLooseFromFile } from './looseWriter';
import { blobId, ObjectStore } from './objects';
import { PACK_ROLL_BYTES, PackWriter } from './packWriter';
import { unreadable, type ScannedFile } from './scan';
import type { StatKey } from './statCache';
import { cancelled, SnapshotError } from './types';
import { yielder } from './yielder';

/** Files up to this size are read whole (one read call) instead of streamed. */
export const SMALL_FILE_BYTES = 512 * 1024;
/** With at least this many new small files they go into one pack; fewer are written loose. */
export const PACK_MIN_FILES = 64;
/** Large files streamed at once. */
export const DEFAULT_CONCURRENCY = 8;

export interface HashedFile {
  rel: string;
  oid: string;
  /** The stat the content belongs to (the stat cache key). */
  key: StatKey;
  /** When its content was read (ms): for the stat cache's racy-entry rule. */
  verifiedAt: number;
}

export interface BlobWriteOptions {
  concurrency?: number;
  signal?: AbortSignal;
  /** Called as files are done: deltas of files and bytes. */
  onDone: (files: number, bytes: number) => void;
  /** Called as bytes of large files stream through. */
  onBytes: (bytes: number) => void;
}

/**
 * Hashes files and stores those whose blobs the store lacks. Small files are read whole on
 * the main thread in short slices (the event loop stays responsive) and, when there are many,
 * packed; large ones stream as loose objects, `concurrency` at a time. On failure or abort
 * every temp file is removed and the first error is thrown; objects already complete stay
 * (unreferenced objects are harmless, and a later snapshot reuses them).
 */
export async function storeBlobs(todo: ScannedFile[], paths: RepoPaths, objects: ObjectStore, options: BlobWriteOptions): Promise<HashedFile[]> {
  const stop = new AbortController();
  const onUserAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onUserAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  let firstError: unknown;
  const fail = (err: unknown): void => {
    firstError ??= err;
    stop.abort();
  };
  const small: ScannedFile[] = [];
  const large: ScannedFile[] = [];
  for (const f of todo) (f.linkTarget !== undefined || f.key.size <= SMALL_FILE_BYTES ? small : large).push(f);
  const results: HashedFile[] = [];
  const written = new Set<string>();
  let pack = small.length >= PACK_MIN_FILES ? new PackWriter(paths.packDir) : undefined;

  const smallFiles = async (): Promise<void> => {
    const pause = yielder();
    // One read buffer for all small files: their content is hashed and compressed at once, never kept.
    const readBuffer = Buffer.allocUnsafe(SMALL_FILE_BYTES + 1);
    for (const f of small) {
      if (stop.signal.aborted) return;
      const content = readWhole(f, readBuffer);
      const oid = blobId(content);
      if (!written.has(oid) && !objects.hasQuick(oid)) {
        if (pack) {
          pack.add(oid, content);
          if (pack.bytes >= PACK_ROLL_BYTES) {
            pack.finish();
            pack = new PackWriter(paths.packDir);
          }
        } else {
          writeLooseBuffer(paths, oid, content);
        }
        written.add(oid);
      }
      results.push({ rel: f.rel, oid, key: f.key, verifiedAt: Date.now() });
      options.onDone(1, content.length);
      await pause();
    }
  };

  const largeFiles = async (): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < large.length && !stop.signal.aborted) {
        const f = large[next++];
        try {
          const { oid, key } = await writeLooseFromFile(paths, f.abs, f.rel, options.onBytes, stop.signal);
          results.push({ rel: f.rel, oid, key, verifiedAt: Date.now() });
          options.onDone(1, 0);
        } catch (err) {
          throw err instanceof SnapshotError || isAbort(err) ? err : unreadable(f.rel, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY) }, () => worker().catch(fail)));
  };

  try {
    await Promise.all([smallFiles().catch(fail), largeFiles().catch(fail)]);
    if (options.signal?.aborted) throw cancelled('The snapshot');
    if (firstError !== undefined) throw isAbort(firstError) ? cancelled('The snapshot') : firstError;
    (pack as PackWriter | undefined)?.finish();
    pack = undefined;
    return results;
  } finally {
    (pack as PackWriter | undefined)?.abort();
    options.signal?.removeEventListener('abort', onUserAbort);
    objects.refreshPacks();
  }
}

/**
 * Reads a small file (or a link's target) in one read into `buffer`. The scan's stat stays the
 * cache key: should the file change after the scan, its new mtime will not match that key
 * next time, so the change is picked up then.
 */
function readWhole(f: ScannedFile, buffer: Buffer): Buffer {
  if (f.linkTarget !== undefined) return Buffer.from(f.linkTarget);
  let fd: number;
  try {
    // O_NONBLOCK: should the path have become a FIFO since the scan, open must not hang.
    fd = fs.openSync(f.abs, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw unreadable(f.rel, err);
  }
  try {
    const size = f.key.size;
    // One byte more than expected shows a file that grew since the scan.
    const content = size < buffer.length ? buffer.subarray(0, size + 1) : Buffer.allocUnsafe(size + 1);
    let n = 0;
    for (;;) {
      const got = fs.readSync(fd, content, n, content.length - n, n);
      if (got === 0) break;
      n += got;
      if (n === content.length) break;
    }
    if (n !== size) {
      throw new SnapshotError(`"${f.rel}" changed while it was being snapshotted; run the snapshot again when nothing is writing to it.`, 'changed-while-reading');
    }
    return content.subarray(0, n);
  } catch (err) {
    throw err instanceof SnapshotError ? err : unreadable(f.rel, err);
  } finally {
    fs.closeSync(fd);
  }
}

export function isAbort(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return e?.name === 'AbortError' || e?.code === 'ABORT_ERR' || (err instanceof SnapshotError && err.code === 'cancelled');
}
