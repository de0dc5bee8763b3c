import { sortNumbers } from './sortNumbers';
import { kstwoSf } from './kolmogorov';
import { chiSquareSf, normalTwoSided } from './special';

/**
 * The per-column distribution tests of the data checks and drift monitoring, the
 * way the reference tool (Evidently) picks and thresholds them
 * (docs/validation.md, drift-defaults). Numeric columns come as Float64Array
 * without missing values; categorical ones as value → count.
 */

export type DriftTestName = 'ks' | 'wasserstein' | 'chisquare' | 'ztest' | 'jensenshannon' | 'psi';

export interface DriftTestResult {
  test: DriftTestName;
  statistic: number;
  /** For the tests that have one (KS, chi-square, z-test). */
  pValue?: number;
  threshold: number;
  drift: boolean;
}

export type Counts = Map<string, number>;

/** A column's values for a test: numbers (missing removed), or category counts. */
export type ColumnValues = { kind: 'numeric'; values: Float64Array } | { kind: 'categorical'; counts: Counts };

const THRESHOLD: Record<DriftTestName, number> = { ks: 0.05, chisquare: 0.05, ztest: 0.05, wasserstein: 0.1, jensenshannon: 0.1, psi: 0.1 };

/** Every test a column can be given. */
export const DRIFT_TESTS = Object.keys(THRESHOLD) as DriftTestName[];

/** The values in ascending order; a column the caller already sorted (drift monitoring sorts once per column) is used as is. */
function sorted(values: Float64Array): Float64Array {
  return isSorted(values) ? values : sortNumbers(values.slice());
}

export function isSorted(values: Float64Array): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] < values[i - 1]) return false;
  return true;
}

/** Distinct values of sorted arrays together, counting no further than `stop` (enough to choose a test). */
function distinctSorted(arrays: Float64Array[], stop: number): number {
  const seen = new Set<number>();
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      if (i > 0 && a[i] === a[i - 1]) continue;
      seen.add(a[i]);
      if (seen.size > stop) return seen.size;
    }
  }
  return seen.size;
}

/** Two-sample Kolmogorov–Smirnov, two-sided: statistic and p-value (exact up to 10,000 rows a side, as scipy's `auto`; above, the finite-n Kolmogorov distribution as scipy 1.10's `ks_2samp`). */
export function ksTwoSample(a: Float64Array, b: Float64Array): { statistic: number; pValue: number } {
  const x = sorted(a), y = sorted(b);
  const n1 = x.length, n2 = y.length;
  if (!n1 || !n2) throw new Error('The KS test needs values on both sides.');
  let i = 0, j = 0, d = 0;
  while (i < n1 && j < n2) {
    const v = Math.min(x[i], y[j]);
    while (i < n1 && x[i] === v) i++;
    while (j < n2 && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  if (Math.max(n1, n2) <= 10_000) {
    const exact = exactKsPValue(n1, n2, d);
    if (exact !== undefined) return { statistic: d, pValue: exact };
  }
  // scipy's asymptotic branch: the finite-n Kolmogorov distribution at n = round(m·n/(m + n)), m the larger side.
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  return { statistic: d, pValue: kstwoSf(roundHalfEven((m * n) / (m + n)), d) };
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** P(D ≥ d) under the null by lattice-path counting (Hodges 1958), as scipy computes it; undefined when it overflows. */
function exactKsPValue(n1: number, n2: number, d: number): number | undefined {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = Math.round(d * lcm);
  if (h === 0) return 1;
  let p: number;
  if (n1 === n2) {
    // 2·(A0·(1 − A1·(1 − A2·…))) without the cancellation of the alternating binomial sum.
    p = 0;
    for (let k = Math.floor(n1 / h); k >= 0; k--) {
      let p1 = 1;
      for (let j = 0; j < h; j++) p1 = ((n1 - k * h - j) * p1) / (n1 + k * h + j + 1);
      p = p1 * (1 - p);
    }
    p *= 2;
  } else {
    p = outsideProbability(n1, n2, g, h);
  }
  return Number.isFinite(p) && p >= 0 && p <= 1 ? p : undefined;
}

/** 1 − (paths staying strictly inside |x/m − y/n| < h/lcm) / binom(m+n, n), one normalised column at a time. */
function outsideProbability(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g, ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const A = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1, 0, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj, lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    // Entries are path counts divided by binom(i + j, j), so they stay within [0, 1].
    let val = 0;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(0, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return 1 - A[maxj - minj - 1];
}

/** First Wasserstein distance between two empirical distributions (scipy's wasserstein_distance). */
export function wasserstein(a: Float64Array, b: Float64Array): number {
  const x = sorted(a), y = sorted(b);
  const n1 = x.length, n2 = y.length;
  let i = 0, j = 0, total = 0;
  let prev = Math.min(x[0], y[0]);
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j];
    total += Math.abs(i / n1 - j / n2) * (v - prev);
    prev = v;
    while (i < n1 && x[i] === v) i++;
    while (j < n2 && y[j] === v) j++;
  }
  return total;
}

/** Population standard deviation (numpy's default ddof=0). */
export function std(values: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i];
  mean /= values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i] - mean) ** 2;
  return Math.sqrt(ss / values.length);
}

