import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SnapshotStore } from '../snapshots';
import { sortNumbers } from '../validation/sortNumbers';
import { isSorted } from '../validation/statistics';
import { writeFileAtomic } from '../workspace/atomicFile';
import type { MlopsLayout } from '../workspace/layout';
import type { ColumnarTable, ColumnData } from './columns';
import { sortLargeColumns } from './parallelSort';

/**
 * A deployment's reference kept between its checks as sorted columns
 * (`.mlops/index/drift-references/`): parsing and sorting a large training table again at
 * every scheduled check was most of the check. A snapshot's content never changes, so its id
 * and path name it; a file is named by its path, size and mtime. Only a cache: the newest
 * few are kept, and a file that cannot be read or written costs a check its parse, nothing more.
 */
const KEPT = 4;
const MAX_BYTES = 256 * 1024 * 1024;

type CachedColumn = { name: string; missing: number } & ({ kind: 'numeric'; length: number } | { kind: 'categorical'; counts: [string, number][] });
interface Header { key: string; label: string; rows: number; columns: CachedColumn[] }

function cacheDir(layout: MlopsLayout): string {
  return path.join(layout.indexDir, 'drift-references');
}

function cacheFile(layout: MlopsLayout, key: string): string {
  return path.join(cacheDir(layout), `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.bin`);
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** What names a reference's content; undefined for a folder or what cannot be resolved (it is then read each time). */
export async function referenceKey(root: string, source: string, snapshots?: () => Promise<SnapshotStore>): Promise<string | undefined> {
  const stat = fs.statSync(path.resolve(root, source), { throwIfNoEntry: false });
  if (stat) return stat.isFile() ? `file ${path.resolve(root, source)} ${stat.size} ${stat.mtimeMs}` : undefined;
  if (!snapshots) return undefined;
  const [ref, inside] = source.split(/:(.*)/s);
  try {
    return `snapshot ${await (await snapshots()).resolve(ref)} ${inside ?? ''}`;
  } catch {
    return undefined; // opening the table says what is wrong with the source
  }
}

/** The cached reference of `key`, its numeric columns sorted; undefined when none is kept (or it is torn). */
export function cachedReference(layout: MlopsLayout, key: string): ColumnarTable | undefined {
  const file = cacheFile(layout, key);
  try {
    const buf = fs.readFileSync(file);
    const headerLength = buf.readUInt32LE(0);
    const header = JSON.parse(buf.toString('utf8', 4, 4 + headerLength)) as Header;
    if (header.key !== key) return undefined;
    let at = align8(4 + headerLength);
    const columns = new Map<string, ColumnData>();
    for (const c of header.columns) {
      if (c.kind === 'categorical') {
        columns.set(c.name, { kind: 'categorical', counts: new Map(c.counts), missing: c.missing });
        continue;
      }
      const values = new Float64Array(c.length);
      new Uint8Array(values.buffer).set(buf.subarray(at, at + c.length * 8));
      at += c.length * 8;
      columns.set(c.name, { kind: 'numeric', values, missing: c.missing });
    }
    if (at !== buf.length) return undefined;
    const now = new Date();
    fs.utimesSync(file, now, now); // the most recently used is kept longest
    return { label: header.label, rows: header.rows, columns };
  } catch {
    return undefined;
  }
}

/** Sorts the reference's numeric columns in place (as the drift tests would) and keeps it under `key`. */
export async function keepReference(layout: MlopsLayout, key: string, table: ColumnarTable): Promise<void> {
  await sortLargeColumns([table]);
  let bytes = 0;
  const columns: CachedColumn[] = [...table.columns].map(([name, c]) => {
    if (c.kind === 'categorical') return { name, kind: 'categorical', missing: c.missing, counts: [...c.counts] };
    if (!isSorted(c.values)) sortNumbers(c.values);
    bytes += c.values.byteLength;
    return { name, kind: 'numeric', missing: c.missing, length: c.values.length };
  });
  if (bytes > MAX_BYTES) return;
  const header = Buffer.from(JSON.stringify({ key, label: table.label, rows: table.rows, columns } satisfies Header));
  const buf = Buffer.alloc(align8(4 + header.length) + bytes);
  buf.writeUInt32LE(header.length, 0);
  header.copy(buf, 4);
  let at = align8(4 + header.length);
  for (const c of table.columns.values()) {
    if (c.kind !== 'numeric') continue;
    buf.set(new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength), at);
    at += c.values.byteLength;
  }
  try {
    fs.mkdirSync(cacheDir(layout), { recursive: true });
    writeFileAtomic(cacheFile(layout, key), buf);
    const kept = fs.readdirSync(cacheDir(layout)).filter((f) => f.endsWith('.bin')).map((f) => path.join(cacheDir(layout), f));
    const byAge = kept.map((f) => [f, fs.statSync(f).mtimeMs] as const).sort((a, b) => b[1] - a[1]);
    for (const [f] of byAge.slice(KEPT)) fs.rmSync(f, { force: true });
  } catch {
    // a read-only or full disk: the next check parses the reference again
  }
}
