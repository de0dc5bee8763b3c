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

/** The server's request counters, kept in each verdict so the next check measures only what came after. */
export interface RequestCounters {
  /** Server start (s since the epoch): counters restart with it. */
  start: number;
  total: number;
  failed: number;
}

export interface ServingReadings {
  p99Ms?: ObjectiveReading;
  errorRate?: ObjectiveReading;
  counters?: RequestCounters;
}

/** p99 by nearest rank over the window's request latencies. */
export function p99(latencies: Float64Array): number {
  const sorted = latencies.slice().sort();
  return sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)];
}

/**
 * The request counters of a deployment's Prometheus text (`/metrics`): all answered requests,
 * and the failed ones (the server's fault: `outcome="server_error"`; a client's bad request is
 * not the model's failure). Undefined when the text has none.
 */
export function requestCounters(text: string): RequestCounters | undefined {
  let total = 0, failed = 0, start = 0, seen = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('mlops_serving_requests_total{')) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (!Number.isFinite(value)) continue;
      seen = true;
      total += value;
      if (line.includes('outcome="server_error"')) failed += value;
    } else if (line.startsWith('mlops_serving_start_time_seconds ')) {
      start = Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
  }
  return seen ? { start, total, failed } : undefined;
}

/** Requests since the previous check's counters when the same server answered both, else since the server started. */
function sinceLast(now: RequestCounters, before?: RequestCounters): { total: number; failed: number } {
  if (before && before.start === now.start && now.total >= before.total) return { total: now.total - before.total, failed: now.failed - before.failed };
  return now;
}

/** Judges p99 (from the window's latencies) and the error rate (from the live counters) against their thresholds. */
export function judgeServing(latencies: Float64Array, counters: RequestCounters | undefined, previous: RequestCounters | undefined, thresholds: ServingThresholds): ServingReadings {
  const out: ServingReadings = {};
  if (latencies.length) {
    const value = p99(latencies);
    out.p99Ms = { value, ...(thresholds.p99Ms !== undefined ? { threshold: thresholds.p99Ms } : {}), crossed: thresholds.p99Ms !== undefined && value > thresholds.p99Ms, requests: latencies.length };
  }
  if (counters) {
    out.counters = counters;
    const { total, failed } = sinceLast(counters, previous);
    if (total > 0) {
      const value = failed / total;
      out.errorRate = { value, ...(thresholds.errorRate !== undefined ? { threshold: thresholds.errorRate } : {}), crossed: thresholds.errorRate !== undefined && value > thresholds.errorRate, requests: total };
    }
  }
  return out;
}