/** Wasserstein distance in units of the reference's spread: W1 / max(std(ref), 0.001). */
export function normalisedWasserstein(ref: Float64Array, cur: Float64Array): number {
  return wasserstein(ref, cur) / Math.max(std(ref), 0.001);
}

function total(counts: Counts): number {
  let t = 0;
  for (const c of counts.values()) t += c;
  return t;
}

/** Values seen on either side (a zero count is not a category). */
function keysOf(...maps: Counts[]): string[] {
  return [...new Set(maps.flatMap((m) => [...m].filter(([, c]) => c > 0).map(([k]) => k)))];
}

/** Chi-square goodness of fit of current counts against reference counts scaled to the current size. */
export function chiSquare(ref: Counts, cur: Counts): { statistic: number; pValue: number } {
  const keys = keysOf(ref, cur);
  const scale = total(cur) / total(ref);
  let statistic = 0;
  for (const k of keys) {
    const expected = (ref.get(k) ?? 0) * scale;
    const observed = cur.get(k) ?? 0;
    statistic += expected === 0 ? (observed === 0 ? 0 : Infinity) : (observed - expected) ** 2 / expected;
  }
  const df = keys.length - 1;
  return { statistic, pValue: df < 1 ? 1 : Number.isFinite(statistic) ? chiSquareSf(statistic, df) : 0 };
}

/** Two-proportion z-test on the share of one category (the first seen), two-sided. */
export function proportionsZTest(ref: Counts, cur: Counts): { statistic: number; pValue: number } {
  const keys = keysOf(ref, cur);
  if (keys.length <= 1) return { statistic: 0, pValue: 1 };
  const n1 = total(ref), n2 = total(cur);
  const p1 = (ref.get(keys[0]) ?? 0) / n1, p2 = (cur.get(keys[0]) ?? 0) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic: z, pValue: normalTwoSided(z) };
}

/** Bin edges of numpy's `histogram_bin_edges(values, "sturges")` for `n` values from `lo` to `hi`. */
export function sturgesEdges(lo: number, hi: number, n: number): Float64Array {
  let bins = Math.ceil(Math.log2(n) + 1);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
    bins = 1;
  }
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = lo + ((hi - lo) * i) / bins;
  edges[bins] = hi;
  return edges;
}

