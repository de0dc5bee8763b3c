import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import { RepoPaths } from './gitFs';
import { deltaSizes, OBJ_BLOB, OBJ_OFS_DELTA, OBJ_REF_DELTA, PackIndex, readEntryHeader, TYPE_NAMES } from './packIndex';
import { SnapshotError } from './types';

const CHUNK = 1024 * 1024;

type Location =
  | { kind: 'loose'; file: string }
  | { kind: 'packed'; pack: PackIndex; offset: number };

/** Reads whole objects from packs when they are deltas (isomorphic-git does that part). */
export type PackedObjectReader = (oid: string) => Promise<Uint8Array>;

/**
 * Finds and reads blobs in the object store without isomorphic-git's whole-object reads:
 * sizes come from object headers, content streams through zlib and is checked against its
 * id as it goes. Loose objects and non-delta pack entries stream in constant memory; a delta
 * (only in packs that came from a fetch or `git gc`) is read whole through `readPacked`.
 */
export class ObjectStore {
  private readonly packs = new Map<string, PackIndex | undefined>();
  private packsListedAt = -1;
  /** Fan-out folder (first two hex digits) → the loose object file names in it, listed once. */
  private readonly looseNames = new Map<string, Set<string>>();

  constructor(readonly paths: RepoPaths, private readonly readPacked: PackedObjectReader) {}

  /** Whether the store holds the object (loose or in a pack). */
  has(oid: string): boolean {
    return this.locate(oid) !== undefined;
  }

  /**
   * For the writer and the stat cache, where a miss only costs a duplicate object: each loose
   * fan-out folder and the pack indexes as they were when first asked (one readdir per folder
   * instead of one stat per object: an unchanged re-snapshot asks for every file's blob).
   */
  hasQuick(oid: string): boolean {
    const fan = oid.slice(0, 2);
    let names = this.looseNames.get(fan);
    if (!names) {
      try {
        names = new Set(fs.readdirSync(path.join(this.paths.objects, fan)));
      } catch {
        names = new Set();
      }
      this.looseNames.set(fan, names);
    }
    if (names.has(oid.slice(2))) return true;
    if (this.packsListedAt < 0) this.refreshPacks();
    return this.findPacked(Buffer.from(oid, 'hex')) !== undefined;
  }

