import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicFile';

/**
 * What the snapshot store knows about workspace files it has hashed or restored, so an
 * unchanged file is never read again: path → size, mtime, ctime, inode, mode → blob id.
 *
 * File: `.mlops/index/snapshot-stat-cache.json`, written atomically (temp, fsync, rename):
 *   { "version": 1, "store": "<store id>", "entries": { "<path>": [size, mtimeMs, ctimeMs, ino, mode, blob, verifiedAt] } }
 * `store` is the id of the snapshots.git it belongs to; a cache of another store is dropped.
 * Like git's index, an entry whose mtime is too close to the moment its content was verified
 * ("racily clean": the file could have changed again within the same timestamp tick) is not
 * trusted; the next snapshot hashes that file again.
 */
export interface StatKey {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
}

type Entry = [size: number, mtimeMs: number, ctimeMs: number, ino: number, mode: number, blob: string, verifiedAt: number];

interface CacheFile {
  version: 1;
  store: string;
  entries: Record<string, Entry>;
}

/** Timestamps in whole seconds mean a coarse file system (FAT: 2 s); otherwise a few clock ticks. */
function racyWindowMs(mtimeMs: number): number {
  return mtimeMs % 1000 === 0 ? 2000 : 50;
}

export class StatCache {
  private readonly updates = new Map<string, Entry | null>();

  /** The parsed file as is (no copy into a Map: that would double the work for 10,000s of entries). */
  private constructor(readonly file: string, readonly storeId: string, private entries: Record<string, Entry>) {}

  static load(file: string, storeId: string): StatCache {
    let entries: Record<string, Entry> = {};
    try {
      const data = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheFile;
      if (data.version === 1 && data.store === storeId && data.entries && typeof data.entries === 'object') entries = data.entries;
    } catch {
      // missing or damaged: it is only a cache
    }
    return new StatCache(file, storeId, entries);
  }

  private entry(rel: string): Entry | undefined {
    return Object.hasOwn(this.entries, rel) ? this.entries[rel] : undefined;
  }

  /** The blob id recorded for this file when its stat still matches and the entry is trustworthy. */
  lookup(rel: string, st: StatKey): string | undefined {
    const e = this.updates.has(rel) ? this.updates.get(rel) : this.entry(rel);
    if (!e) return undefined;
    if (e[0] !== st.size || e[1] !== st.mtimeMs || e[2] !== st.ctimeMs || e[3] !== st.ino || e[4] !== st.mode) return undefined;
    if (e[6] - e[1] < racyWindowMs(e[1])) return undefined;
    return e[5];
  }

  /** Records that the file with this stat held `blob` at time `verifiedAt` (ms). */
  set(rel: string, st: StatKey, blob: string, verifiedAt: number): void {
    this.updates.set(rel, [st.size, st.mtimeMs, st.ctimeMs, st.ino, st.mode, blob, verifiedAt]);
  }

  delete(rel: string): void {
    this.updates.set(rel, null);
  }

  /** Paths with an entry at or under `prefix` ('.' = all). */
  pathsUnder(prefix: string): string[] {
    const out: string[] = [];
    const under = (p: string): boolean => prefix === '.' || p === prefix || p.startsWith(prefix + '/');
    for (const p in this.entries) if (Object.hasOwn(this.entries, p) && under(p) && !this.updates.has(p)) out.push(p);
    for (const [p, e] of this.updates) if (e && under(p)) out.push(p);
    return out;
  }

  /**
   * Writes the updates, merged onto what is on disk now (another process may have saved
   * entries since this one loaded), atomically.
   */
  save(): void {
    if (!this.updates.size) return;
    const onDisk = StatCache.load(this.file, this.storeId).entries;
    for (const [rel, e] of this.updates) {
      if (e) onDisk[rel] = e;
      else delete onDisk[rel];
    }
    const data: CacheFile = { version: 1, store: this.storeId, entries: onDisk };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, JSON.stringify(data));
    this.entries = onDisk;
    this.updates.clear();
  }
}

export function statKey(st: fs.Stats): StatKey {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode };
}
