import * as fs from 'node:fs';
import { predictionLogFiles } from '../serving/predictionLog';
import { ColumnBuilder, type ColumnarTable } from './columns';

/** The last rows of a log, or the rows since a time (ms since the epoch). */
export type LogWindow = { rows: number } | { since: number };

export class PredictionLogError extends Error {}

/** A window given as a row count ("5000") or a duration back from now ("30m", "6h", "7d"). */
export function parseWindow(text: string, now = Date.now()): LogWindow {
  const rows = /^\d+$/.exec(text.trim());
  if (rows && Number(text) > 0) return { rows: Number(text) };
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new PredictionLogError(`"${text}" is not a window: give a number of rows (5000) or a duration back from now (30m, 6h, 7d).`);
  return { since: now - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as 's' | 'm' | 'h' | 'd'] };
}

interface LoggedPrediction {
  time: number;
  variant?: string;
  inputs: Record<string, unknown[]>;
  outputs: Record<string, unknown[]>;
}

/** Columns of one tensor's rows: a scalar per row is the column `name`; a vector is `name[i]`, or the given feature names. */
function tensorColumns(name: string, rows: unknown[], featureNames?: string[]): { names: string[]; cells: (row: unknown) => unknown[] } {
  const width = Array.isArray(rows[0]) ? rows[0].length : 0;
  if (!width) return { names: [name], cells: (row) => [row] };
  const names = featureNames && featureNames.length >= width ? featureNames.slice(0, width) : Array.from({ length: width }, (_, i) => `${name}[${i}]`);
  return { names, cells: (row) => (Array.isArray(row) ? row : [row]) };
}

export interface PredictionWindowOptions {
  window: LogWindow;
  /** Names for the values of a vector input, in the model's feature order (the reference's columns). */
  featureNames?: string[];
}

/**
 * Reads a window of a deployment's prediction log (`.mlops/serving/<deployment>/`) into
 * columns: the inputs as features, the outputs as predictions. Reads from the newest line
 * backwards and parses only the lines inside the window. Shadow records (a challenger's
 * answers to mirrored requests) are left out, so no request counts twice; a torn or
 * unreadable line is skipped and counted.
 */
export function readPredictionWindow(dir: string, label: string, options: PredictionWindowOptions): ColumnarTable & { predictions: string[]; skippedLines: number } {
  const files = predictionLogFiles(dir).reverse();
  if (!files.length) throw new PredictionLogError(`${label} has no prediction log at ${dir}; deploy the model and send it requests first (the log is written as it serves).`);
  const want = 'rows' in options.window ? options.window.rows : Infinity;
  const since = 'since' in options.window ? options.window.since : -Infinity;
  const picked: LoggedPrediction[] = [];
  let rows = 0, skippedLines = 0;
  scan: for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      if (!lines[i]) continue;
      let record: LoggedPrediction;
      try {
        record = JSON.parse(lines[i]) as LoggedPrediction;
      } catch {
        skippedLines++;
        continue;
      }
      if (!record || typeof record !== 'object' || !record.inputs || typeof record.inputs !== 'object') {
        skippedLines++;
        continue;
      }
      if (record.variant === 'shadow') continue;
      if (record.time < since) break scan;
      picked.push(record);
      rows += Object.values(record.inputs)[0]?.length ?? 0;
      if (rows >= want) break scan;
    }
  }
  if (!picked.length) throw new PredictionLogError(`${label}: no predictions in the window; widen it (--window) or send the deployment requests first.`);
  picked.reverse();
  const builders = new Map<string, ColumnBuilder>();
  const predictions = new Set<string>();
  // Per tensor: its column names and their builders, looked up once, not per cell.
  const layouts = new Map<string, { cells: (row: unknown) => unknown[]; builders: ColumnBuilder[] }>();
  const single = Object.keys(picked[0].inputs).length === 1;
  let skipRows = Math.max(0, rows - want);
  let total = 0;
  const layoutOf = (key: string, name: string, tensorRows: unknown[], output: boolean) => {
    const { names, cells } = tensorColumns(name, tensorRows, !output && single ? options.featureNames : undefined);
    const columnBuilders = names.map((column) => {
      let b = builders.get(column);
      if (!b) {
        builders.set(column, (b = new ColumnBuilder()));
        if (output) predictions.add(column);
        for (let k = 0; k < total; k++) b.add(undefined);
      }
      return b;
    });
    const layout = { cells, builders: columnBuilders };
    layouts.set(key, layout);
    return layout;
  };
  for (const record of picked) {
    const drop = Math.min(skipRows, Object.values(record.inputs)[0]?.length ?? 0);
    skipRows -= drop;
    const add = (tensors: Record<string, unknown[]> | undefined, output: boolean) => {
      for (const [name, tensorRows] of Object.entries(tensors ?? {})) {
        if (!Array.isArray(tensorRows) || !tensorRows.length) continue;
        const key = `${output ? 'out' : 'in'}:${name}`;
        const layout = layouts.get(key) ?? layoutOf(key, name, tensorRows, output);
        for (let r = drop; r < tensorRows.length; r++) {
          const cells = layout.cells(tensorRows[r]);
          for (let c = 0; c < layout.builders.length; c++) layout.builders[c].add(cells[c]);
        }
      }
    };
    add(record.inputs, false);
    add(record.outputs, true);
    total += (Object.values(record.inputs)[0]?.length ?? 0) - drop;
  }
  return { label, rows: total, columns: new Map([...builders].map(([c, b]) => [c, b.build()])), predictions: [...predictions], skippedLines };
}
