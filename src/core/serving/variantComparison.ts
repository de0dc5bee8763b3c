import * as fs from 'node:fs';
import { predictionLogFiles, type PredictionRecord } from './predictionLog';

/** One variant's predictions in the window read. */
export interface VariantPredictions {
  /** "primary", "a", "b", or "shadow". */
  variant: string;
  model: string;
  version: string;
  /** Logged predictions (requests) and the rows they held. */
  records: number;
  rows: number;
  /** Latency of the logged predictions, ms (the log is a sample when the deployment samples). */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  /** Share of rows per predicted class (`classes` order); empty when the output is not a class. */
  classShares: number[];
  /** Rows per score bin (`bins` edges); empty when the output has no score. */
  histogram: number[];
}

/** How often the shadow's answer agreed with the answer served for the same request. */
export interface Agreement {
  /** Rows answered by both a served variant and the shadow. */
  rows: number;
  agreed: number;
  rate: number;
  /** Mean |served − shadow| of the score, when the output has one. */
  meanAbsDifference?: number;
}

/**
 * The variants of a deployment side by side, from its prediction log: what each predicted
 * (class shares, a histogram of the score), how fast, and, for a shadow, how often it agreed
 * with the served answer; for an A/B split (different requests per arm), how far apart the
 * two arms' predictions are.
 */
export interface VariantComparison {
  deployment: string;
  /** The output compared, and what its score is ("probabilities: score of class 1", "value"). */
  output: string;
  /** The outputs the log has, any of which can be compared. */
  outputs: string[];
  score: string | undefined;
  classes: string[];
  /** Histogram bin edges (bins + 1 numbers). */
  bins: number[];
  variants: VariantPredictions[];
  agreement: Agreement | undefined;
  /**
   * Total variation distance between the first two served variants' class shares (or score
   * histograms): 0 the same distribution, 1 nothing in common.
   */
  distance: number | undefined;
  /** The records read (newest last), and the lines that could not be. */
  records: number;
  from: number | undefined;
  to: number | undefined;
  skippedLines: number;
}

export interface CompareOptions {
  /** The output to compare (default: `label` when the deployment names classes, else the model's first output). */
  output?: string;
  /** Newest records read at most (default 5000). */
  maxRecords?: number;
  /** Scores agree within this share of their size (default 0.01). */
  tolerance?: number;
  /** Histogram bins (default 20). */
  bins?: number;
}

/** What one row of an output says: a class, a score, or both. */
interface RowAnswer { cls?: string; score?: number }

/** How rows of an output are read: decided once from the rows seen, so every variant is read alike. */
interface Reading { score: string | undefined; classes: boolean; answer(row: unknown): RowAnswer }

/** Up to this many distinct whole numbers are read as classes (class ids) rather than as a score. */
const MAX_INTEGER_CLASSES = 20;

function readingOf(rows: unknown[]): Reading {
  const first = rows.find((r) => r !== null && r !== undefined);
  if (Array.isArray(first) && first.length > 1) {
    const width = first.length;
    // A vector of scores per row: its class is the top one; its score the positive class's (two classes) or the top score.
    return {
      score: width === 2 ? 'score of class 1' : 'top score', classes: true,
      answer(row) {
        if (!Array.isArray(row) || !row.length) return {};
        const v = row.map(Number);
        let top = 0;
        for (let i = 1; i < v.length; i++) if (v[i] > v[top]) top = i;
        return { cls: String(top), score: width === 2 ? v[1] : v[top] };
      },
    };
  }
  const scalar = (row: unknown) => (Array.isArray(row) && row.length === 1 ? row[0] : row);
  const values = rows.map(scalar);
  if (values.some((v) => typeof v === 'string' || typeof v === 'boolean')) return { score: undefined, classes: true, answer: (row) => ({ cls: String(scalar(row)) }) };
  const numbers = values.filter((v): v is number => typeof v === 'number');
  if (numbers.every(Number.isInteger) && new Set(numbers).size <= MAX_INTEGER_CLASSES) return { score: undefined, classes: true, answer: (row) => ({ cls: String(scalar(row)) }) };
  return { score: 'value', classes: false, answer: (row) => ({ score: Number(scalar(row)) }) };
}

/** The newest `max` records of a deployment's prediction log, oldest first. */
function readRecords(dir: string, max: number): { records: PredictionRecord[]; skipped: number } {
  const out: PredictionRecord[] = [];
  let skipped = 0;
  for (const file of predictionLogFiles(dir).reverse()) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0 && out.length < max; i--) {
      if (!lines[i]) continue;
      try {
        const r = JSON.parse(lines[i]) as PredictionRecord;
        if (r && typeof r.variant === 'string' && r.outputs && typeof r.outputs === 'object' && r.inputs && typeof r.inputs === 'object') out.push(r);
        else skipped++;
      } catch {
        skipped++; // a torn line: the others stand
      }
    }
    if (out.length >= max) break;
  }
  return { records: out.reverse(), skipped };
}

function quantile(sorted: number[], q: number): number | undefined {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] : undefined;
}

const totalVariation = (p: number[], q: number[]) => p.reduce((a, v, i) => a + Math.abs(v - (q[i] ?? 0)), 0) / 2;

