// Curves without DOM: the x of each point for the chosen axis, the hover
// read-out of every run at one x, and how steps and values read. Smoothing is
// done by the host over each run's whole history (src/core/tracking/smoothing.ts).
// Pure, so unit tests check exactly what the panel draws.

import { relativeOrigin, type Series, type XAxis } from '../../src/protocol/compare';
import { formatClock, formatNumber, formatRelative } from '../common/format';

export interface Point {
  x: number;
  y: number;
  /** The smoothed value at this point, when the chart smooths. */
  s?: number;
}

/** The run's points on the chosen x axis, sorted by x (a resumed run may log steps out of order). */
export function seriesPoints(series: Series, axis: XAxis, runStart: number | null): Point[] {
  const origin = relativeOrigin(runStart, series.times);
  const n = series.values.length;
  const out = new Array<Point>(n);
  for (let i = 0; i < n; i++) {
    const x = axis === 'step' ? series.steps[i] : axis === 'time' ? series.times[i] : (series.times[i] - origin) / 1000;
    out[i] = series.smoothed ? { x, y: series.values[i], s: series.smoothed[i] } : { x, y: series.values[i] };
  }
  for (let i = 1; i < n; i++) {
    if (out[i].x < out[i - 1].x) {
      out.sort((a, b) => a.x - b.x);
      break;
    }
  }
  return out;
}

/** The smoothed curve of points that carry smoothed values. */
export function smoothedPoints(points: Point[]): Point[] {
  return points.filter((p) => p.s !== undefined).map((p) => ({ x: p.x, y: p.s! }));
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

/** An x as the axis ticks show it: a step (compact when large: 150k, 1.2M), a time of day, or a time since the run started. */
export function formatTick(x: number, axis: XAxis, spanMs = 0): string {
  if (axis === 'step') return compactStep(x);
  if (axis === 'time') return formatClock(x, spanMs);
  return formatRelative(x);
}

/** An x in the hover read-out: a step in full ("step 150,000"), else as a tick. */
export function formatX(x: number, axis: XAxis, spanMs = 0): string {
  return axis === 'step' ? `step ${fullStep(x)}` : formatTick(x, axis, spanMs);
}

/** Integers with thousands separators; one formatter for all (chart.js formats ticks many times a draw, and toLocaleString makes a new one each call). */
const THOUSANDS = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A step in full with thousands separators; a fractional one (a hover between steps) to the nearest step once that is at least 1,000. */
export function fullStep(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (!Number.isInteger(x) && Math.abs(x) < 1000) return formatNumber(x);
  return THOUSANDS.format(Math.round(x));
}

/** A step for an axis tick: in full below 100,000, then 150k, 2.5M, 1.2G. */
export function compactStep(x: number): string {
  const a = Math.abs(x);
  if (!Number.isFinite(x) || a < 100_000) return Number.isInteger(x) ? THOUSANDS.format(x) : formatNumber(x);
  const [div, unit] = a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
  return `${Number((x / div).toPrecision(4))}${unit}`;
}

/**
 * The fewest significant digits (at least `min`, at most 17) that show every
 * distinct value differently: 0.98766 and 0.98774 need 5, not 4.
 */
export function digitsToTellApart(values: number[], min = 4): number {
  const distinct = [...new Set(values.filter(Number.isFinite))];
  for (let digits = min; digits < 17; digits++) {
    if (new Set(distinct.map((v) => formatNumber(v, digits))).size === distinct.length) return digits;
  }
  return 17;
}

/**
 * The hover read-out at x: a title line, then one line per run that has points
 * ("name: value", and "smoothed value" beside it when smoothing), highest
 * value first (smoothed when smoothing), each at its own nearest point.
 */
export function hoverLines(runs: { name: string; points: Point[] }[], x: number, axis: XAxis, spanMs = 0): string[] {
  const values: { name: string; p: Point }[] = [];
  for (const run of runs) {
    const p = nearest(run.points, x);
    if (p) values.push({ name: run.name, p });
  }
  values.sort((a, b) => (b.p.s ?? b.p.y) - (a.p.s ?? a.p.y));
  const title = formatX(x, axis, spanMs);
  return [title, ...values.map(({ name, p }) => {
    const value = p.s === undefined ? formatNumber(p.y) : `smoothed ${formatNumber(p.s)}, raw ${formatNumber(p.y)}`;
    return `${name}: ${value}${Math.abs(p.x - x) > 1e-9 ? ` (at ${formatX(p.x, axis, spanMs)})` : ''}`;
  })];
}
