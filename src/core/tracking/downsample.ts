// Shape-preserving downsampling of metric histories before they reach a chart:
// largest-triangle-three-buckets (Steinarsson, 2013) with the series' minimum
// and maximum always kept, so a best score or a loss spike never disappears.
// Pure: no Node APIs, so the benchmark harness can run it in a browser too.

import type { MetricPoints } from './metricHistory';
import { smoothHistory } from './smoothing';

/**
 * Indices (ascending, unique) of at most `maxPoints` of the points
 * (xs[k], ys[k]) for k in `candidates` that keep the curve's shape: the first
 * and last point, the points of largest minimum and maximum y, and one point per
 * bucket chosen by LTTB. Every ys[k] must be finite. `candidates` defaults to
 * 0..xs.length-1.
 */
export function lttbMinMax(xs: ArrayLike<number>, ys: ArrayLike<number>, maxPoints: number, candidates?: ArrayLike<number>): number[] {
  const idx = candidates ?? identity(xs.length);
  const n = idx.length;
  const budget = Math.max(2, Math.floor(maxPoints));
  if (n <= budget) return Array.from(idx);

  let minAt = idx[0], maxAt = idx[0];
  for (let j = 1; j < n; j++) {
    const k = idx[j];
    if (ys[k] < ys[minAt]) minAt = k;
    if (ys[k] > ys[maxAt]) maxAt = k;
  }
  if (budget < 5) {
    // Too few points for buckets: the ends, then the extremes, as many as fit.
    const kept = [idx[0], idx[n - 1]];
    for (const k of [minAt, maxAt]) if (kept.length < budget && !kept.includes(k)) kept.push(k);
    return unique(kept);
  }

  // Two slots are kept back for the extremes; LTTB fills the rest.
  const threshold = budget - 2;
  const out: number[] = [idx[0]];
  const every = (n - 2) / (threshold - 2);
  let a = 0; // position in idx of the last chosen point
  for (let i = 0; i < threshold - 2; i++) {
    // Average of the next bucket: the third corner of the triangle.
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0, avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += xs[idx[j]];
      avgY += ys[idx[j]];
    }
    const count = nextEnd - nextStart;
    if (count > 0) {
      avgX /= count;
      avgY /= count;
    } else {
      avgX = xs[idx[n - 1]];
      avgY = ys[idx[n - 1]];
    }
    // The point of this bucket that makes the largest triangle with the last chosen point and that average.
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = xs[idx[a]], ay = ys[idx[a]];
    let best = start, bestArea = -1;
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * (ys[idx[j]] - ay) - (ax - xs[idx[j]]) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    out.push(idx[best]);
    a = best;
  }
  out.push(idx[n - 1]);
  out.push(minAt, maxAt);
  return unique(out);
}

export interface DownsampleOptions {
  maxPoints: number;
  /** Keep only points whose step (axis 'step') or time (axis 'time') lies in [min, max], plus one neighbour each side. */
  range?: { axis: 'step' | 'time'; min: number; max: number };
  /** Debiased EMA weight (0 to 0.999) applied to the whole history before anything is left out; 0 or absent: none. */
  smoothing?: number;
}

export interface DownsampledSeries {
  steps: number[];
  times: number[];
  values: number[];
  /** The smoothed value of each kept point (smoothed over the whole history), when smoothing was asked for. */
  smoothed?: number[];
  /** Points in the range before downsampling, non-finite ones included. */
  total: number;
  /** Points dropped because their value is NaN or ±Infinity (a line cannot draw them). */
  nonFinite: number;
  downsampled: boolean;
}

/** Downsamples one metric history for a chart (x is the step, or the wall time for a time range). */
export function downsampleHistory(points: MetricPoints, options: DownsampleOptions): DownsampledSeries {
  const { steps, times, values } = points;
  const xs = options.range?.axis === 'time' ? times : steps;
  const inRange = rangeIndices(xs, options.range);
  const finite: number[] = [];
  for (const k of inRange) if (Number.isFinite(values[k])) finite.push(k);
  const kept = lttbMinMax(xs, values, options.maxPoints, finite);
  const out: DownsampledSeries = {
    steps: new Array<number>(kept.length),
    times: new Array<number>(kept.length),
    values: new Array<number>(kept.length),
    total: inRange.length,
    nonFinite: inRange.length - finite.length,
    downsampled: kept.length < finite.length,
  };
  for (let j = 0; j < kept.length; j++) {
    const k = kept[j];
    out.steps[j] = steps[k];
    out.times[j] = times[k];
    out.values[j] = values[k];
  }
  if (options.smoothing && options.smoothing > 0) {
    const smoothed = smoothHistory(points, options.smoothing);
    out.smoothed = kept.map((k) => smoothed[k]);
  }
  return out;
}

/** Indices inside the range, plus the nearest point outside it on each side so a zoomed line reaches the edges. */
function rangeIndices(xs: ArrayLike<number>, range: DownsampleOptions['range']): number[] {
  const n = xs.length;
  if (!range) return identity(n);
  const out: number[] = [];
  let before = -1, after = -1;
  for (let k = 0; k < n; k++) {
    const x = xs[k];
    if (x >= range.min && x <= range.max) out.push(k);
    else if (x < range.min && (before < 0 || x > xs[before])) before = k;
    else if (x > range.max && (after < 0 || x < xs[after])) after = k;
  }
  if (before >= 0) out.push(before);
  if (after >= 0) out.push(after);
  return out.sort((p, q) => p - q);
}

function identity(n: number): number[] {
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) out[k] = k;
  return out;
}

function unique(indices: number[]): number[] {
  return [...new Set(indices)].sort((p, q) => p - q);
}
