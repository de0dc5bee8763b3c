import { predictionLogFiles } from '../serving/predictionLog';
import { ColumnBuilder, type ColumnarTable } from './columns';
import { durationMs } from './duration';
import { linesFromEnd } from './linesFromEnd';
import { BadLine, LineScanner, type ScannedLine, type TensorSink } from './logScanner';

/** The last rows of a log, or the rows since a time (ms since the epoch). */
export type LogWindow = { rows: number } | { since: number };

export class PredictionLogError extends Error {}

/** A window given as a row count ("5000") or a duration back from now ("30m", "6h", "7d"). */
export function parseWindow(text: string, now = Date.now()): LogWindow {
  const rows = /^\d+$/.exec(text.trim());
  if (rows && Number(text) > 0) return { rows: Number(text) };
  const ms = durationMs(text);
  if (ms === undefined) throw new PredictionLogError(`"${text}" is not a window: give a number of rows (5000) or a duration back from now (30m, 6h, 7d).`);
  return { since: now - ms };
}

/** Columns of one tensor: a scalar per row is the column `name`; a vector is `name[i]`, or the given feature names. */
function tensorColumnNames(name: string, width: number, featureNames?: string[]): string[] {
  if (!width) return [name];
  return featureNames && featureNames.length >= width ? featureNames.slice(0, width) : Array.from({ length: width }, (_, i) => `${name}[${i}]`);
}

export interface PredictionWindowOptions {
  window: LogWindow;
  /** Names for the values of a vector input, in the model's feature order (the reference's columns). */
  featureNames?: string[];
}

export interface PredictionWindow extends ColumnarTable {
  predictions: string[];
  skippedLines: number;
  /** Each request's latency in the window (ms), where the log has it. */
  latencies: Float64Array;
  /** Time of the oldest and newest request in the window (ms since the epoch). */
  from?: number;
  to?: number;
}

/** A column of the window, and the record it last had cells in. */
interface WindowColumn { builder: ColumnBuilder; record: number }

/** One column's cells of the record being read, kept until the record is known to be in the window. */
interface Slot { column: WindowColumn; cells: unknown[]; n: number }

/**
 * Gathers a record's tensors into columns. A tensor's layout (its columns and their
 * builders) is worked out once, at the end of the first row it is seen with.
 */
class WindowSink implements TensorSink {
  readonly columns = new Map<string, WindowColumn>();
  readonly predictions = new Set<string>();
  private readonly inputLayouts = new Map<string, Slot[]>();
  private readonly outputLayouts = new Map<string, Slot[]>();
  private readonly touched: Slot[][] = [];
  private slots: Slot[] | undefined;
  private name = '';
  private output = false;
  private firstRow: unknown[] = [];
  private vector = false;
  private col = 0;
  private rowCount = 0;
  private record = 0;
  /** Rows committed so far: a column first seen later is filled with missing values up to here. */
  total = 0;
  /** Rows of the record being read (its first input tensor's). */
  rows = -1;

  constructor(private readonly featureNames: string[] | undefined) {}

  tensor(name: string, output: boolean): boolean {
    this.name = name;
    this.output = output;
    this.slots = (output ? this.outputLayouts : this.inputLayouts).get(name);
    this.rowCount = 0;
    return true;
  }

  row(vector: boolean): void {
    if (this.rowCount === 1 && !this.slots) this.makeLayout();
    if (this.slots) this.pad(this.rowCount);
    this.vector = vector;
    this.col = 0;
    this.rowCount++;
  }

  cell(value: unknown): void {
    if (!this.slots) {
      this.firstRow.push(value);
      return;
    }
    const slot = this.slots[this.col++];
    if (slot) slot.cells[slot.n++] = value;
  }

  end(): void {
    if (this.rowCount && !this.slots) this.makeLayout();
    if (!this.slots) return;
    this.pad(this.rowCount);
    this.touched.push(this.slots);
    if (!this.output && this.rows < 0) this.rows = this.rowCount;
  }

  /** A row shorter than the tensor's width: its missing cells are missing values. */
  private pad(rows: number): void {
    for (const slot of this.slots!) while (slot.n < rows) slot.cells[slot.n++] = undefined;
  }

