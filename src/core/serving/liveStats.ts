import { parsePromText } from './promText';

/** One variant's cumulative figures in one scrape of a deployment's `/metrics`. */
interface VariantCounters {
  model: string;
  version: string;
  variant: string;
  /** Requests by outcome (success, client_error, server_error). */
  outcomes: Record<string, number>;
  /** Latency histogram: cumulative counts by upper bound in seconds, ascending, +Inf last. */
  buckets: [number, number][];
}

/** One scrape of a deployment's `/metrics`: keep it and hand it to the next readLiveStats. */
export interface MetricsScrape {
  /** ms since the epoch. */
  time: number;
  /** By `model/version/variant`. */
  series: Record<string, VariantCounters>;
}

/** What a deployment (or one variant) served between two scrapes. */
export interface TrafficStats {
  requests: number;
  /** Requests per second. */
  rps: number;
  /** Answers that were not a success (4xx and 5xx), over all requests; undefined with no request. */
  errorRate: number | undefined;
  /** 5xx answers: the server's own failures. */
  serverErrors: number;
  /** Latency quantiles in ms, interpolated in the histogram's buckets; undefined with no request. */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}

export interface VariantStats extends TrafficStats {
  model: string;
  version: string;
  /** "primary", "a", "b", or "shadow". */
  variant: string;
}

/** A deployment's live figures: its clients' traffic (shadow copies left out), and each variant's. */
export interface LiveStats extends TrafficStats {
  /** Seconds between the two scrapes. */
  seconds: number;
  variants: VariantStats[];
}

const REQUESTS = 'mlops_serving_requests_total';
const LATENCY = 'mlops_serving_request_duration_seconds_bucket';

/** A scrape from the text of `/metrics`. */
export function parseScrape(text: string, time = Date.now()): MetricsScrape {
  const series: Record<string, VariantCounters> = {};
  const of = (l: Record<string, string>) => {
    const key = `${l.model}/${l.version}/${l.variant}`;
    return (series[key] ??= { model: l.model ?? '', version: l.version ?? '', variant: l.variant ?? '', outcomes: {}, buckets: [] });
  };
  for (const s of parsePromText(text, 'mlops_serving_request')) {
    if (s.name === REQUESTS) of(s.labels).outcomes[s.labels.outcome ?? ''] = s.value;
    else if (s.name === LATENCY) of(s.labels).buckets.push([Number(s.labels.le === '+Inf' ? Infinity : s.labels.le), s.value]);
  }
  for (const v of Object.values(series)) v.buckets.sort((a, b) => a[0] - b[0]);
  return { time, series };
}

/** Growth of a counter; a smaller value means the server restarted and counted from 0 again. */
const grew = (before: number | undefined, after: number) => (before === undefined || after < before ? after : after - before);

/** The q-quantile of bucket counts (not cumulative) with upper bounds `les`, as Prometheus's histogram_quantile does it. */
function quantile(q: number, les: number[], counts: number[]): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < les.length; i++) {
    if (below + counts[i] >= rank && counts[i] > 0) {
      // Past the last finite bound nothing is known but that it is slower: report that bound.
      if (!Number.isFinite(les[i])) return les[i - 1] ?? undefined;
      const lower = i === 0 ? 0 : les[i - 1];
      return lower + (les[i] - lower) * ((rank - below) / counts[i]);
    }
    below += counts[i];
  }
  return les[les.length - 2];
}

