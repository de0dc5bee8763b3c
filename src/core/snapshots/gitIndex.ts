import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/**
 * A git index file (format version 2, as `git ls-files` reads it) for the probe in gitProbe.ts,
 * with what the probe needs to answer a snapshot carried in an optional extension of our own
 * ("MLSN": git ignores extensions whose name starts with a capital letter), so the index and
 * what it vouches for are always one file, replaced atomically.
 */

/**
 * One file: with the stat git compares (from an lstat with `bigint`), or none (git then sees it
 * as changed); or, as an earlier index holds it, its fixed part (stat, mode, id).
 */
export type IndexEntry = { path: string; oid: string; mode: '100644' | '100755' | '120000'; stat?: fs.BigIntStats } | { path: string; fixed: Buffer };

/** What the index vouches for: while git finds every file unchanged, a snapshot of `rels` is this tree. */
export interface IndexRecord {
  storeId: string;
  rels: string[];
  /** Digest of the .mlopsignore text the selection was made with. */
  rules: string;
  tree: string;
  fileCount: number;
  totalBytes: number;
}

/** A yielder's turn for the event loop (snapshots/yielder.ts); undefined when not yet due. */
type Pause = () => Promise<void> | undefined;

/** The name of our extension in the index (git notes on stderr that it skips it). */
export const INDEX_EXTENSION = 'MLSN';
const ENTRY_FIXED = 62;
const u32 = (n: bigint): number => Number(n & 0xffffffffn);

/** The index file's bytes: the entries in the order git wants, the record, the checksum. */
export async function encodeIndex(entries: IndexEntry[], record: IndexRecord, pause: Pause = () => undefined): Promise<Buffer> {
  // git orders entries by the bytes of their names; a tree's listing usually is already.
  const named = entries.map((e) => ({ e, name: Buffer.from(e.path, 'utf8') }));
  if (named.some((x, i) => i > 0 && Buffer.compare(named[i - 1].name, x.name) >= 0)) named.sort((a, b) => Buffer.compare(a.name, b.name));
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  // Each entry: the fixed part, the name, then 1 to 8 NULs so its length is a multiple of 8.
  const size = named.reduce((n, { name }) => n + ((ENTRY_FIXED + name.length + 8) & ~7), 12) + 8 + json.length + 4;
  const out = Buffer.alloc(size + 20); // zeros: the padding, and a missing stat (which matches no file)
  out.write('DIRC', 0, 'latin1');
  out.writeUInt32BE(2, 4);
  out.writeUInt32BE(named.length, 8);
  let at = 12;
  for (let i = 0; i < named.length; i++) {
    if ((i & 255) === 0) await pause();
    const { e, name } = named[i];
    if ('fixed' in e) e.fixed.copy(out, at, 0, 60);
    else {
      const s = e.stat;
      if (s) {
        const times = [s.ctimeNs / 1_000_000_000n, s.ctimeNs % 1_000_000_000n, s.mtimeNs / 1_000_000_000n, s.mtimeNs % 1_000_000_000n, s.dev, s.ino];
        for (let k = 0; k < times.length; k++) out.writeUInt32BE(u32(times[k]), at + k * 4);
        out.writeUInt32BE(u32(s.uid), at + 28);
        out.writeUInt32BE(u32(s.gid), at + 32);
        out.writeUInt32BE(u32(s.size), at + 36);
      }
      out.writeUInt32BE(parseInt(e.mode, 8), at + 24);
      out.write(e.oid, at + 40, 20, 'hex');
    }
    out.writeUInt16BE(Math.min(name.length, 0xfff), at + 60);
    name.copy(out, at + ENTRY_FIXED);
    at += (ENTRY_FIXED + name.length + 8) & ~7;
  }
  // The extension: its name, its size, the record's JSON and (last, for readRecord) that JSON's length.
  out.write(INDEX_EXTENSION, at, 'latin1');
  out.writeUInt32BE(json.length + 4, at + 4);
  json.copy(out, at + 8);
  out.writeUInt32BE(json.length, at + 8 + json.length);
  createHash('sha1').update(out.subarray(0, size)).digest().copy(out, size);
  return out;
}

/**
 * The entries of an index file written here, by path: their fixed part (stat, mode, id). Empty
 * when it is missing or not ours; undefined when its checksum is not `checksum` (rewritten since).
 */
export async function readEntries(file: string, pause: Pause, checksum?: string): Promise<Map<string, Buffer> | undefined> {
  const out = new Map<string, Buffer>();
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return checksum === undefined ? out : undefined;
  }
  if (checksum !== undefined && buf.toString('hex', buf.length - 20) !== checksum) return undefined;
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'DIRC' || buf.readUInt32BE(4) !== 2) return out;
  const count = buf.readUInt32BE(8);
  let at = 12;
  for (let i = 0; i < count && at + ENTRY_FIXED <= buf.length; i++) {
    if ((i & 255) === 0) await pause();
    let end = at + ENTRY_FIXED + (buf.readUInt16BE(at + 60) & 0xfff);
    if ((buf.readUInt16BE(at + 60) & 0xfff) === 0xfff) end = buf.indexOf(0, at + ENTRY_FIXED);
    if (end < 0 || end > buf.length) break;
    out.set(buf.toString('utf8', at + ENTRY_FIXED, end), buf.subarray(at, at + ENTRY_FIXED));
    at = (end - at + 8 & ~7) + at;
  }
  return out;
}

/** A timestamp in milliseconds exactly as Node's (non-bigint) stat gives it, which the stat cache records. */
export function statMs(seconds: number, nanoseconds: number): number {
  return seconds * 1e3 + nanoseconds / 1e6;
}

/** An earlier entry's id and mode, and the stat it holds (times as Node's milliseconds; inode and size cut to 32 bits, as git keeps them). */
export function entryFacts(fixed: Buffer): { oid: string; mode: number; size: number; ino: number; mtimeMs: number; ctimeMs: number } {
  const ms = (at: number) => statMs(fixed.readUInt32BE(at), fixed.readUInt32BE(at + 4));
  return { oid: fixed.toString('hex', 40, 60), mode: fixed.readUInt32BE(24), size: fixed.readUInt32BE(36), ino: fixed.readUInt32BE(20), mtimeMs: ms(8), ctimeMs: ms(0) };
}

/** The record of an index file and its checksum (which changes with any rewrite), read from its end only; undefined when missing or not ours. */
export function readRecord(file: string): { record: IndexRecord; checksum: string } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const tailSize = Math.min(size, 64 * 1024);
    const tail = Buffer.alloc(tailSize);
    fs.readSync(fd, tail, 0, tailSize, size - tailSize);
    if (tailSize < 36) return undefined;
    const checksum = tail.toString('hex', tailSize - 20);
    const jsonLength = tail.readUInt32BE(tailSize - 24);
    const extAt = tailSize - 24 - jsonLength - 8;
    if (extAt < 0 || tail.toString('latin1', extAt, extAt + 4) !== INDEX_EXTENSION || tail.readUInt32BE(extAt + 4) !== jsonLength + 4) return undefined;
    return { record: JSON.parse(tail.toString('utf8', extAt + 8, extAt + 8 + jsonLength)) as IndexRecord, checksum };
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
