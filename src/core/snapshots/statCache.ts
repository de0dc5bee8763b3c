import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicFile';

/**
 * What the snapshot store knows about workspace files it has hashed or restored, so an
 * unchanged file is never read again: path → size, mtime, ctime, inode, mode → blob id.
 *
 * It also keeps the tree id of each folder a snapshot built, with its number of entries; any
 * change recorded for a file below a folder drops that folder's tree, so a tree still here
 * while every file below is unchanged is that folder's tree (see scan.ts).
 *
 * File: `.mlops/index/snapshot-stat-cache.bin`, written atomically (temp, fsync, rename).
 * Binary, because an unchanged re-snapshot of 10,000s of files must not spend its time
 * parsing JSON: one read, a few typed-array views and one string split (all little-endian):
 *   header  "MLSC", u32 version (2), u32 entry count n, u32 store id bytes, u32 path bytes, u32 generation
 *   the store id (UTF-8), zero-padded to a multiple of 8
 *   n × 6 float64: size, mtimeMs, ctimeMs, ino, mode, verifiedAt
 *   n × 20 bytes: the blob ids
 *   the paths (UTF-8), each ended by a NUL (a byte no file name holds)
 * A folder's entry has the path "<folder>/" ("./" for the workspace root), its number of tree
 * entries as size, mode 040000 and its tree id as blob. The generation counts saves.
 * The store id names the snapshots.git the cache belongs to; a cache of another store is dropped.
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

interface Entry { key: StatKey; blob: string; verifiedAt: number }

const MAGIC = 0x43534c4d; // "MLSC" read as a little-endian u32
const VERSION = 2;
const HEADER = 24;
const NUMS = 6;
/** The JSON file of the format before this one, removed when the cache is next saved. */
const LEGACY_FILE = 'snapshot-stat-cache.json';

const FOLDER_MODE = 0o040000;
const folderKey = (rel: string): string => `${rel}/`;

/** The cache as read: entry i's numbers at nums[6i…], its blob id at blobs[20i…]. */
interface Loaded { index: Map<string, number>; nums: Float64Array; blobs: Buffer; generation: number }

const EMPTY: Loaded = { index: new Map(), nums: new Float64Array(0), blobs: Buffer.alloc(0), generation: 0 };

/** Timestamps in whole seconds mean a coarse file system (FAT: 2 s); otherwise a few clock ticks. */
function racyWindowMs(mtimeMs: number): number {
  return mtimeMs % 1000 === 0 ? 2000 : 50;
}

const pad8 = (n: number): number => (n + 7) & ~7;

function read(file: string, storeId: string): Loaded {
  try {
    return decode(fs.readFileSync(file), storeId);
  } catch {
    return EMPTY; // missing: it is only a cache
  }
}

function decode(buf: Buffer, storeId: string): Loaded {
  if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== VERSION) return EMPTY;
  const count = buf.readUInt32LE(8);
  const idBytes = buf.readUInt32LE(12);
  const pathBytes = buf.readUInt32LE(16);
  const numsAt = HEADER + pad8(idBytes);
  const blobsAt = numsAt + count * NUMS * 8;
  const pathsAt = blobsAt + count * 20;
  // Damaged (cut short, or bytes after the end): it is only a cache.
  if (pathsAt + pathBytes !== buf.length || buf.toString('utf8', HEADER, HEADER + idBytes) !== storeId) return EMPTY;
  const paths = buf.toString('utf8', pathsAt, buf.length).split('\0');
  if (paths.length !== count + 1 || paths[count] !== '') return EMPTY;
  const index = new Map<string, number>();
  for (let i = 0; i < count; i++) index.set(paths[i], i);
  // A Float64Array view needs an 8-aligned offset; a pooled small Buffer may not give one.
  const nums = (buf.byteOffset + numsAt) % 8 === 0
    ? new Float64Array(buf.buffer, buf.byteOffset + numsAt, count * NUMS)
    : new Float64Array(buf.buffer.slice(buf.byteOffset + numsAt, buf.byteOffset + blobsAt));
  return { index, nums, blobs: buf.subarray(blobsAt, pathsAt), generation: buf.readUInt32LE(20) };
}