/**
 * Compares the variants of a deployment from its prediction log under `dir`
 * (`.mlops/serving/<deployment>/`). Throws a message naming the fix when there is nothing
 * to compare.
 */
export function compareVariants(dir: string, deployment: string, options: CompareOptions = {}): VariantComparison {
  const { records, skipped } = readRecords(dir, options.maxRecords ?? 5000);
  if (!records.length) throw new Error(`Deployment "${deployment}" has no logged predictions yet; send it requests (with a split or a shadow in place) and open the comparison again.`);
  const outputs = Object.keys(records[records.length - 1].outputs);
  const output = options.output ?? (outputs.includes('label') ? 'label' : outputs[0]);
  if (!outputs.includes(output)) throw new Error(`The predictions of "${deployment}" have no output "${output}"; they have ${outputs.join(', ')}.`);
  const reading = readingOf(records.flatMap((r) => r.outputs[output] ?? []));
  const tolerance = options.tolerance ?? 0.01;

  // Per variant: rows' answers and latencies.
  const byVariant = new Map<string, { model: string; version: string; records: number; latencies: number[]; answers: RowAnswer[] }>();
  // A shadow record follows the served record of the same request (same inputs, logged first).
  const served = new Map<string, RowAnswer[][]>();
  let pairRows = 0, agreed = 0, absDiff = 0, diffRows = 0;
  for (const r of records) {
    const answers = (r.outputs[output] ?? []).map((row) => reading.answer(row));
    const v = byVariant.get(r.variant) ?? { model: r.model, version: r.version, records: 0, latencies: [], answers: [] };
    byVariant.set(r.variant, v);
    v.records++;
    if (Number.isFinite(r.latency_ms)) v.latencies.push(r.latency_ms);
    v.answers.push(...answers);
    const key = `${r.id ?? ''}\u0000${JSON.stringify(r.inputs)}`;
    if (r.variant !== 'shadow') {
      const queue = served.get(key) ?? [];
      queue.push(answers);
      served.set(key, queue);
      continue;
    }
    const mine = served.get(key)?.shift();
    if (!mine) continue; // its served record fell before the window
    for (let i = 0; i < Math.min(mine.length, answers.length); i++) {
      const [a, b] = [mine[i], answers[i]];
      pairRows++;
      const sameClass = a.cls === undefined || a.cls === b.cls;
      const close = a.score === undefined || b.score === undefined || Math.abs(a.score - b.score) <= tolerance * Math.max(1, Math.abs(a.score), Math.abs(b.score));
      if (reading.classes ? sameClass : close) agreed++;
      if (a.score !== undefined && b.score !== undefined) {
        absDiff += Math.abs(a.score - b.score);
        diffRows++;
      }
    }
  }

  const all = [...byVariant.values()].flatMap((v) => v.answers);
  const classes = reading.classes ? [...new Set(all.map((a) => a.cls!).filter((c) => c !== undefined))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })) : [];
  const scores = all.map((a) => a.score).filter((s): s is number => s !== undefined && Number.isFinite(s));
  const nBins = options.bins ?? 20;
  let bins: number[] = [];
  if (reading.score && scores.length) {
    let lo = Math.min(...scores), hi = Math.max(...scores);
    if (lo >= 0 && hi <= 1 && reading.classes) [lo, hi] = [0, 1]; // class scores: probabilities
    if (hi === lo) hi = lo + 1;
    bins = Array.from({ length: nBins + 1 }, (_, i) => lo + ((hi - lo) * i) / nBins);
  }
  const variants: VariantPredictions[] = [...byVariant.entries()]
    .sort(([a], [b]) => (a === 'shadow' ? 1 : b === 'shadow' ? -1 : a.localeCompare(b)))
    .map(([variant, v]) => {
      const latencies = v.latencies.sort((a, b) => a - b);
      const rows = v.answers.length;
      const classShares = classes.map((c) => (rows ? v.answers.filter((a) => a.cls === c).length / rows : 0));
      const histogram = bins.length ? new Array<number>(nBins).fill(0) : [];
      if (bins.length) {
        const [lo, hi] = [bins[0], bins[nBins]];
        for (const a of v.answers) if (a.score !== undefined && Number.isFinite(a.score)) histogram[Math.min(nBins - 1, Math.max(0, Math.floor(((a.score - lo) / (hi - lo)) * nBins)))]++;
      }
      return { variant, model: v.model, version: v.version, records: v.records, rows, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), classShares, histogram };
    });

  const arms = variants.filter((v) => v.variant !== 'shadow');
  const share = (h: number[]) => {
    const n = h.reduce((a, b) => a + b, 0);
    return h.map((x) => (n ? x / n : 0));
  };
  const distance = arms.length >= 2 ? (classes.length ? totalVariation(arms[0].classShares, arms[1].classShares) : totalVariation(share(arms[0].histogram), share(arms[1].histogram))) : undefined;
  return {
    deployment, output, outputs, score: reading.score && reading.score !== 'value' ? `${output}: ${reading.score}` : reading.score ? output : undefined,
    classes, bins, variants,
    agreement: pairRows ? { rows: pairRows, agreed, rate: agreed / pairRows, ...(diffRows ? { meanAbsDifference: absDiff / diffRows } : {}) } : undefined,
    distance, records: records.length, from: records[0].time, to: records[records.length - 1].time, skippedLines: skipped,
  };
}
