import * as fs from 'node:fs';
import * as path from 'node:path';
import { isProcessAlive } from '../workspace/processes';
import type { RepoPaths } from './gitFs';

/** A temp file untouched this long is abandoned even if its pid is alive again (pids are reused). */
const ABANDONED_MS = 60 * 60_000;

/**
 * The temp names writers of this store use, each carrying the writer's pid:
 * `tmp_obj_<pid>_<hex>` (looseWriter), `tmp_pack_<pid>_<hex>` (packWriter),
 * `<file>.<pid>.<hex>.tmp` (gitFs) and `<file>.<pid>.tmp` (writeFileAtomic: pack indexes).
 */
const TEMP_NAME = /^tmp_(?:obj|pack)_(\d+)_[0-9a-f]+$|\.(\d+)(?:\.[0-9a-f]+)?\.tmp$/;

/**
 * Removes temp files that a killed snapshot left behind (a large file's half-written object,
 * an unfinished pack): those whose writer is no longer running on this host, or that nobody
 * has written to for an hour. A live writer's temp files are kept: blobs are written before
 * the write lock is taken, so another snapshot may be writing right now. Looks only where the
 * long writes happen (objects/, objects/pack/) and where the refs move (refs/heads/), so the
 * sweep costs three readdirs. Returns the bytes removed.
 */
export function removeAbandonedTemps(paths: RepoPaths): number {
  let removed = 0;
  const now = Date.now();
  for (const dir of [paths.objects, paths.packDir, path.join(paths.gitdir, 'refs', 'heads')]) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = TEMP_NAME.exec(name);
      if (!m) continue;
      const file = path.join(dir, name);
      try {
        const st = fs.lstatSync(file);
        if (!st.isFile()) continue;
        if (isProcessAlive(Number(m[1] ?? m[2])) && now - st.mtimeMs < ABANDONED_MS) continue;
        fs.rmSync(file, { force: true });
        removed += st.size;
      } catch {
        // gone meanwhile (its writer renamed it into place): nothing to do
      }
    }
  }
  return removed;
}
