import { NUMBER, readValue } from '../validation/profile';
import type { TableStream } from '../validation/table';

/**
 * A table held column by column for drift: numbers in a typed array (missing values only
 * counted), any column with a non-number in it as category counts. What the drift engine
 * compares; never the raw rows.
 */
export type ColumnData =
  | { kind: 'numeric'; values: Float64Array; missing: number }
  | { kind: 'categorical'; counts: Map<string, number>; missing: number };

export interface ColumnarTable {
  /** What was read, for messages and the report. */
  label: string;
  rows: number;
  columns: Map<string, ColumnData>;
}

/** Collects one column's cells; turns into category counts at the first cell that is not a number. */
export class ColumnBuilder {
  private values = new Float64Array(1024);
  private n = 0;
  private counts: Map<string, number> | undefined;
  private missing = 0;

  add(raw: unknown): void {
    if (typeof raw === 'number' && !Number.isNaN(raw) && !this.counts) return this.push(raw);
    // A CSV cell that is a plain number (no spaces, so readValue would read the same): no Value made.
    if (typeof raw === 'string' && !this.counts && NUMBER.test(raw)) return this.push(Number(raw));
    const v = readValue(raw);
    if (!v) {
      this.missing++;
      return;
    }
    if (v.num !== undefined && !this.counts) return this.push(v.num);
    if (!this.counts) {
      this.counts = new Map();
      for (let i = 0; i < this.n; i++) this.count(String(this.values[i]));
      this.values = new Float64Array(0);
    }
    this.count(v.text);
  }

  /** A cell already read as a number (a plain CSV's, plainCsv.ts): what `add` of its text would do. */
  addNumber(v: number): void {
    if (this.counts) this.count(String(v));
    else this.push(v);
  }

  private push(v: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.n * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = v;
  }

  private count(key: string): void {
    this.counts!.set(key, (this.counts!.get(key) ?? 0) + 1);
  }

  build(): ColumnData {
    return this.counts ? { kind: 'categorical', counts: this.counts, missing: this.missing } : { kind: 'numeric', values: this.values.slice(0, this.n), missing: this.missing };
  }
}

/** Reads a table (file, folder or snapshot, as `openTable` opens it) into columns. */
export async function readColumns(table: TableStream): Promise<ColumnarTable> {
  const builders = table.columns.map(() => new ColumnBuilder());
  let rows = 0;
  for await (const row of table.rows) {
    for (let j = 0; j < builders.length; j++) builders[j].add(row[j]);
    rows++;
  }
  return { label: table.label, rows, columns: new Map(table.columns.map((c, j) => [c, builders[j].build()])) };
}
