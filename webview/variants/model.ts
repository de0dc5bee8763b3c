// What the variant comparison panel shows, as plain data: table cells, the agreement line,
// and the shares each chart draws. No DOM, so unit tests run it as it is.

import type { VariantComparisonData, VariantsData } from '../../src/protocol/variants';

const ms = (v: number | null) => (v === null ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const count = (n: number) => n.toLocaleString('en-US');

/** A variant's name as the tables and legends show it: "a · cancer 1". */
export function variantLabel(v: { variant: string; model: string; version: string }): string {
  return `${v.variant} · ${v.model} ${v.version}`;
}

export const TRAFFIC_HEADER = ['Variant', 'Requests', 'Error rate', 'p50 ms', 'p99 ms'];

/** Since the server started, from its /metrics. */
export function trafficRows(data: VariantsData): string[][] {
  return (data.traffic ?? []).map((t) => [variantLabel(t), count(t.requests), pct(t.errorRate), ms(t.p50Ms), ms(t.p99Ms)]);
}

export const PREDICTIONS_HEADER = ['Variant', 'Logged requests', 'Rows', 'p50 ms', 'p99 ms', 'Most predicted'];

/** From the prediction log's window. */
export function predictionRows(c: VariantComparisonData): string[][] {
  return c.variants.map((v) => {
    let top = -1;
    v.classShares.forEach((s, i) => { if (top < 0 || s > v.classShares[top]) top = i; });
    return [variantLabel(v), count(v.records), count(v.rows), ms(v.p50Ms), ms(v.p99Ms), top < 0 ? '–' : `${c.classes[top]} (${pct(v.classShares[top])})`];
  });
}

/** The one line that answers "do they agree?". */
export function agreementText(c: VariantComparisonData): string {
  if (c.agreement) {
    const diff = c.agreement.meanAbsDifference === null ? '' : `; mean |difference| of ${c.score ?? 'the score'}: ${c.agreement.meanAbsDifference.toPrecision(3)}`;
    return `The shadow agreed with the served answer on ${pct(c.agreement.rate)} of ${count(c.agreement.rows)} rows answered by both${diff}.`;
  }
  if (c.distance !== null) {
    const what = c.classes.length ? 'class shares' : 'score distributions';
    return `The arms answer different requests, so their ${what} are compared: they differ by ${pct(c.distance)} (total variation distance; 0% is the same distribution).`;
  }
  return 'Only one variant has logged predictions in this window.';
}

/** One bar series per variant: its share of rows per class (`labels`), or per score bin. */
export interface ShareSeries {
  label: string;
  variant: string;
  values: number[];
}

export function classShareSeries(c: VariantComparisonData): { labels: string[]; series: ShareSeries[] } {
  return { labels: c.classes, series: c.variants.map((v) => ({ label: variantLabel(v), variant: v.variant, values: v.classShares })) };
}

/** Each variant's histogram as shares of its rows, so arms of different sizes overlay fairly. */
export function histogramSeries(c: VariantComparisonData): { labels: string[]; series: ShareSeries[] } {
  const labels = c.bins.slice(0, -1).map((lo, i) => `${formatEdge(lo)}–${formatEdge(c.bins[i + 1])}`);
  const series = c.variants.map((v) => {
    const n = v.histogram.reduce((a, b) => a + b, 0);
    return { label: variantLabel(v), variant: v.variant, values: v.histogram.map((x) => (n ? x / n : 0)) };
  });
  return { labels, series };
}

function formatEdge(v: number): string {
  return Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(1) : String(Number(v.toFixed(2)));
}

/** A chart's text alternative for screen readers: each variant's largest shares. */
export function chartSummary(title: string, chart: { labels: string[]; series: ShareSeries[] }): string {
  const parts = chart.series.map((s) => {
    const top = s.values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 2).filter(([v]) => v > 0);
    return `${s.label}: ${top.map(([v, i]) => `${chart.labels[i]} ${pct(v)}`).join(', ') || 'no rows'}`;
  });
  return `${title}. ${parts.join('; ')}.`;
}