function encode(storeId: string, generation: number, paths: string[], nums: Float64Array, blobs: Buffer): Buffer {
  const id = Buffer.from(storeId, 'utf8');
  const pathText = Buffer.from(paths.length ? paths.join('\0') + '\0' : '', 'utf8');
  const numsAt = HEADER + pad8(id.length);
  const out = Buffer.alloc(numsAt + nums.byteLength + blobs.length + pathText.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(paths.length, 8);
  out.writeUInt32LE(id.length, 12);
  out.writeUInt32LE(pathText.length, 16);
  out.writeUInt32LE(generation >>> 0, 20);
  id.copy(out, HEADER);
  Buffer.from(nums.buffer, nums.byteOffset, nums.byteLength).copy(out, numsAt);
  blobs.copy(out, numsAt + nums.byteLength);
  pathText.copy(out, numsAt + nums.byteLength + blobs.length);
  return out;
}

export class StatCache {
  private readonly updates = new Map<string, Entry | null>();
  /** Entries of the loaded file that lookup() was asked about (the files a scan found). */
  private asked = new Uint8Array(0);

  private constructor(readonly file: string, readonly storeId: string, private loaded: Loaded) {
    this.asked = new Uint8Array(loaded.index.size);
  }

  static load(file: string, storeId: string): StatCache {
    return new StatCache(file, storeId, read(file, storeId));
  }

  /** The blob id recorded for this file when its stat still matches and the entry is trustworthy. */
  lookup(rel: string, st: StatKey): string | undefined {
    return this.unchanged(rel, st) ? this.recordedBlob(rel) : undefined;
  }

  /**
   * Whether the file's stat still matches its entry and the entry is trustworthy: lookup()
   * without making the blob id's text, which a scan of an unchanged folder never needs.
   */
  unchanged(rel: string, st: StatKey): boolean {
    if (this.updates.size && this.updates.has(rel)) {
      const e = this.updates.get(rel);
      if (!e) return false;
      const k = e.key;
      if (k.size !== st.size || k.mtimeMs !== st.mtimeMs || k.ctimeMs !== st.ctimeMs || k.ino !== st.ino || k.mode !== st.mode) return false;
      return e.verifiedAt - k.mtimeMs >= racyWindowMs(k.mtimeMs);
    }
    const i = this.loaded.index.get(rel);
    if (i === undefined) return false;
    this.asked[i] = 1;
    const n = this.loaded.nums;
    const at = i * NUMS;
    if (n[at] !== st.size || n[at + 1] !== st.mtimeMs || n[at + 2] !== st.ctimeMs || n[at + 3] !== st.ino || n[at + 4] !== st.mode) return false;
    return n[at + 5] - n[at + 1] >= racyWindowMs(n[at + 1]);
  }

  /** The blob id recorded for a path, whatever the file's stat now (what a restore or a snapshot recorded). */
  recordedBlob(rel: string): string | undefined {
    if (this.updates.has(rel)) return this.updates.get(rel)?.blob;
    const i = this.loaded.index.get(rel);
    return i === undefined ? undefined : this.loaded.blobs.toString('hex', i * 20, i * 20 + 20);
  }

  /** A file's entry: the stat it had when its blob was recorded. */
  recordedStat(rel: string): StatKey | undefined {
    if (this.updates.has(rel)) return this.updates.get(rel)?.key;
    const i = this.loaded.index.get(rel);
    if (i === undefined) return undefined;
    const n = this.loaded.nums.subarray(i * NUMS, i * NUMS + NUMS);
    return { size: n[0], mtimeMs: n[1], ctimeMs: n[2], ino: n[3], mode: n[4] };
  }

  /** Records that the file with this stat held `blob` at time `verifiedAt` (ms). */
  set(rel: string, st: StatKey, blob: string, verifiedAt: number): void {
    this.updates.set(rel, { key: statKey(st), blob, verifiedAt });
    this.dropFolderTrees(rel);
  }

  delete(rel: string): void {
    this.updates.set(rel, null);
    this.dropFolderTrees(rel);
  }

  /** The tree recorded for a folder ('.': the workspace root) and its number of entries. */
  tree(rel: string): { oid: string; entries: number } | undefined {
    const key = folderKey(rel);
    if (this.updates.has(key)) {
      const e = this.updates.get(key);
      return e ? { oid: e.blob, entries: e.key.size } : undefined;
    }
    const i = this.loaded.index.get(key);
    if (i === undefined) return undefined;
    return { oid: this.loaded.blobs.toString('hex', i * 20, i * 20 + 20), entries: this.loaded.nums[i * NUMS] };
  }

  /** Records the tree a folder's files made; only after every change to the files below it is recorded. */
  setTree(rel: string, oid: string, entries: number): void {
    const now = this.tree(rel);
    if (now?.oid === oid && now.entries === entries) return;
    this.updates.set(folderKey(rel), { key: { size: entries, mtimeMs: 0, ctimeMs: 0, ino: 0, mode: FOLDER_MODE }, blob: oid, verifiedAt: 0 });
  }

  /** A file below them changed: the trees recorded for its folders no longer hold. */
  private dropFolderTrees(rel: string): void {
    for (let p = rel; p !== '.';) {
      const cut = p.lastIndexOf('/');
      p = cut < 0 ? '.' : p.slice(0, cut);
      this.updates.set(folderKey(p), null);
    }
  }

  /** Paths of files with an entry at or under `prefix` ('.' = all); with `unasked`, only those lookup() was not asked about. */
  pathsUnder(prefix: string, unasked = false): string[] {
    const out: string[] = [];
    const under = (p: string): boolean => !p.endsWith('/') && (prefix === '.' || p === prefix || p.startsWith(prefix + '/'));
    for (const [p, i] of this.loaded.index) if (!(unasked && this.asked[i]) && under(p) && !this.updates.has(p)) out.push(p);
    if (!unasked) for (const [p, e] of this.updates) if (e && under(p)) out.push(p);
    return out;
  }

  /**
   * Writes the updates, merged onto what is on disk now (another process may have saved
   * entries since this one loaded), atomically. Nothing changed: nothing is written.
   */
  save(): void {
    if (!this.updates.size) return;
    const onDisk = read(this.file, this.storeId);
    if (onDisk.generation !== this.loaded.generation) {
      // Saved by another process since this one loaded: the trees recorded here may rest on file
      // entries it has changed since, so only file entries (and dropped trees) are merged.
      for (const [p, e] of this.updates) if (e && p.endsWith('/')) this.updates.delete(p);
      if (!this.updates.size) return;
    }
    const paths: string[] = [];
    const kept: number[] = [];
    for (const [p, i] of onDisk.index) {
      if (this.updates.has(p)) continue;
      paths.push(p);
      kept.push(i);
    }
    const added = [...this.updates].filter((u): u is [string, Entry] => u[1] !== null);
    const count = kept.length + added.length;
    const nums = new Float64Array(count * NUMS);
    const blobs = Buffer.alloc(count * 20);
    kept.forEach((i, j) => {
      nums.set(onDisk.nums.subarray(i * NUMS, i * NUMS + NUMS), j * NUMS);
      onDisk.blobs.copy(blobs, j * 20, i * 20, i * 20 + 20);
    });
    added.forEach(([p, e], k) => {
      const j = kept.length + k;
      paths.push(p);
      nums.set([e.key.size, e.key.mtimeMs, e.key.ctimeMs, e.key.ino, e.key.mode, e.verifiedAt], j * NUMS);
      blobs.write(e.blob, j * 20, 20, 'hex');
    });
    const data = encode(this.storeId, onDisk.generation + 1, paths, nums, blobs);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, data);
    fs.rmSync(path.join(path.dirname(this.file), LEGACY_FILE), { force: true });
    this.loaded = decode(data, this.storeId);
    this.asked = new Uint8Array(this.loaded.index.size);
    this.updates.clear();
  }
}

export function statKey(st: fs.Stats | StatKey): StatKey {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode };
}
