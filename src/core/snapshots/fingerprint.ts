import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { scanSelection } from './scan';
import type { Selection } from './selection';
import { StatCache, statKey } from './statCache';
import type { BlobEntry } from './trees';

const CHUNK = 1 << 20;

/** The git blob id of a file, streamed (a large file is never held whole); also the stat it was read under. */
function hashFile(abs: string): { oid: string; key: ReturnType<typeof statKey>; verifiedAt: number } {
  const fd = fs.openSync(abs, 'r');
  try {
    const st = fs.fstatSync(fd);
    const hash = createHash('sha1').update(`blob ${st.size}\0`);
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(st.size, 1)));
    let read = 0;
    for (let n; read < st.size && (n = fs.readSync(fd, buf, 0, Math.min(buf.length, st.size - read), read)) > 0; read += n) hash.update(buf.subarray(0, n));
    const verifiedAt = Date.now();
    // Grown or shrunk while being read: the stat no longer vouches for this id, so it is not cached.
    return { oid: hash.digest('hex'), key: read === st.size ? statKey(st) : { ...statKey(st), size: -1 }, verifiedAt };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The blob id of every file under the chosen workspace paths (already normalised by the
 * Selection), reading only the files whose stat the cache does not vouch for, and recording
 * those in the cache. An unchanged file costs one lstat.
 */
export async function fingerprintFiles(sel: Selection, rels: string[], cache: StatCache): Promise<BlobEntry[]> {
  const { files } = await scanSelection(sel, rels, () => undefined, undefined);
  const out: BlobEntry[] = [];
  let learned = false;
  for (const f of files) {
    if (f.linkTarget !== undefined) {
      out.push({ path: f.rel, mode: f.mode, oid: createHash('sha1').update(`blob ${Buffer.byteLength(f.linkTarget)}\0${f.linkTarget}`).digest('hex') });
      continue;
    }
    let oid = cache.lookup(f.rel, f.key);
    if (!oid) {
      const h = hashFile(f.abs);
      oid = h.oid;
      if (h.key.size >= 0) {
        cache.set(f.rel, h.key, oid, h.verifiedAt);
        learned = true;
      }
    }
    out.push({ path: f.rel, mode: f.mode, oid });
  }
  if (learned) {
    try {
      cache.save();
    } catch {
      // only a cache: the next look hashes those files again
    }
  }
  return out;
}
