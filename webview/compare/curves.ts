// Curves without DOM: the x of each point for the chosen axis, exponential
// moving average smoothing, and the hover read-out of every run at one x.
// Pure, so unit tests check exactly what the panel draws.

import { relativeOrigin, type Series, type XAxis } from '../../src/protocol/compare';
import { formatClock, formatNumber, formatRelative } from '../common/format';

export interface Point {
  x: number;
  y: number;
}

/** The run's points on the chosen x axis, sorted by x (a resumed run may log steps out of order). */
export function seriesPoints(series: Series, axis: XAxis, runStart: number | null): Point[] {
  const origin = relativeOrigin(runStart, series.times);
  const n = series.values.length;
  const out = new Array<Point>(n);
  for (let i = 0; i < n; i++) {
    const x = axis === 'step' ? series.steps[i] : axis === 'time' ? series.times[i] : (series.times[i] - origin) / 1000;
    out[i] = { x, y: series.values[i] };
  }
  for (let i = 1; i < n; i++) {
    if (out[i].x < out[i - 1].x) {
      out.sort((a, b) => a.x - b.x);
      break;
    }
  }
  return out;
}

/**
 * Exponential moving average with TensorBoard's debiasing (the first points are
 * not pulled towards zero). `weight` 0 is no smoothing, towards 1 is smoother.
 */
export function ema(points: Point[], weight: number): Point[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0) return points;
  let last = 0;
  let n = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.y)) return p;
    last = last * w + (1 - w) * p.y;
    n++;
    return { x: p.x, y: last / (1 - Math.pow(w, n)) };
  });
}

/** Points a log scale can draw (y > 0), and how many it cannot. */
export function forLogScale(points: Point[]): { points: Point[]; dropped: number } {
  const kept = points.filter((p) => p.y > 0);
  return { points: kept, dropped: points.length - kept.length };
}

/** The point nearest to x (points sorted by x), or undefined when there are none. */
export function nearest(points: Point[], x: number): Point | undefined {
  if (!points.length) return undefined;
  let lo = 0, hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].x < x) lo = mid + 1;
    else hi = mid;
  }
  const right = points[lo];
  const left = lo > 0 ? points[lo - 1] : undefined;
  return left && Math.abs(left.x - x) <= Math.abs(right.x - x) ? left : right;
}

/** An x as the axis ticks show it: a step, a time of day, or a time since the run started. */
export function formatTick(x: number, axis: XAxis, spanMs = 0): string {
  if (axis === 'step') return formatNumber(x);
  if (axis === 'time') return formatClock(x, spanMs);
  return formatRelative(x);
}

/** An x in the hover read-out: as a tick, a step named as one ("step 150"). */
export function formatX(x: number, axis: XAxis, spanMs = 0): string {
  return axis === 'step' ? `step ${formatTick(x, axis)}` : formatTick(x, axis, spanMs);
}

/**
 * The hover read-out at x: a title line, then one line per run that has points
 * ("name: value"), highest value first, each at its own nearest point.
 */
export function hoverLines(runs: { name: string; points: Point[] }[], x: number, axis: XAxis, spanMs = 0): string[] {
  const values: { name: string; p: Point }[] = [];
  for (const run of runs) {
    const p = nearest(run.points, x);
    if (p) values.push({ name: run.name, p });
  }
  values.sort((a, b) => b.p.y - a.p.y);
  const title = formatX(x, axis, spanMs);
  return [title, ...values.map(({ name, p }) => `${name}: ${formatNumber(p.y)}${Math.abs(p.x - x) > 1e-9 ? ` (at ${formatX(p.x, axis, spanMs)})` : ''}`)];
}
