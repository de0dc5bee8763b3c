import * as fs from 'node:fs';
import { Readable } from 'node:stream';

/** A file to put in the archive: its name there and where it is here (or its text, for a file made for the job). */
export type TarEntry = { name: string; file: string } | { name: string; text: string; executable?: boolean };

const BLOCK = 512;

function header(name: string, size: number, mode: number, mtime: number, type: '0' | 'L'): Buffer {
  const h = Buffer.alloc(BLOCK);
  const octal = (value: number, width: number, at: number) => h.write(value.toString(8).padStart(width - 1, '0') + '\0', at, 'ascii');
  h.write(name, 0, 100, 'utf8'); // a longer name travels in the 'L' entry before this one
  octal(mode, 8, 100);
  octal(0, 8, 108);
  octal(0, 8, 116);
  octal(size, 12, 124);
  octal(mtime, 12, 136);
  h.write('        ', 148, 'ascii'); // checksum counts as spaces while summing
  h.write(type, 156, 'ascii');
  h.write('ustar  \0', 257, 'ascii'); // the GNU magic, which goes with the 'L' long-name entries
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/**
 * A tar stream of regular files, written here so the same archive works from any OS
 * and names can be placed under any folder; any tar (GNU, BSD, busybox, Python's) reads it.
 */
export function tarStream(entries: TarEntry[]): Readable {
  async function* blocks(): AsyncGenerator<Buffer> {
    for (const entry of entries) {
      const name = Buffer.from(entry.name, 'utf8');
      if (name.length > 100) {
        yield header('././@LongLink', name.length + 1, 0o644, 0, 'L');
        yield Buffer.concat([name, Buffer.alloc(1), padding(name.length + 1)]);
      }
      if ('text' in entry) {
        const data = Buffer.from(entry.text, 'utf8');
        yield header(entry.name, data.length, entry.executable ? 0o755 : 0o644, Math.floor(Date.now() / 1000), '0');
        yield Buffer.concat([data, padding(data.length)]);
        continue;
      }
      // A file deleted since it was listed travels empty rather than breaking the stream (which
      // would leave the far side waiting for the rest); a shipped object's id check then names it.
      const stat = fs.statSync(entry.file, { throwIfNoEntry: false });
      const size = stat?.size ?? 0;
      yield header(entry.name, size, (stat?.mode ?? 0) & 0o111 ? 0o755 : 0o644, Math.floor((stat?.mtimeMs ?? Date.now()) / 1000), '0');
      let written = 0;
      try {
        for await (const chunk of fs.createReadStream(entry.file)) {
          // A file that grows while being read is cut at the size the header promised.
          const part = (chunk as Buffer).subarray(0, size - written);
          written += part.length;
          yield part;
        }
      } catch {
        // deleted or unreadable while being read: the zeros below keep the archive well-formed
      }
      if (written < size) yield Buffer.alloc(size - written); // it shrank: keep the archive well-formed
      yield padding(size);
    }
    yield Buffer.alloc(BLOCK * 2);
  }
  return Readable.from(blocks());
}
