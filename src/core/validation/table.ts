import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { SnapshotStore } from '../snapshots';

/** A table read row by row: its column names, then each row's values in that order. */
export interface TableStream {
  /** What was read, for messages: a file, a folder, or `snapshot <id>`. */
  label: string;
  /** The snapshot read, when it was one (`inside`: the path within it). */
  snapshot?: { id: string; inside?: string };
  columns: string[];
  rows: AsyncIterable<unknown[]>;
}

export class TableError extends Error {}

/** Files read as tables. */
export const TABULAR = /\.(csv|tsv|jsonl|ndjson)$/i;

interface TablePart { name: string; open: () => Readable }

/** CSV (header row first; `,` or, for .tsv, tab) or JSON Lines (one object per line), streamed. */
async function* partRows(part: TablePart, header: { columns?: string[] }): AsyncGenerator<unknown[]> {
  const stream = part.open();
  if (/\.(jsonl|ndjson)$/i.test(part.name)) {
    let line = 0;
    for await (const text of readline.createInterface({ input: stream, crlfDelay: Infinity })) {
      line++;
      if (!text.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new TableError(`${part.name} line ${line} is not JSON; each line of a .jsonl file must be one JSON object.`);
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new TableError(`${part.name} line ${line} is not a JSON object ({"column": value, …}).`);
      const record = value as Record<string, unknown>;
      header.columns ??= Object.keys(record);
      yield header.columns.map((c) => record[c]);
    }
    return;
  }
  const parser = stream.pipe(parse({ delimiter: /\.tsv$/i.test(part.name) ? '\t' : ',', bom: true, relax_column_count: false, skip_empty_lines: true }));
  let first = true;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (first) {
        first = false;
        if (!header.columns) {
          header.columns = record.map((c) => c.trim());
          continue;
        }
        if (record.join('\u0000') !== header.columns.join('\u0000')) {
          throw new TableError(`${part.name} has the columns ${record.join(', ')}, not those of the first file (${header.columns.join(', ')}); files of one table must share a header.`);
        }
        continue;
      }
      yield record;
    }
  } catch (err) {
    if (err instanceof TableError) throw err;
    throw new TableError(`${part.name} is not a well-formed CSV file: ${(err as Error).message}`);
  }
}

function fromParts(label: string, parts: TablePart[], snapshot?: TableStream['snapshot']): Promise<TableStream> {
  if (!parts.length) throw new TableError(`${label} holds no .csv, .tsv or .jsonl file to read.`);
  const header: { columns?: string[] } = {};
  const all = (async function* () {
    for (const part of parts) yield* partRows(part, header);
  })();
  // The header comes with the first row; read ahead one row so `columns` is known before the caller starts.
  return (async () => {
    const first = await all.next();
    const rows = (async function* () {
      if (!first.done) yield first.value;
      yield* all;
    })();
    if (!header.columns) throw new TableError(`${label} is empty: no header row.`);
    return { label, columns: header.columns, rows, ...(snapshot ? { snapshot } : {}) };
  })();
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && TABULAR.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/**
 * Opens a table: a file, a folder of files with one header (read in name order), or a
 * snapshot (`<id-or-tag>` or `<id-or-tag>:<path inside it>`).
 */
export async function openTable(source: string, root: string, snapshots?: SnapshotStore): Promise<TableStream> {
  const abs = path.resolve(root, source);
  if (fs.existsSync(abs)) {
    if (fs.statSync(abs).isDirectory()) {
      return fromParts(source, filesUnder(abs).map((f) => ({ name: path.relative(root, f), open: () => fs.createReadStream(f) })));
    }
    if (!TABULAR.test(abs)) throw new TableError(`${source} is not a table: use a .csv, .tsv or .jsonl file, a folder of them, or a snapshot.`);
    return fromParts(source, [{ name: source, open: () => fs.createReadStream(abs) }]);
  }
  if (!snapshots) throw new TableError(`${source}: no such file or folder.`);
  const [ref, inside] = source.split(/:(.*)/s);
  let id: string;
  try {
    id = await snapshots.resolve(ref);
  } catch {
    throw new TableError(`${source} is neither a file or folder nor a snapshot; list snapshots with: mlops snapshots list`);
  }
  const files = (await snapshots.show(id)).files.map((f) => f.path)
    .filter((p) => TABULAR.test(p) && (!inside || p === inside || p.startsWith(inside.replace(/\/?$/, '/'))))
    .sort();
  return fromParts(`snapshot ${id.slice(0, 12)}${inside ? `:${inside}` : ''}`, files.map((name) => ({
    name,
    open: () => Readable.from((async function* () { yield Buffer.from(await snapshots.readFile(id, name)); })()),
  })), { id, ...(inside ? { inside } : {}) });
}
