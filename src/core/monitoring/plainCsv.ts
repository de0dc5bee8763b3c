import * as fs from 'node:fs';
import { ColumnBuilder, type ColumnarTable } from './columns';

const QUOTE = 0x22, COMMA = 0x2c, NEWLINE = 0x0a, RETURN = 0x0d, PLUS = 0x2b, MINUS = 0x2d, DOT = 0x2e, ZERO = 0x30, NINE = 0x39;
/** Files read whole; a larger one goes through the streaming CSV parser. */
const MAX_BYTES = 512 * 1024 * 1024;
/** Exact powers of ten a double holds: products and quotients with them round once (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * The number a CSV cell b[start, end) spells the way the profiler reads one (profile.ts
 * NUMBER: sign, digits with an optional point, exponent), exactly as Number() of its text;
 * NaN when the cell is anything else (text, spaces, a missing-value word).
 */
function cellNumber(b: Buffer, start: number, end: number): number {
  let i = start, negative = false;
  if (b[i] === PLUS || b[i] === MINUS) negative = b[i++] === MINUS;
  let mantissa = 0, digits = 0, seen = 0, scale = 0, c = 0;
  for (; i < end && (c = b[i]) >= ZERO && c <= NINE; i++, seen++) {
    if (digits || c !== ZERO) digits++;
    mantissa = mantissa * 10 + (c - ZERO);
  }
  if (i < end && b[i] === DOT) {
    for (i++; i < end && (c = b[i]) >= ZERO && c <= NINE; i++, seen++) {
      if (digits || c !== ZERO) digits++;
      mantissa = mantissa * 10 + (c - ZERO);
      scale--;
    }
  }
  if (!seen) return NaN;
  let exact = digits <= 15;
  if (i < end && (b[i] | 0x20) === 0x65) {
    i++;
    let sign = 1, e = 0;
    if (b[i] === MINUS || b[i] === PLUS) sign = b[i++] === MINUS ? -1 : 1;
    if (!(i < end && b[i] >= ZERO && b[i] <= NINE)) return NaN;
    for (; i < end && (c = b[i]) >= ZERO && c <= NINE; i++) e = e * 10 + (c - ZERO);
    if (e > 400) exact = false;
    else scale += sign * e;
  }
  if (i !== end) return NaN;
  if (!exact || scale < -22 || scale > 22) return Number(b.toString('latin1', start, end));
  const v = scale < 0 ? mantissa / POW10[-scale] : mantissa * POW10[scale];
  return negative ? -v : v;
}

/** The column names of a .csv file whose header line has no quote (as the CSV parser reads them); undefined otherwise. */
export function plainCsvHeader(file: string): string[] | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, b, 0, b.length, 0);
    const start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
    let end = b.indexOf(NEWLINE, start);
    if (end < 0 || end >= n) return undefined;
    if (end > start && b[end - 1] === RETURN) end--;
    const line = b.subarray(start, end);
    return line.length && !line.includes(QUOTE) ? line.toString('utf8').split(',').map((c) => c.trim()) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads the common reference, a .csv file with no quoted cell, whole and byte by byte into
 * columns: a plain number goes straight into its column, any other cell as its text (what the
 * CSV parser would have given, read the same way). Its streaming parse was most of reading a
 * reference (docs/monitoring.md, "Speed"). Undefined for any other file (a quote, a row of
 * another length, too large to read at once): the CSV parser reads that, and says what is wrong.
 */
export function readPlainCsv(file: string, label: string): ColumnarTable | undefined {
  if (fs.statSync(file).size > MAX_BYTES) return undefined;
  const b = fs.readFileSync(file);
  if (b.includes(QUOTE)) return undefined;
  let pos = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // a byte-order mark
  let names: string[] | undefined;
  let builders: ColumnBuilder[] = [];
  let rows = 0;
  while (pos < b.length) {
    let end = b.indexOf(NEWLINE, pos);
    if (end < 0) end = b.length;
    const next = end + 1;
    if (end > pos && b[end - 1] === RETURN) end--;
    if (end > pos) {
      if (!names) {
        names = b.toString('utf8', pos, end).split(',').map((c) => c.trim());
        builders = names.map(() => new ColumnBuilder());
      } else {
        let j = 0;
        for (let start = pos; ; j++) {
          let stop = start;
          while (stop < end && b[stop] !== COMMA) stop++; // cells are short: no native call per cell
          if (j >= builders.length) return undefined;
          const v = cellNumber(b, start, stop);
          if (v === v) builders[j].addNumber(v);
          else builders[j].add(b.toString('utf8', start, stop));
          if (stop === end) break;
          start = stop + 1;
        }
        if (j !== builders.length - 1) return undefined;
        rows++;
      }
    }
    pos = next;
  }
  if (!names) return undefined;
  return { label, rows, columns: new Map(names.map((n, j) => [n, builders[j].build()])) };
}
