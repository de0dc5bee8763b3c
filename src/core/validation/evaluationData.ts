import * as fs from 'node:fs';
import { readValue } from './profile';
import { TableError, type TableStream } from './table';

/** A holdout as the evaluation wants it: features row-major as float32 (what ONNX models take), the label, and an optional group. */
export interface EvaluationData {
  features: string[];
  /** Raw feature values, rows × features, row-major. */
  x: Float32Array;
  label: Float64Array;
  /** The group column's value per row, for per-slice metrics and fairness gaps. */
  groups?: string[];
  rows: number;
}

export interface DataColumns {
  /** The label (target) column. */
  label: string;
  /** A column whose values slice the metrics (e.g. a demographic attribute); not a feature. */
  group?: string;
  /** Feature columns in the model's input order; default every other column, in file order. */
  features?: string[];
}

/** Reads a holdout table into typed arrays (grown by doubling, so its size need not be known). */
export async function loadEvaluationData(table: TableStream, columns: DataColumns): Promise<EvaluationData> {
  const index = (name: string, role: string) => {
    const i = table.columns.indexOf(name);
    if (i < 0) throw new TableError(`${table.label} has no ${role} column "${name}"; its columns: ${table.columns.join(', ')}.`);
    return i;
  };
  const labelAt = index(columns.label, 'label');
  const groupAt = columns.group !== undefined ? index(columns.group, 'group') : -1;
  const features = columns.features ?? table.columns.filter((c) => c !== columns.label && c !== columns.group);
  const at = features.map((f) => index(f, 'feature'));
  const d = features.length;
  let capacity = 1024;
  let x = new Float32Array(capacity * d);
  let label = new Float64Array(capacity);
  const groups: string[] = [];
  let rows = 0;
  for await (const row of table.rows) {
    if (rows === capacity) {
      capacity *= 2;
      const nx = new Float32Array(capacity * d);
      nx.set(x);
      x = nx;
      const nl = new Float64Array(capacity);
      nl.set(label);
      label = nl;
    }
    for (let j = 0; j < d; j++) {
      const v = readValue(row[at[j]]);
      if (v?.num === undefined) throw new TableError(`${table.label} row ${rows + 1}: feature "${features[j]}" is ${v ? `"${v.text}", not a number` : 'missing'}; the model needs a number in every feature (name the feature columns with --features, or a slicing column with --group).`);
      x[rows * d + j] = v.num;
    }
    const y = readValue(row[labelAt]);
    if (y?.num === undefined) throw new TableError(`${table.label} row ${rows + 1}: label "${columns.label}" is ${y ? `"${y.text}", not a number` : 'missing'}.`);
    label[rows] = y.num;
    if (groupAt >= 0) groups.push(readValue(row[groupAt])?.text ?? '(missing)');
    rows++;
  }
  if (!rows) throw new TableError(`${table.label} has no rows to evaluate on.`);
  return { features, x: x.subarray(0, rows * d), label: label.subarray(0, rows), ...(groupAt >= 0 ? { groups } : {}), rows };
}

/** Mean and standard deviation per feature, as the model was trained on them: a CSV of two rows (means, then stds), numpy's savetxt format. */
export interface Standardisation { mean: Float64Array; std: Float64Array }

export function readStandardisation(file: string, features: number): Standardisation {
  const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const [mean, std] = lines.map((l) => Float64Array.from(l.split(/[,\s]+/).filter(Boolean), Number));
  if (lines.length !== 2 || mean.length !== features || std.length !== features || [...mean, ...std].some((v) => !Number.isFinite(v))) {
    throw new TableError(`${file} must hold two rows of ${features} numbers: the training means, then the standard deviations.`);
  }
  return { mean, std };
}
