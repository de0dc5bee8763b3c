import * as fs from 'node:fs';

const CHUNK = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** A log's lines from the last to the first, read from the end in chunks: a small window reads only the file's tail. */
export function* linesFromEnd(file: string): Generator<[Buffer, number, number]> {
  const fd = fs.openSync(file, 'r');
  try {
    let pos = fs.fstatSync(fd).size;
    let carry = Buffer.alloc(0);
    while (pos > 0) {
      const size = Math.min(CHUNK, pos);
      pos -= size;
      const chunk = Buffer.allocUnsafe(size + carry.length);
      for (let got = 0; got < size;) got += fs.readSync(fd, chunk, got, size - got, pos + got) || size;
      carry.copy(chunk, size);
      let end = chunk.length;
      for (let nl = chunk.lastIndexOf(NEWLINE, end - 1); end > 0 && nl >= 0; nl = end > 0 ? chunk.lastIndexOf(NEWLINE, end - 1) : -1) {
        if (end > nl + 1) yield [chunk, nl + 1, end];
        end = nl;
      }
      carry = chunk.subarray(0, end);
    }
    if (carry.length) yield [carry, 0, carry.length];
  } finally {
    fs.closeSync(fd);
  }
}
