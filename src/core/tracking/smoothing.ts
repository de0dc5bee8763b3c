// Smoothing of a metric's whole history, done before downsampling so that the
// smoothed value at a step is the same at any zoom and any run length (a chart
// that smooths the ~800 points it receives smooths a different curve each time).
// Pure: no Node APIs.

import type { MetricPoints } from './metricHistory';

/** The largest weight: 1 would never move from the first point. */
export const MAX_SMOOTHING = 0.999;

/**
 * Exponential moving average with TensorBoard's debiasing (the first points are
 * not pulled towards zero), over the points in step order (log order among equal
 * steps). `weight` 0 is no smoothing, towards 1 is smoother. NaN and ±Infinity
 * points are skipped (their smoothed value is NaN) and do not move the average.
 * Returns one value per point, at the point's own index.
 */
export function smoothHistory(points: MetricPoints, weight: number): Float64Array {
  const { steps, values } = points;
  const n = values.length;
  const out = new Float64Array(n);
  const w = Math.min(Math.max(Number(weight) || 0, 0), MAX_SMOOTHING);
  let last = 0;
  let bias = 1; // w^k after k finite points
  for (const k of stepOrder(steps)) {
    const y = values[k];
    if (!Number.isFinite(y)) {
      out[k] = NaN;
      continue;
    }
    last = last * w + (1 - w) * y;
    bias *= w;
    out[k] = last / (1 - bias);
  }
  return out;
}

/** Indices sorted by step, stable; the identity (no sort) when steps never go down, as in most runs. */
function stepOrder(steps: ArrayLike<number>): Iterable<number> {
  const n = steps.length;
  const order = Array.from({ length: n }, (_, k) => k);
  for (let k = 1; k < n; k++) {
    if (steps[k] < steps[k - 1]) return order.sort((a, b) => steps[a] - steps[b] || a - b);
  }
  return order;
}