  private makeLayout(): void {
    const single = !this.output && this.featureNames !== undefined;
    const names = tensorColumnNames(this.name, this.vector ? this.firstRow.length : 0, single ? this.featureNames : undefined);
    const slots = names.map((name): Slot => {
      let column = this.columns.get(name);
      if (!column) {
        this.columns.set(name, (column = { builder: new ColumnBuilder(), record: -1 }));
        if (this.output) this.predictions.add(name);
        for (let k = 0; k < this.total; k++) column.builder.add(undefined);
      }
      return { column, cells: [], n: 0 };
    });
    this.firstRow.forEach((v, i) => {
      if (slots[i]) slots[i].cells[slots[i].n++] = v;
    });
    this.firstRow = [];
    (this.output ? this.outputLayouts : this.inputLayouts).set(this.name, (this.slots = slots));
  }

  /** Keeps the last `keep` rows of the record just read; returns how many were kept. */
  commit(keep: number): number {
    const kept = Math.min(Math.max(0, this.rows), keep);
    const record = ++this.record;
    let seen = 0;
    for (const slots of this.touched) {
      for (const slot of slots) {
        const { cells, n, column } = slot;
        for (let r = n - kept; r < n; r++) column.builder.add(cells[r]);
        slot.n = 0;
        if (column.record !== record) {
          column.record = record;
          seen++;
        }
      }
    }
    // A column the record does not have: missing in its rows.
    if (seen < this.columns.size) for (const c of this.columns.values()) if (c.record !== record) for (let r = 0; r < kept; r++) c.builder.add(undefined);
    this.touched.length = 0;
    this.rows = -1;
    this.total += kept;
    return kept;
  }

  /** Forgets a record that turned out unreadable half-way. */
  discard(): void {
    for (const slots of [...this.inputLayouts.values(), ...this.outputLayouts.values()]) for (const slot of slots) slot.n = 0;
    this.firstRow = [];
    this.touched.length = 0;
    this.rows = -1;
  }
}

/**
 * Reads a window of a deployment's prediction log (`.mlops/serving/<deployment>/`) into
 * columns: the inputs as features, the outputs as predictions, and each request's latency.
 * Reads the files from their ends backwards, newest first, and stops at the window's edge;
 * each line is scanned for the fields drift needs, not parsed whole (logScanner.ts). Shadow
 * records (a challenger's answers to mirrored requests) are left out, so no request counts
 * twice; a torn or unreadable line is skipped and counted.
 */
export function readPredictionWindow(dir: string, label: string, options: PredictionWindowOptions): PredictionWindow {
  const files = predictionLogFiles(dir).reverse();
  if (!files.length) throw new PredictionLogError(`${label} has no prediction log at ${dir}; deploy the model and send it requests first (the log is written as it serves).`);
  const want = 'rows' in options.window ? options.window.rows : Infinity;
  const since = 'since' in options.window ? options.window.since : -Infinity;
  const scanner = new LineScanner();
  const latencies: number[] = [];
  let sink: WindowSink | undefined;
  let skippedLines = 0, from: number | undefined, to: number | undefined;
  scan: for (const file of files) {
    for (const [buf, start, end] of linesFromEnd(file)) {
      let line: ScannedLine;
      try {
        line = scanner.scan(buf, start, end);
        if (!line.inputs) throw new BadLine('no inputs');
      } catch (err) {
        if (!(err instanceof BadLine)) throw err;
        skippedLines++;
        continue;
      }
      if (line.variant === 'shadow') continue;
      if (line.time !== undefined && line.time < since) break scan;
      try {
        // The vector input is named after the reference's columns when it is the model's only input.
        sink ??= new WindowSink(singleInput(scanner, line.inputs) ? options.featureNames : undefined);
        scanner.readTensors(line.inputs, false, sink);
        if (line.outputs) scanner.readTensors(line.outputs, true, sink);
      } catch (err) {
        if (!(err instanceof BadLine)) throw err;
        sink?.discard();
        skippedLines++;
        continue;
      }
      if (sink.commit(want - sink.total) === 0) continue;
      if (line.latency !== undefined) latencies.push(line.latency);
      if (line.time !== undefined) {
        to ??= line.time;
        from = line.time;
      }
      if (sink.total >= want) break scan;
    }
  }
  if (!sink || !sink.total) throw new PredictionLogError(`${label}: no predictions in the window; widen it (--window) or send the deployment requests first.`);
  return {
    label, rows: sink.total, columns: new Map([...sink.columns].map(([name, c]) => [name, c.builder.build()])), predictions: [...sink.predictions], skippedLines,
    latencies: Float64Array.from(latencies), ...(from !== undefined ? { from, to } : {}),
  };
}

/** Whether a record's inputs hold one tensor. */
function singleInput(scanner: LineScanner, inputs: [number, number]): boolean {
  let tensors = 0;
  scanner.readTensors(inputs, false, { tensor: () => (tensors++, false), row() {}, cell() {}, end() {} });
  return tensors === 1;
}
