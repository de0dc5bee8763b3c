import * as fs from 'node:fs';

/** Pack entry types (git's pack format). */
export const OBJ_BLOB = 3;
export const OBJ_OFS_DELTA = 6;
export const OBJ_REF_DELTA = 7;
export const TYPE_NAMES: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };

/**
 * A version 2 pack index (`objects/pack/pack-*.idx`), read whole into memory
 * (28 bytes per object): finds an object's offset in its pack and where its entry ends.
 */
export class PackIndex {
  private sortedOffsets?: Float64Array;

  private constructor(
    readonly idxFile: string,
    readonly packFile: string,
    readonly count: number,
    private readonly buf: Buffer,
    readonly packSize: number,
  ) {}

  /** Reads an index; undefined when it is not a version 2 index or its pack is missing. */
  static load(idxFile: string): PackIndex | undefined {
    const packFile = idxFile.replace(/\.idx$/, '.pack');
    let buf: Buffer;
    let packSize: number;
    try {
      buf = fs.readFileSync(idxFile);
      packSize = fs.statSync(packFile).size;
    } catch {
      return undefined;
    }
    if (buf.length < 8 + 1024 + 40 || buf.readUInt32BE(0) !== 0xff744f63 || buf.readUInt32BE(4) !== 2) return undefined;
    const count = buf.readUInt32BE(8 + 255 * 4);
    if (buf.length < 8 + 1024 + count * 28 + 40) return undefined;
    return new PackIndex(idxFile, packFile, count, buf, packSize);
  }

  private get namesAt(): number { return 8 + 1024; }
  private get offsetsAt(): number { return this.namesAt + this.count * 24; }
  private get largeAt(): number { return this.offsetsAt + this.count * 4; }

  /** The offset of the object in the pack, or undefined. */
  find(oid: Buffer): number | undefined {
    const first = oid[0];
    let lo = first === 0 ? 0 : this.buf.readUInt32BE(8 + (first - 1) * 4);
    let hi = this.buf.readUInt32BE(8 + first * 4);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.namesAt + mid * 20;
      // Byte by byte in JS: names differ within a byte or two, and a native compare per step costs more.
      let k = 1;
      while (k < 20 && this.buf[at + k] === oid[k]) k++;
      if (k === 20) return this.offsetOf(mid);
      if (this.buf[at + k] < oid[k]) lo = mid + 1; // this.buf's name is smaller than oid
      else hi = mid;
    }
    return undefined;
  }

  private offsetOf(i: number): number {
    const v = this.buf.readUInt32BE(this.offsetsAt + i * 4);
    if (!(v & 0x80000000)) return v;
    const at = this.largeAt + (v & 0x7fffffff) * 8;
    return this.buf.readUInt32BE(at) * 2 ** 32 + this.buf.readUInt32BE(at + 4);
  }

  /** Where the entry starting at `offset` ends: the next entry's offset, or the pack's trailing checksum. */
  entryEnd(offset: number): number {
    if (!this.sortedOffsets) {
      const all = new Float64Array(this.count);
      for (let i = 0; i < this.count; i++) all[i] = this.offsetOf(i);
      this.sortedOffsets = all.sort();
    }
    const s = this.sortedOffsets;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < s.length ? s[lo] : this.packSize - 20;
  }
}

export interface PackEntryHeader {
  type: number;
  /** Inflated size of the entry's data (for a delta: of the delta, not of the object). */
  size: number;
  /** Where the zlib data starts. */
  dataStart: number;
  /** For OBJ_OFS_DELTA: the base's offset; for OBJ_REF_DELTA: the base's id. */
  base?: number | string;
}

/** Parses the entry header at `offset` of an open pack file. */
export function readEntryHeader(fd: number, offset: number): PackEntryHeader {
  const b = Buffer.alloc(64);
  const n = fs.readSync(fd, b, 0, b.length, offset);
  let i = 0;
  let c = b[i++];
  const type = (c >> 4) & 7;
  let size = c & 15;
  let mul = 16;
  while (c & 0x80) {
    if (i >= n) throw new Error(`truncated pack entry header at offset ${offset}`);
    c = b[i++];
    size += (c & 0x7f) * mul;
    mul *= 128;
  }
  let base: number | string | undefined;
  if (type === OBJ_OFS_DELTA) {
    c = b[i++];
    let rel = c & 0x7f;
    while (c & 0x80) {
      c = b[i++];
      rel = (rel + 1) * 128 + (c & 0x7f);
    }
    base = offset - rel;
  } else if (type === OBJ_REF_DELTA) {
    base = b.subarray(i, i + 20).toString('hex');
    i += 20;
  }
  if (i > n) throw new Error(`truncated pack entry header at offset ${offset}`);
  return { type, size, dataStart: offset + i, base };
}

/** Reads a little-endian base-128 size from a delta's header (used to learn a delta's result size). */
export function deltaSizes(data: Buffer): { source: number; target: number } {
  let i = 0;
  const next = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= data.length) throw new Error('truncated delta header');
      const c = data[i++];
      v += (c & 0x7f) * mul;
      mul *= 128;
      if (!(c & 0x80)) return v;
    }
  };
  const source = next();
  return { source, target: next() };
}
