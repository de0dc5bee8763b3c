import { Gauge, Registry } from 'prom-client';
import { CountedFamily, type CounterCell, type HistogramCell } from './countedMetrics';

/** Latency buckets in seconds: sub-millisecond CPU models up to slow ones. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export type Outcome = 'success' | 'client_error' | 'server_error';

/** The labels a served model version is counted under. */
export interface VariantLabels {
  model: string;
  version: string;
  variant: string;
}

/** One served model version's figures, counted on the request path without building or hashing labels. */
export class VariantFigures {
  private readonly outcomes = new Map<Outcome, CounterCell>();
  private readonly latency: HistogramCell;
  private readonly queue: HistogramCell;
  private readonly batch: HistogramCell;

  constructor(private readonly labels: VariantLabels, private readonly families: ServingMetrics['families']) {
    const { model, version, variant } = labels;
    this.latency = families.latency.cell({ model, version, variant });
    this.queue = families.queue.cell({ model, version });
    this.batch = families.batch.cell({ model, version });
  }

  request(outcome: Outcome, seconds: number): void {
    let cell = this.outcomes.get(outcome);
    if (!cell) {
      const { model, version, variant } = this.labels;
      this.outcomes.set(outcome, (cell = this.families.requests.cell({ model, version, variant, outcome })));
    }
    cell.inc();
    this.latency.observe(seconds);
  }

  queued(seconds: number): void {
    this.queue.observe(seconds);
  }

  ran(rows: number): void {
    this.batch.observe(rows);
  }
}

/**
 * A deployment's Prometheus metrics (reference/prometheus.md), exposed at `/metrics` in the
 * text format by prom-client: requests by model, version, variant and outcome; latency and
 * queue time in seconds; rows per model run; requests in flight; what is loaded.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  /** The per-request families: counted in plain numbers, written out by the registry (countedMetrics.ts). */
  readonly families = {
    requests: CountedFamily.counter('mlops_serving_requests_total', 'Inference requests answered, by model, version, variant and outcome.', this.registry),
    latency: CountedFamily.histogram('mlops_serving_request_duration_seconds', 'Time from request received to response sent, in seconds.', LATENCY_BUCKETS, this.registry),
    queue: CountedFamily.histogram('mlops_serving_queue_duration_seconds', 'Time a request waited for its batch, in seconds.', LATENCY_BUCKETS, this.registry),
    batch: CountedFamily.histogram('mlops_serving_batch_size', 'Rows per model run (dynamic batching merges requests).', BATCH_BUCKETS, this.registry),
  };
  readonly inFlight = new Gauge({ name: 'mlops_serving_inflight_requests', help: 'Inference requests being served now.', registers: [this.registry] });
  private readonly info = new Gauge({
    name: 'mlops_serving_model_info', help: 'Model versions loaded by this deployment (1), by variant.',
    labelNames: ['deployment', 'model', 'version', 'variant'], registers: [this.registry],
  });
  private readonly figures = new WeakMap<VariantLabels, VariantFigures>();

  constructor(readonly deployment: string) {
    // Only the process figures a deployment needs: prom-client's default set names gauges `_total`, which promtool flags.
    new Gauge({
      name: 'mlops_serving_resident_memory_bytes', help: 'Resident memory of the server process, in bytes.', registers: [this.registry],
      collect() { this.set(process.memoryUsage.rss()); },
    });
    new Gauge({ name: 'mlops_serving_start_time_seconds', help: 'When the server process started, in seconds since the epoch.', registers: [this.registry] })
      .set(Math.round(Date.now() / 1000 - process.uptime()));
  }

  /** The figures of a served variant (its spec: looked up by identity, so a request pays no lookup by name). */
  of(variant: VariantLabels): VariantFigures {
    let f = this.figures.get(variant);
    if (!f) this.figures.set(variant, (f = new VariantFigures(variant, this.families)));
    return f;
  }

  /** What is loaded now, replacing what was. */
  loaded(variants: VariantLabels[]): void {
    this.info.reset();
    for (const v of variants) this.info.set({ deployment: this.deployment, model: v.model, version: v.version, variant: v.variant }, 1);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
