import type { EvaluationData, Standardisation } from './evaluationData';
import { argmax, classificationMetrics, confusionMatrix, groupRates, regressionMetrics } from './metrics';
import type { OnnxModel } from './onnxModel';
import { seededGaussian, seededRandom, shuffle } from './random';

export type Task = 'classification' | 'regression';

export interface EvaluationOptions {
  /** Default: classification when the model outputs two or more columns (class probabilities). */
  task?: Task;
  standardise?: Standardisation;
  /** Gaussian noise for the robustness check, in standard deviations of each feature (default 0.1; 0 skips it). */
  noise?: number;
  /** Shuffles per feature for permutation importance (default 3; 0 skips it). */
  repeats?: number;
  seed?: number;
}

export interface SliceMetrics { value: string; rows: number; metrics: Record<string, number> }

export interface Evaluation {
  task: Task;
  rows: number;
  features: string[];
  /** Every figure a gate can name: quality metrics, latency, robustness drop and fairness gaps. */
  metrics: Record<string, number>;
  /** Classification: rows true class × predicted class. */
  confusionMatrix?: number[][];
  slices?: {
    groups: SliceMetrics[];
    /** Binary classification: largest gap in selection rate between groups. */
    demographicParityDifference?: number;
    /** Binary classification: the larger of the largest gaps in true- and false-positive rates. */
    equalizedOddsDifference?: number;
  };
  robustness?: { noise: number; seed: number; metric: string; clean: number; noisy: number; drop: number };
  latencyMsPerRow: number;
  /** Drop of the key metric when one feature's values are shuffled, biggest first. */
  importance?: { feature: string; importance: number; std: number }[];
}

/** The metric that importance and robustness are measured on: accuracy or R². */
const keyMetric = (task: Task) => (task === 'classification' ? 'accuracy' : 'r2');

function standardised(x: Float32Array, d: number, s?: Standardisation): Float32Array {
  if (!s) return x.slice();
  const out = new Float32Array(x.length);
  const scale = s.std.map((v) => 1 / v);
  for (let row = 0; row < x.length; row += d) {
    for (let j = 0; j < d; j++) out[row + j] = (x[row + j] - s.mean[j]) * scale[j];
  }
  return out;
}

interface Scored { task: Task; classes: number; probabilities: Float64Array; predicted: Int32Array; values: Float64Array }

/** Gathers the entries of `rows` (each `width` wide) from a row-major array. */
function gather<T extends Float64Array | Int32Array>(a: T, rows: Int32Array, width = 1): T {
  const out = new (a.constructor as new (n: number) => T)(rows.length * width);
  for (let i = 0; i < rows.length; i++) for (let k = 0; k < width; k++) out[i * width + k] = a[rows[i] * width + k];
  return out;
}

/** Metrics of one set of model outputs (probabilities rows normalised, or regression values), over all rows or some. */
function score(task: Task, y: Float64Array, s: Scored, rows?: Int32Array): Record<string, number> {
  const pick = <T extends Float64Array | Int32Array>(a: T, width = 1): T => (rows ? gather(a, rows, width) : a);
  if (task === 'regression') return { ...regressionMetrics(pick(y), pick(s.values)) };
  return { ...classificationMetrics(new Int32Array(pick(y)), pick(s.probabilities, s.classes), s.classes, pick(s.predicted)) };
}

/** Row numbers of each group, in group-name order. */
function rowsByGroup(groups: string[]): [string, Int32Array][] {
  const ids = new Map<string, number>();
  const of = new Int32Array(groups.length);
  for (let r = 0; r < groups.length; r++) {
    let id = ids.get(groups[r]);
    if (id === undefined) ids.set(groups[r], (id = ids.size));
    of[r] = id;
  }
  const counts = new Int32Array(ids.size);
  for (let r = 0; r < of.length; r++) counts[of[r]]++;
  const lists = [...counts].map((n) => new Int32Array(n));
  const fill = new Int32Array(ids.size);
  for (let r = 0; r < of.length; r++) lists[of[r]][fill[of[r]]++] = r;
  return [...ids].sort(([a], [b]) => a.localeCompare(b)).map(([value, id]) => [value, lists[id]]);
}

/** Only the key metric (accuracy or R²): importance needs it once per shuffle. */
function keyScore(y: Float64Array, s: Scored): number {
  if (s.task === 'regression') return regressionMetrics(y, s.values).r2;
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (s.predicted[i] === y[i]) correct++;
  return correct / y.length;
}

/** Runs a model over (already standardised) rows and reads its output as the task says. */
async function run(model: OnnxModel, input: Float32Array, d: number, task: Task | undefined): Promise<Scored> {
  const { output, width } = await model.predict(input, d);
  const t: Task = task ?? (width >= 2 ? 'classification' : 'regression');
  if (t === 'regression') {
    if (width !== 1) throw new Error(`A regression model must output one value per row; this one outputs ${width}.`);
    return { task: t, classes: 0, probabilities: new Float64Array(0), predicted: new Int32Array(0), values: new Float64Array(output) };
  }
  // One column: the probability of class 1.
  const classes = width === 1 ? 2 : width;
  const rows = output.length / width;
  const probabilities = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    if (width === 1) {
      probabilities[r * 2] = 1 - output[r];
      probabilities[r * 2 + 1] = output[r];
      continue;
    }
    let total = 0;
    for (let c = 0; c < classes; c++) total += output[r * classes + c];
    for (let c = 0; c < classes; c++) probabilities[r * classes + c] = output[r * classes + c] / total;
  }
  return { task: t, classes, probabilities, predicted: argmax(probabilities, classes), values: new Float64Array(0) };
}