  /** Lists the packs again (after this process wrote or fetched one). */
  refreshPacks(): void {
    this.looseNames.clear();
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.paths.packDir).filter((n) => n.endsWith('.idx'));
    } catch {
      // no pack folder yet
    }
    const present = new Set(names);
    for (const name of [...this.packs.keys()]) if (!present.has(name)) this.packs.delete(name);
    for (const name of names) if (!this.packs.get(name)) this.packs.set(name, PackIndex.load(path.join(this.paths.packDir, name)));
    this.packsListedAt = Date.now();
  }

  private findPacked(oid: Buffer): Location | undefined {
    for (const pack of this.packs.values()) {
      if (!pack) continue;
      const offset = pack.find(oid);
      if (offset !== undefined) return { kind: 'packed', pack, offset };
    }
    return undefined;
  }

  private locate(oid: string): Location | undefined {
    const file = this.paths.loose(oid);
    if (fs.existsSync(file)) return { kind: 'loose', file };
    const bin = Buffer.from(oid, 'hex');
    if (this.packsListedAt < 0) this.refreshPacks();
    let found = this.findPacked(bin);
    if (!found) {
      // A pack may have arrived since (fetch, another process, git gc).
      this.refreshPacks();
      found = this.findPacked(bin);
      if (!found && fs.existsSync(file)) return { kind: 'loose', file };
    }
    return found;
  }

  private locateOrThrow(oid: string): Location {
    const at = this.locate(oid);
    if (!at) throw corrupt(oid, 'it is missing');
    return at;
  }

  /** Type and size of an object, read from its header only. */
  header(oid: string, fds?: Map<string, number>): { type: string; size: number } {
    const at = this.locateOrThrow(oid);
    try {
      if (at.kind === 'loose') return looseHeader(at.file);
      const own = !fds?.has(at.pack.packFile);
      const fd = fds?.get(at.pack.packFile) ?? fs.openSync(at.pack.packFile, 'r');
      if (fds && own) fds.set(at.pack.packFile, fd);
      try {
        let h = readEntryHeader(fd, at.offset);
        if (h.type !== OBJ_OFS_DELTA && h.type !== OBJ_REF_DELTA) return { type: TYPE_NAMES[h.type] ?? `type ${h.type}`, size: h.size };
        const target = deltaSizes(inflatePrefix(fd, h.dataStart, 64)).target;
        // The type is the base's: follow offset deltas within this pack (ref deltas: assume blob, their usual case).
        let type = 'blob';
        for (let hops = 0; h.type === OBJ_OFS_DELTA && hops < 10_000; hops++) {
          h = readEntryHeader(fd, h.base as number);
          if (h.type !== OBJ_OFS_DELTA && h.type !== OBJ_REF_DELTA) type = TYPE_NAMES[h.type] ?? type;
        }
        return { type, size: target };
      } finally {
        if (!fds) fs.closeSync(fd);
      }
    } catch (err) {
      if (err instanceof SnapshotError) throw err;
      throw corrupt(oid, describe(err), err);
    }
  }

  /** Size of a blob's content. */
  size(oid: string): number {
    return this.header(oid).size;
  }

  /** Sizes of many blobs, each pack opened once. */
  sizes(oids: string[]): number[] {
    const fds = new Map<string, number>();
    try {
      return oids.map((oid) => this.header(oid, fds).size);
    } finally {
      for (const fd of fds.values()) fs.closeSync(fd);
    }
  }

  /**
   * A small object of the given type ('commit', 'blob', …) read and checked in one go (no
   * streams: for the many small files of a restore, and commits); undefined when it is larger
   * than `limit`, of another type, or a delta in a pack (a blob's: then use blobChunks).
   */
  readSmall(oid: string, type: string, limit: number): Buffer | undefined {
    const at = this.locateOrThrow(oid);
    let content: Buffer;
    try {
      if (at.kind === 'loose') {
        let inflated: Buffer;
        const fd = fs.openSync(at.file, 'r');
        try {
          const compressed = fs.fstatSync(fd).size;
          if (compressed > limit + 1024) return undefined;
          const raw = Buffer.allocUnsafe(compressed);
          fs.readSync(fd, raw, 0, compressed, 0);
          inflated = zlib.inflateSync(raw);
        } finally {
          fs.closeSync(fd);
        }
        const nul = inflated.indexOf(0);
        const m = nul > 0 ? /^(blob|tree|commit|tag) (\d+)$/.exec(inflated.subarray(0, nul).toString('latin1')) : null;
        if (!m) throw new Error('its header is unreadable');
        if (m[1] !== type) return undefined;
        content = inflated.subarray(nul + 1);
        if (content.length !== Number(m[2])) throw new Error(`it holds ${content.length} of the ${m[2]} bytes its header says (truncated)`);
      } else {
        const fd = fs.openSync(at.pack.packFile, 'r');
        try {
          const h = readEntryHeader(fd, at.offset);
          if (TYPE_NAMES[h.type] !== type || h.size > limit) return undefined;
          const end = at.pack.entryEnd(at.offset);
          const raw = Buffer.allocUnsafe(end - h.dataStart);
          fs.readSync(fd, raw, 0, raw.length, h.dataStart);
          content = zlib.inflateSync(raw);
          if (content.length !== h.size) throw new Error(`it holds ${content.length} of the ${h.size} bytes its header says`);
        } finally {
          fs.closeSync(fd);
        }
      }
    } catch (err) {
      if (err instanceof SnapshotError) throw err;
      throw corrupt(oid, describe(err), err);
    }
    checkWhole(oid, type, content);
    return content;
  }

  /**
   * The content of a blob, chunk by chunk, checked against its id: a damaged object
   * throws a SnapshotError (code 'corrupt-object') at the point the damage shows.
   */
  async *blobChunks(oid: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const at = this.locateOrThrow(oid);
    if (at.kind === 'packed') {
      const fd = fs.openSync(at.pack.packFile, 'r');
      let h;
      try {
        h = readEntryHeader(fd, at.offset);
      } catch (err) {
        throw corrupt(oid, describe(err), err);
      } finally {
        fs.closeSync(fd);
      }
      if (h.type !== OBJ_BLOB) {
        let whole: Uint8Array;
        try {
          whole = await this.readPacked(oid);
        } catch (err) {
          throw corrupt(oid, describe(err), err);
        }
        checkWhole(oid, 'blob', whole);
        yield Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength);
        return;
      }
      yield* verified(oid, inflateStream(fs.createReadStream(at.pack.packFile, { start: h.dataStart, end: at.pack.entryEnd(at.offset) - 1, highWaterMark: CHUNK, signal })), h.size);
      return;
    }
    yield* verified(oid, inflateStream(fs.createReadStream(at.file, { highWaterMark: CHUNK, signal })), undefined);
  }

  /** A whole blob in memory (for small files and VS Code's diff editor). */
  async readBlob(oid: string): Promise<Buffer> {
    const small = this.readSmall(oid, 'blob', 4 * 1024 * 1024);
    if (small) return small;
    const parts: Buffer[] = [];
    for await (const c of this.blobChunks(oid)) parts.push(c);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

function inflateStream(source: fs.ReadStream): AsyncIterable<Buffer> {
  const inflate = zlib.createInflate({ chunkSize: 256 * 1024 });
  return pipeline(source, inflate, () => undefined) as unknown as AsyncIterable<Buffer>;
}

/**
 * Passes content through while hashing it. `knownSize` is set for pack entries (the data has
 * no header); for loose objects the header is parsed from the first inflated bytes.
 */
async function* verified(oid: string, chunks: AsyncIterable<Buffer>, knownSize: number | undefined): AsyncGenerator<Buffer> {
  const hash = createHash('sha1');
  let size = knownSize;
  let seen = 0;
  let head: Buffer | undefined = undefined;
  if (size !== undefined) hash.update(`blob ${size}\0`);
  try {
    for await (let chunk of chunks) {
      if (size === undefined) {
        head = head ? Buffer.concat([head, chunk]) : chunk;
        const nul = head.indexOf(0);
        if (nul < 0) {
          if (head.length > 64) throw new Error('object header is not terminated');
          continue;
        }
        const m = /^blob (\d+)$/.exec(head.subarray(0, nul).toString('latin1'));
        if (!m) throw new Error(`object is not a blob (header "${head.subarray(0, Math.min(nul, 32)).toString('latin1')}")`);
        size = Number(m[1]);
        hash.update(head.subarray(0, nul + 1));
        chunk = head.subarray(nul + 1);
        head = undefined;
      }
      if (!chunk.length) continue;
      seen += chunk.length;
      if (seen > size) throw new Error(`object holds more than the ${size} bytes its header says`);
      hash.update(chunk);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    if ((err as Error).name === 'AbortError') throw err;
    throw corrupt(oid, describe(err), err);
  }
  if (size === undefined) throw corrupt(oid, 'it ends before its header');
  if (seen !== size) throw corrupt(oid, `it holds ${seen} of the ${size} bytes its header says (truncated)`);
  const actual = hash.digest('hex');
  if (actual !== oid) throw corrupt(oid, `its content hashes to ${actual}`);
}

/** The git id of a blob (or another type of object) with this content. */
export function blobId(content: Uint8Array, type = 'blob'): string {
  return createHash('sha1').update(`${type} ${content.byteLength}\0`).update(content).digest('hex');
}

function checkWhole(oid: string, type: string, content: Uint8Array): void {
  const actual = blobId(content, type);
  if (actual !== oid) throw corrupt(oid, `its content hashes to ${actual}`);
}

function looseHeader(file: string): { type: string; size: number } {
  const fd = fs.openSync(file, 'r');
  let head: Buffer;
  try {
    head = inflatePrefix(fd, 0, 128);
  } finally {
    fs.closeSync(fd);
  }
  const nul = head.indexOf(0);
  const m = nul > 0 ? /^(blob|tree|commit|tag) (\d+)$/.exec(head.subarray(0, nul).toString('latin1')) : null;
  if (!m) throw new Error('its header is unreadable');
  return { type: m[1], size: Number(m[2]) };
}

/** Inflates what the first `bytes` compressed bytes at `position` hold (enough for a header). */
function inflatePrefix(fd: number, position: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  const n = fs.readSync(fd, b, 0, bytes, position);
  if (n === 0) throw new Error('it is empty');
  return zlib.inflateSync(b.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e?.message ?? '')) return 'it is truncated';
  return e?.message ?? String(err);
}

export function corrupt(oid: string, why: string, cause?: unknown): SnapshotError {
  return new SnapshotError(
    `Object ${oid} in .mlops/snapshots.git is damaged: ${why}. Run \`git --git-dir .mlops/snapshots.git fsck\` to list damaged objects; fetch the snapshot again from a remote that has it, or restore .mlops/snapshots.git from a backup.`,
    'corrupt-object',
    { cause },
  );
}
