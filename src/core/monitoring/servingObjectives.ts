import { liveStats, type MetricsScrape } from '../serving/liveStats';
import { sortNumbers } from '../validation/sortNumbers';
import type { ServingThresholds } from './config';

/** One serving objective as a check measured it. */
export interface ObjectiveReading {
  value: number;
  /** The threshold from `monitoring.thresholds`, when one is set. */
  threshold?: number;
  crossed: boolean;
  /** Requests the value is over. */
  requests: number;
}

export interface ServingReadings {
  p99Ms?: ObjectiveReading;
  errorRate?: ObjectiveReading;
  /** The server's request counters at this check (no latency buckets), so the next check measures only what came after. */
  scrape?: MetricsScrape;
}

/** p99 by nearest rank over the window's request latencies. */
export function p99(latencies: Float64Array): number {
  const sorted = sortNumbers(latencies.slice());
  return sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)];
}

/**
 * Judges p99 (nearest rank over the window's request latencies) and the error rate (the
 * server's answers that were not a success, as the Deployments view counts them, since the
 * previous check's scrape: since the server started when there is none or it restarted)
 * against their thresholds.
 */
export function judgeServing(latencies: Float64Array, scrape: MetricsScrape | undefined, previous: MetricsScrape | undefined, thresholds: ServingThresholds): ServingReadings {
  const out: ServingReadings = {};
  if (latencies.length) {
    const value = p99(latencies);
    out.p99Ms = { value, ...(thresholds.p99Ms !== undefined ? { threshold: thresholds.p99Ms } : {}), crossed: thresholds.p99Ms !== undefined && value > thresholds.p99Ms, requests: latencies.length };
  }
  if (scrape) {
    // Kept without latency buckets: the error rate needs the counters only, and the +Inf bound is not JSON.
    out.scrape = { time: scrape.time, series: Object.fromEntries(Object.entries(scrape.series).map(([k, v]) => [k, { ...v, buckets: [] }])) };
    const since = liveStats(previous ?? { time: 0, series: {} }, scrape);
    if (since.requests > 0 && since.errorRate !== undefined) {
      const value = since.errorRate;
      out.errorRate = { value, ...(thresholds.errorRate !== undefined ? { threshold: thresholds.errorRate } : {}), crossed: thresholds.errorRate !== undefined && value > thresholds.errorRate, requests: since.requests };
    }
  }
  return out;
}