function checkLabels(y: Float64Array, classes: number): void {
  for (let i = 0; i < y.length; i++) {
    if (!Number.isInteger(y[i]) || y[i] < 0 || y[i] >= classes) {
      throw new Error(`Row ${i + 1}: label ${y[i]} is not a class of this model (0…${classes - 1}: the columns of its output). Use --task regression for a regression model.`);
    }
  }
}

function featureStd(x: Float32Array, d: number, rows: number): Float64Array {
  const mean = new Float64Array(d), ss = new Float64Array(d);
  for (let row = 0; row < x.length; row += d) for (let j = 0; j < d; j++) mean[j] += x[row + j];
  for (let j = 0; j < d; j++) mean[j] /= rows;
  for (let row = 0; row < x.length; row += d) for (let j = 0; j < d; j++) ss[j] += (x[row + j] - mean[j]) ** 2;
  return ss.map((s) => Math.sqrt(s / rows));
}

/**
 * Evaluates a model on a holdout: quality metrics, confusion matrix, per-slice metrics
 * and fairness gaps, robustness under seeded Gaussian noise, latency per row, and
 * permutation feature importance.
 */
export async function evaluateModel(model: OnnxModel, data: EvaluationData, options: EvaluationOptions = {}): Promise<Evaluation> {
  const d = data.features.length;
  const expected = model.featureCount;
  if (expected !== undefined && expected !== d) {
    throw new Error(`The model takes ${expected} features; the data has ${d} (${data.features.slice(0, 5).join(', ')}${d > 5 ? ', …' : ''}). Name them with --features, or leave the label and group columns out with --label/--group.`);
  }
  const seed = options.seed ?? 0;
  const input = standardised(data.x, d, options.standardise);
  const started = performance.now();
  const base = await run(model, input, d, options.task);
  const latencyMsPerRow = (performance.now() - started) / data.rows;
  const task = base.task;
  if (task === 'classification') checkLabels(data.label, base.classes);
  const metrics = score(task, data.label, base);
  const key = keyMetric(task);
  const evaluation: Evaluation = { task, rows: data.rows, features: data.features, metrics, latencyMsPerRow };
  metrics.latency_ms_per_row = latencyMsPerRow;
  if (task === 'classification') evaluation.confusionMatrix = confusionMatrix(new Int32Array(data.label), base.predicted, base.classes);

  if (data.groups) {
    const byGroup = rowsByGroup(data.groups);
    const groups = byGroup.map(([value, rows]) => ({ value, rows: rows.length, metrics: score(task, data.label, base, rows) }));
    evaluation.slices = { groups };
    if (task === 'classification' && base.classes === 2) {
      const rates = byGroup.map(([, rows]) => groupRates(new Int32Array(gather(data.label, rows)), gather(base.predicted, rows)));
      const gap = (key: 'selectionRate' | 'truePositiveRate' | 'falsePositiveRate') => Math.max(...rates.map((r) => r[key])) - Math.min(...rates.map((r) => r[key]));
      evaluation.slices.demographicParityDifference = metrics.demographic_parity_difference = gap('selectionRate');
      evaluation.slices.equalizedOddsDifference = metrics.equalized_odds_difference = Math.max(gap('truePositiveRate'), gap('falsePositiveRate'));
    }
  }

  const noise = options.noise ?? 0.1;
  if (noise > 0) {
    const std = featureStd(data.x, d, data.rows);
    const gauss = seededGaussian(seed);
    const noisy = new Float32Array(data.x.length);
    for (let row = 0; row < noisy.length; row += d) for (let j = 0; j < d; j++) noisy[row + j] = data.x[row + j] + noise * std[j] * gauss();
    const value = keyScore(data.label, await run(model, standardised(noisy, d, options.standardise), d, task));
    evaluation.robustness = { noise, seed, metric: key, clean: metrics[key], noisy: value, drop: metrics[key] - value };
    metrics.robustness_drop = evaluation.robustness.drop;
  }

  const repeats = options.repeats ?? 3;
  if (repeats > 0) evaluation.importance = await permutationImportance(model, input, data, task, metrics[key], repeats, seed);
  return evaluation;
}

/** Shuffles one feature at a time (seeded) in the model input and measures how much the key metric drops. */
async function permutationImportance(model: OnnxModel, input: Float32Array, data: EvaluationData, task: Task, baseline: number, repeats: number, seed: number) {
  const { rows, label: y, features } = data;
  const d = features.length;
  const random = seededRandom(seed);
  const column = new Float32Array(rows);
  const out: { feature: string; importance: number; std: number }[] = [];
  for (let j = 0; j < d; j++) {
    for (let r = 0; r < rows; r++) column[r] = input[r * d + j];
    const drops: number[] = [];
    const shuffled = column.slice();
    for (let k = 0; k < repeats; k++) {
      shuffle(shuffled, random);
      for (let r = 0; r < rows; r++) input[r * d + j] = shuffled[r];
      drops.push(baseline - keyScore(y, await run(model, input, d, task)));
    }
    for (let r = 0; r < rows; r++) input[r * d + j] = column[r];
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    out.push({ feature: features[j], importance: mean, std: Math.sqrt(drops.reduce((a, b) => a + (b - mean) ** 2, 0) / repeats) });
  }
  return out.sort((a, b) => b.importance - a.importance);
}
