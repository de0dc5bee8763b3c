import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { writeAllSync, writeFileAtomic } from '../workspace/atomicFile';
import { crc32, isIncompressible, LEVEL_INCOMPRESSIBLE, LEVEL_PACKED, oneShotOptions } from './compression';
import { OBJ_BLOB } from './packIndex';

/** A pack is closed and a new one started past this size. */
export const PACK_ROLL_BYTES = 128 * 1024 * 1024;
const FLUSH_BYTES = 1024 * 1024;

interface Entry { oid: Buffer; offset: number; crc: number }

/**
 * Writes many small blobs as one git pack (`objects/pack/pack-<checksum>.pack` + `.idx`, index
 * version 2) instead of one loose file each: creating 10,000 files costs far more than
 * writing one. Entries are whole (never deltas). The pack is written under a temp name and
 * renamed into place, then its index: git and readers see it only when it is complete.
 */
export class PackWriter {
  private fd: number;
  private readonly tmp: string;
  private offset = 0;
  private readonly entries: Entry[] = [];
  /** Entries are copied into one reused buffer and written from it (no garbage per flush). */
  private readonly out = Buffer.allocUnsafe(FLUSH_BYTES);
  private bufferedBytes = 0;
  private closed = false;

  constructor(private readonly packDir: string) {
    fs.mkdirSync(packDir, { recursive: true });
    this.tmp = path.join(packDir, `tmp_pack_${process.pid}_${randomBytes(6).toString('hex')}`);
    this.fd = fs.openSync(this.tmp, 'w+');
    this.push(Buffer.alloc(12)); // header, filled in by finish()
  }

  get bytes(): number { return this.offset; }

  /** Appends a blob whose id is already known. */
  add(oid: string, content: Buffer): void {
    const level = content.length > 4096 && isIncompressible(content) ? LEVEL_INCOMPRESSIBLE : LEVEL_PACKED;
    const data = zlib.deflateSync(content, oneShotOptions(level, content.length));
    const head = entryHeader(OBJ_BLOB, content.length);
    this.entries.push({ oid: Buffer.from(oid, 'hex'), offset: this.offset, crc: crc32(data, crc32(head)) });
    this.push(head);
    this.push(data);
  }

  private push(b: Buffer): void {
    this.offset += b.length;
    if (this.bufferedBytes + b.length > this.out.length) {
      this.flush();
      if (b.length > this.out.length) {
        writeAllSync(this.fd, b);
        return;
      }
    }
    b.copy(this.out, this.bufferedBytes);
    this.bufferedBytes += b.length;
  }

  private flush(): void {
    if (!this.bufferedBytes) return;
    writeAllSync(this.fd, this.out.subarray(0, this.bufferedBytes));
    this.bufferedBytes = 0;
  }

  /** Completes the pack and its index; returns the pack's name, or undefined when it held nothing. */
  finish(): string | undefined {
    if (this.closed) return undefined;
    if (!this.entries.length) {
      this.abort();
      return undefined;
    }
    this.flush();
    const header = Buffer.alloc(12);
    header.write('PACK', 0, 'latin1');
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(this.entries.length, 8);
    fs.writeSync(this.fd, header, 0, 12, 0);
    // The trailing checksum covers the final header, so the pack is read back once (from the page cache).
    const hash = createHash('sha1');
    const chunk = Buffer.allocUnsafe(FLUSH_BYTES);
    for (let pos = 0; pos < this.offset; ) {
      const n = fs.readSync(this.fd, chunk, 0, Math.min(chunk.length, this.offset - pos), pos);
      if (n <= 0) throw new Error(`short read of ${this.tmp}`);
      hash.update(chunk.subarray(0, n));
      pos += n;
    }
    const checksum = hash.digest();
    fs.writeSync(this.fd, checksum, 0, 20, this.offset);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.closed = true;
    const name = `pack-${checksum.toString('hex')}`;
    const packFile = path.join(this.packDir, `${name}.pack`);
    fs.renameSync(this.tmp, packFile);
    writeFileAtomic(path.join(this.packDir, `${name}.idx`), buildIndex(this.entries, checksum));
    return name;
  }

  /** Drops the unfinished pack. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** A pack entry header: 3 bits of type, then the inflated size in little-endian base-128 groups. */
function entryHeader(type: number, size: number): Buffer {
  const bytes: number[] = [];
  let b = (type << 4) | (size & 15);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(b | 0x80);
    b = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(b);
  return Buffer.from(bytes);
}

/** Pack index version 2: fan-out, sorted names, CRCs, 31-bit offsets, pack checksum, own checksum. */
function buildIndex(entries: Entry[], packChecksum: Buffer): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.oid, b.oid));
  const n = sorted.length;
  const out = Buffer.alloc(8 + 1024 + n * 28 + 40);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  const fanout = new Uint32Array(256);
  for (const e of sorted) fanout[e.oid[0]]++;
  let total = 0;
  for (let i = 0; i < 256; i++) {
    total += fanout[i];
    out.writeUInt32BE(total, 8 + i * 4);
  }
  let at = 8 + 1024;
  for (const e of sorted) { e.oid.copy(out, at); at += 20; }
  for (const e of sorted) { out.writeUInt32BE(e.crc >>> 0, at); at += 4; }
  for (const e of sorted) {
    if (e.offset >= 0x80000000) throw new Error('pack offset beyond 2 GiB'); // PACK_ROLL_BYTES keeps packs far below
    out.writeUInt32BE(e.offset, at);
    at += 4;
  }
  packChecksum.copy(out, at);
  at += 20;
  createHash('sha1').update(out.subarray(0, at)).digest().copy(out, at);
  return out;
}