/** First index of sorted `values` at or above `x` (`strict`: above). */
function searchSorted(values: Float64Array, x: number, strict: boolean): number {
  let lo = 0, hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x || (strict && values[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Shares of sorted values per bin, as numpy's histogram bins them (edges[i] ≤ v < edges[i+1],
 * the last bin closed on the right; values outside left out): two binary searches a bin.
 */
export function histogramShares(values: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const shares = new Float64Array(bins);
  let start = searchSorted(values, edges[0], false);
  for (let i = 0; i < bins; i++) {
    const end = i === bins - 1 ? searchSorted(values, edges[bins], true) : searchSorted(values, edges[i + 1], false);
    shares[i] = (end - start) / values.length;
    start = end;
  }
  return shares;
}

function numericCounts(values: Float64Array): Counts {
  const byNumber = new Map<number, number>();
  for (const v of values) byNumber.set(v, (byNumber.get(v) ?? 0) + 1);
  return new Map([...byNumber].map(([v, c]) => [String(v), c]));
}

/** Shares per bin on each side; the bins are numeric edges (Sturges) or values (`keys`). */
export interface BinnedShares { ref: Float64Array; cur: Float64Array; edges?: Float64Array; keys?: string[] }

/** Reference and current shares over common bins: Sturges bins for numbers with > 20 distinct reference values, else per value. */
export function binnedShares(ref: ColumnValues, cur: ColumnValues): BinnedShares {
  if (ref.kind === 'numeric' && cur.kind === 'numeric' && distinctSorted([sorted(ref.values)], 20) > 20) {
    const r = sorted(ref.values), c = sorted(cur.values);
    const lo = c.length ? Math.min(r[0], c[0]) : r[0], hi = c.length ? Math.max(r[r.length - 1], c[c.length - 1]) : r[r.length - 1];
    const edges = sturgesEdges(lo, hi, r.length + c.length);
    return { ref: histogramShares(r, edges), cur: histogramShares(c, edges), edges };
  }
  const r = countsOf(ref), c = countsOf(cur);
  const keys = keysOf(r, c);
  const nr = total(r), nc = total(c);
  return { ref: Float64Array.from(keys, (k) => (r.get(k) ?? 0) / nr), cur: Float64Array.from(keys, (k) => (c.get(k) ?? 0) / nc), keys };
}

export function countsOf(column: ColumnValues): Counts {
  return column.kind === 'numeric' ? numericCounts(column.values) : column.counts;
}

/** Jensen–Shannon distance (natural log) between two share vectors (scipy's jensenshannon). */
export function jensenShannon(p0: Float64Array, q0: Float64Array): number {
  const sp = p0.reduce((a, b) => a + b, 0), sq = q0.reduce((a, b) => a + b, 0);
  let js = 0;
  for (let i = 0; i < p0.length; i++) {
    const p = p0[i] / sp, q = q0[i] / sq, m = (p + q) / 2;
    if (p > 0) js += p * Math.log(p / m);
    if (q > 0) js += q * Math.log(q / m);
  }
  return Math.sqrt(Math.max(0, js / 2));
}

/** Empty bins get a floor: the smallest non-zero share / 10⁶ when that is ≤ 10⁻⁴, else 10⁻⁴. */
function floorZeros(shares: Float64Array): Float64Array {
  let min = Infinity;
  for (const s of shares) if (s > 0 && s < min) min = s;
  const floor = min <= 1e-4 ? min / 1e6 : 1e-4;
  return shares.map((s) => (s === 0 ? floor : s));
}

/** Population stability index Σ (ref% − cur%)·ln(ref% / cur%). */
export function psi(refShares: Float64Array, curShares: Float64Array): number {
  const r = floorZeros(refShares), c = floorZeros(curShares);
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += (r[i] - c[i]) * Math.log(r[i] / c[i]);
  return sum;
}

/** Distinct values on both sides; for numbers only counted as far as the choice of test needs (> 5). */
function uniqueCount(ref: ColumnValues, cur: ColumnValues): number {
  if (ref.kind === 'numeric' && cur.kind === 'numeric') return distinctSorted([sorted(ref.values), sorted(cur.values)], 5);
  return keysOf(countsOf(ref), countsOf(cur)).length;
}

function rows(column: ColumnValues): number {
  return column.kind === 'numeric' ? column.values.length : total(column.counts);
}

/** The test the reference tool picks for a column (see the table in docs/validation.md). */
export function defaultDriftTest(ref: ColumnValues, cur: ColumnValues, referenceRows = rows(ref)): DriftTestName {
  const unique = uniqueCount(ref, cur);
  if (referenceRows > 1000) return ref.kind === 'numeric' && unique > 5 ? 'wasserstein' : 'jensenshannon';
  if (ref.kind === 'numeric' && unique > 5) return 'ks';
  return unique <= 2 ? 'ztest' : 'chisquare';
}

export interface DriftTestOptions {
  test?: DriftTestName;
  threshold?: number;
  /** Rows of the whole reference when `ref` is a sample of it: the choice of test goes by the whole. */
  referenceRows?: number;
  /** The columns' bins when the caller already has them (a drift report keeps them as its histogram). */
  shares?: BinnedShares;
}

/** Runs one test (the default choice unless named) and says whether the column drifted. */
export function driftTest(ref: ColumnValues, cur: ColumnValues, options: DriftTestOptions = {}): DriftTestResult {
  const test = options.test ?? defaultDriftTest(ref, cur, options.referenceRows);
  const threshold = options.threshold ?? THRESHOLD[test];
  const numeric = (): [Float64Array, Float64Array] => {
    if (ref.kind !== 'numeric' || cur.kind !== 'numeric') throw new Error(`The ${test} test needs a numeric column.`);
    return [ref.values, cur.values];
  };
  switch (test) {
    case 'ks': {
      const r = ksTwoSample(...numeric());
      return { test, statistic: r.statistic, pValue: r.pValue, threshold, drift: r.pValue <= threshold };
    }
    case 'chisquare':
    case 'ztest': {
      const r = (test === 'ztest' ? proportionsZTest : chiSquare)(countsOf(ref), countsOf(cur));
      return { test, statistic: r.statistic, pValue: r.pValue, threshold, drift: r.pValue < threshold };
    }
    case 'wasserstein': {
      const statistic = normalisedWasserstein(...numeric());
      return { test, statistic, threshold, drift: statistic >= threshold };
    }
    case 'jensenshannon':
    case 'psi': {
      const b = options.shares ?? binnedShares(ref, cur);
      const statistic = test === 'psi' ? psi(b.ref, b.cur) : jensenShannon(b.ref, b.cur);
      return { test, statistic, threshold, drift: statistic >= threshold };
    }
  }
}