/** Traffic of some series between two scrapes: their counters and bucket counts summed. */
function traffic(pairs: [VariantCounters | undefined, VariantCounters][], seconds: number): TrafficStats {
  let requests = 0, failed = 0, serverErrors = 0;
  const perBucket = new Map<number, number>();
  for (const [before, after] of pairs) {
    for (const [outcome, n] of Object.entries(after.outcomes)) {
      const d = grew(before?.outcomes[outcome], n);
      requests += d;
      if (outcome !== 'success') failed += d;
      if (outcome === 'server_error') serverErrors += d;
    }
    // Cumulative counts grown since `before` (all of them after a restart), then per bucket.
    const was = new Map(before?.buckets);
    const restarted = (after.buckets.at(-1)?.[1] ?? 0) < (was.get(Infinity) ?? 0);
    let below = 0;
    for (const [le, n] of after.buckets) {
      const cumulative = n - (restarted ? 0 : (was.get(le) ?? 0));
      perBucket.set(le, (perBucket.get(le) ?? 0) + cumulative - below);
      below = cumulative;
    }
  }
  const les = [...perBucket.keys()].sort((a, b) => a - b);
  const counts = les.map((le) => Math.max(0, perBucket.get(le)!));
  const ms = (s: number | undefined) => (s === undefined ? undefined : s * 1000);
  return {
    requests, rps: seconds > 0 ? requests / seconds : 0, errorRate: requests ? failed / requests : undefined, serverErrors,
    p50Ms: ms(quantile(0.5, les, counts)), p99Ms: ms(quantile(0.99, les, counts)),
  };
}

/** What happened between two scrapes of one deployment. */
export function liveStats(before: MetricsScrape, after: MetricsScrape): LiveStats {
  const seconds = Math.max(0, (after.time - before.time) / 1000);
  const entries = Object.entries(after.series);
  const pair = ([key, a]: [string, VariantCounters]): [VariantCounters | undefined, VariantCounters] => [before.series[key], a];
  // Shadow answers are copies of requests already counted: they are their variant's figures, not the deployment's traffic.
  const served = entries.filter(([, a]) => a.variant !== 'shadow').map(pair);
  const variants = entries
    .map((e) => ({ model: e[1].model, version: e[1].version, variant: e[1].variant, ...traffic([pair(e)], seconds) }))
    .sort((a, b) => a.variant.localeCompare(b.variant) || a.version.localeCompare(b.version));
  return { seconds, ...traffic(served, seconds), variants };
}

export interface ReadLiveStatsOptions {
  /** The scrape the last call returned; without it, this call scrapes twice, `intervalMs` apart. */
  previous?: MetricsScrape;
  /** Wait between the two scrapes of a first call (default 2000 ms). */
  intervalMs?: number;
  /** Gives up on a server that does not answer (default 3000 ms). */
  timeoutMs?: number;
}

/** Scrapes a deployment's `/metrics` (open, like the health routes: no token needed). */
export async function scrapeMetrics(url: string, timeoutMs = 3000): Promise<MetricsScrape> {
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`Could not read ${url}/metrics: ${(err as Error).message}. Is the deployment running?`);
  }
  if (!res.ok) throw new Error(`${url}/metrics answered ${res.status}; is this a deployment's URL?`);
  return parseScrape(await res.text());
}

/**
 * A deployment's live req/s, p50/p99 latency and error rate, from two scrapes of its own
 * `/metrics`: the one passed as `previous` (or one taken now, then `intervalMs` later) and a
 * fresh one. Returns the fresh scrape too, for the next call.
 */
export async function readLiveStats(url: string, options: ReadLiveStatsOptions = {}): Promise<{ stats: LiveStats; scrape: MetricsScrape }> {
  let before = options.previous;
  if (!before) {
    before = await scrapeMetrics(url, options.timeoutMs);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 2000));
  }
  const scrape = await scrapeMetrics(url, options.timeoutMs);
  return { stats: liveStats(before, scrape), scrape };
}

/** The figures as one line: "12.5 req/s · p50 1.2 ms · p99 4.0 ms · 0.8% errors". */
export function trafficSummary(s: TrafficStats): string {
  const ms = (v: number | undefined) => (v === undefined ? '–' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
  const rps = s.rps < 10 ? s.rps.toFixed(1) : String(Math.round(s.rps));
  if (!s.requests) return `${rps} req/s`;
  return `${rps} req/s · p50 ${ms(s.p50Ms)} ms · p99 ${ms(s.p99Ms)} ms · ${((s.errorRate ?? 0) * 100).toFixed(1)}% errors`;
}
