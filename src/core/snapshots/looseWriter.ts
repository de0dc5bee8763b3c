import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { isIncompressible, LEVEL_INCOMPRESSIBLE, LEVEL_PACKED, LEVEL_STREAMED, oneShotOptions, PROBE_BYTES } from './compression';
import { RepoPaths } from './gitFs';
import { statKey, type StatKey } from './statCache';
import { SnapshotError } from './types';

const READ_CHUNK = 1024 * 1024;

/** Moves a finished temp object to its place, or drops it when the object exists already. */
function place(paths: RepoPaths, tmp: string, oid: string): void {
  const final = paths.loose(oid);
  if (fs.existsSync(final)) {
    fs.rmSync(tmp, { force: true });
    return;
  }
  fs.mkdirSync(path.dirname(final), { recursive: true });
  fs.renameSync(tmp, final);
}

/** Writes a blob held in memory as a loose object (temp file, rename). */
export function writeLooseBuffer(paths: RepoPaths, oid: string, content: Buffer): void {
  if (fs.existsSync(paths.loose(oid))) return;
  const level = content.length > 4096 && isIncompressible(content) ? LEVEL_INCOMPRESSIBLE : LEVEL_PACKED;
  writeWhole(paths, oid, Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]), level);
}

/**
 * Writes a small commit or tree (`object`: its header and content, as hashed) as a loose object
 * unless the store has it; returns its id. isomorphic-git's own writer deflates through web
 * streams, which costs more than the rest of an unchanged re-snapshot.
 */
export function writeLooseObject(paths: RepoPaths, object: Buffer): string {
  const oid = createHash('sha1').update(object).digest('hex');
  if (!fs.existsSync(paths.loose(oid))) writeWhole(paths, oid, object, LEVEL_PACKED);
  return oid;
}

function writeWhole(paths: RepoPaths, oid: string, whole: Buffer, level: number): void {
  const deflate = zlib.deflateSync(whole, oneShotOptions(level, whole.length));
  const tmp = paths.tmpObject();
  try {
    fs.writeFileSync(tmp, deflate);
    place(paths, tmp, oid);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export interface StreamedBlob {
  oid: string;
  /** The file's stat when it was opened (what the stat cache records). */
  key: StatKey;
}

/**
 * Streams a file of any size into a loose object in constant memory: one read pass hashes
 * `blob <size>\0` + content with SHA-1 while zlib deflates it into a temp file inside
 * objects/, which is then renamed to objects/xx/yyyy… (or dropped if that exists). The zlib
 * level comes from a probe of the first 64 KiB. A file that changes while it is read is
 * refused rather than stored half old, half new.
 */
export async function writeLooseFromFile(
  paths: RepoPaths,
  abs: string,
  rel: string,
  onBytes: (n: number) => void,
  signal: AbortSignal | undefined,
): Promise<StreamedBlob> {
  const fh = await fs.promises.open(abs, 'r');
  const tmp = paths.tmpObject();
  let ok = false;
  try {
    const stat = await fh.stat();
    const size = stat.size;
    const probe = Buffer.allocUnsafe(Math.min(size, PROBE_BYTES));
    const { bytesRead } = await fh.read(probe, 0, probe.length, 0);
    const level = isIncompressible(probe.subarray(0, bytesRead)) ? LEVEL_INCOMPRESSIBLE : LEVEL_STREAMED;
    const header = Buffer.from(`blob ${size}\0`);
    const hash = createHash('sha1').update(header);
    let seen = 0;
    const changed = (): SnapshotError =>
      new SnapshotError(`"${rel}" changed while it was being snapshotted; run the snapshot again when nothing is writing to it.`, 'changed-while-reading');
    async function* content(): AsyncGenerator<Buffer> {
      yield header;
      for (;;) {
        // A fresh buffer each time: zlib may still hold the previous one.
        const buf = Buffer.allocUnsafe(READ_CHUNK);
        const { bytesRead: n } = await fh.read(buf, 0, buf.length, seen);
        if (n === 0) break;
        seen += n;
        if (seen > size) throw changed();
        const chunk = buf.subarray(0, n);
        hash.update(chunk);
        onBytes(n);
        yield chunk;
      }
    }
    await fs.promises.mkdir(paths.objects, { recursive: true });
    await pipeline(content, zlib.createDeflate({ level, chunkSize: 256 * 1024 }), fs.createWriteStream(tmp, { highWaterMark: 1024 * 1024 }), { signal });
    const after = await fh.stat();
    if (seen !== size || after.size !== size || after.mtimeMs !== stat.mtimeMs) throw changed();
    const oid = hash.digest('hex');
    place(paths, tmp, oid);
    ok = true;
    return { oid, key: statKey(stat) };
  } finally {
    await fh.close();
    if (!ok) await fs.promises.rm(tmp, { force: true });
  }
}
