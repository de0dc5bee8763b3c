// Small inline SVG charts for the shareable report: no script, no network, a few kilobytes each
// whatever the data's size (callers pass histograms and downsampled curves, never raw rows).

import { escapeHtml } from '../hostileText';

/** The report's series colours (readable on light and dark paper, and for the common colour blindnesses). */
export const PALETTE = ['#3b6fd4', '#e07b39', '#2a9d8f', '#c04b7d', '#7a5cc4', '#8a8a2a', '#5a8fb0', '#b05a3c'];

const W = 520, H = 220, PAD = { l: 52, r: 12, t: 12, b: 36 };

const short = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-2 ? v.toExponential(1) : Number(v.toPrecision(3)).toString());
const px = (v: number) => Math.round(v * 10) / 10;

function frame(title: string, body: string, legend: { label: string; color: string }[]): string {
  const items = legend.map((l, i) => `<g transform="translate(${PAD.l + i * 130},${H - 8})"><rect width="10" height="10" y="-9" fill="${l.color}"/><text x="14">${escapeHtml(l.label.slice(0, 18))}</text></g>`).join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}" xmlns="http://www.w3.org/2000/svg">${body}${items}</svg>`;
}

function axes(x0: number, x1: number, y0: number, y1: number, xLabel: (v: number) => string = short): string {
  const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
  const ticks = [0, 0.5, 1];
  const ys = ticks.map((t) => `<text class="tick" x="${PAD.l - 4}" y="${px(PAD.t + ih * (1 - t) + 4)}" text-anchor="end">${escapeHtml(short(y0 + (y1 - y0) * t))}</text><line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${px(PAD.t + ih * (1 - t))}" y2="${px(PAD.t + ih * (1 - t))}"/>`).join('');
  const xs = ticks.map((t) => `<text class="tick" x="${px(PAD.l + iw * t)}" y="${H - PAD.b + 14}" text-anchor="${t === 0 ? 'start' : t === 1 ? 'end' : 'middle'}">${escapeHtml(xLabel(x0 + (x1 - x0) * t))}</text>`).join('');
  return ys + xs;
}

function extent(values: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) return [0, 1];
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

export interface LineSeries { label: string; xs: number[]; ys: number[] }

/** One line per series over a shared x axis (steps). */
export function lineChart(title: string, series: LineSeries[]): string {
  const [x0, x1] = extent(series.flatMap((s) => s.xs));
  const [y0, y1] = extent(series.flatMap((s) => s.ys));
  const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
  const X = (x: number) => px(PAD.l + ((x - x0) / (x1 - x0)) * iw), Y = (y: number) => px(PAD.t + (1 - (y - y0) / (y1 - y0)) * ih);
  const lines = series.map((s, i) => {
    const pts = s.xs.map((x, k) => (Number.isFinite(s.ys[k]) ? `${X(x)},${Y(s.ys[k])}` : '')).filter(Boolean);
    const color = PALETTE[i % PALETTE.length];
    return pts.length === 1 ? `<circle cx="${pts[0].split(',')[0]}" cy="${pts[0].split(',')[1]}" r="3" fill="${color}"/>` : `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`;
  }).join('');
  return frame(title, axes(x0, x1, y0, y1) + lines, series.map((s, i) => ({ label: s.label, color: PALETTE[i % PALETTE.length] })));
}

/** Reference and current shares per bin (numeric edges or categories), as overlaid bars. */
export function histogramChart(title: string, bins: { edges?: number[]; categories?: string[]; reference: number[]; current: number[] }): string {
  const n = bins.reference.length;
  const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
  const top = Math.max(1e-12, ...bins.reference, ...bins.current);
  const bw = iw / Math.max(1, n);
  const bar = (v: number, k: number, color: string, inset: number) =>
    `<rect x="${px(PAD.l + k * bw + inset)}" y="${px(PAD.t + ih * (1 - v / top))}" width="${px(Math.max(0.5, bw - 2 * inset))}" height="${px(ih * (v / top))}" fill="${color}" fill-opacity="0.55"/>`;
  const bars = bins.reference.map((v, k) => bar(v, k, PALETTE[0], 0)).join('') + bins.current.map((v, k) => bar(v, k, PALETTE[1], bw * 0.2)).join('');
  const label = bins.edges ? (x: number) => short(bins.edges![0] + (bins.edges![bins.edges!.length - 1] - bins.edges![0]) * ((x - 0) / Math.max(1, n))) : (x: number) => (bins.categories?.[Math.min(n - 1, Math.floor(x))] ?? '').slice(0, 12);
  return frame(title, axes(0, n, 0, top, label) + bars, [{ label: 'reference', color: PALETTE[0] }, { label: 'current', color: PALETTE[1] }]);
}
