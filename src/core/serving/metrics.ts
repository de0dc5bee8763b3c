import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds: sub-millisecond CPU models up to slow ones. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export type Outcome = 'success' | 'client_error' | 'server_error';

/**
 * A deployment's Prometheus metrics (reference/prometheus.md), exposed at `/metrics` in the
 * text format by prom-client: requests by model, version, variant and outcome; latency and
 * queue time in seconds; rows per model run; requests in flight; what is loaded.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'mlops_serving_requests_total', help: 'Inference requests answered, by model, version, variant and outcome.',
    labelNames: ['model', 'version', 'variant', 'outcome'], registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'mlops_serving_request_duration_seconds', help: 'Time from request received to response sent, in seconds.',
    labelNames: ['model', 'version', 'variant'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  private readonly queue = new Histogram({
    name: 'mlops_serving_queue_duration_seconds', help: 'Time a request waited for its batch, in seconds.',
    labelNames: ['model', 'version'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  private readonly batch = new Histogram({
    name: 'mlops_serving_batch_size', help: 'Rows per model run (dynamic batching merges requests).',
    labelNames: ['model', 'version'], buckets: BATCH_BUCKETS, registers: [this.registry],
  });
  readonly inFlight = new Gauge({ name: 'mlops_serving_inflight_requests', help: 'Inference requests being served now.', registers: [this.registry] });
  private readonly info = new Gauge({
    name: 'mlops_serving_model_info', help: 'Model versions loaded by this deployment (1), by variant.',
    labelNames: ['deployment', 'model', 'version', 'variant'], registers: [this.registry],
  });

  constructor(readonly deployment: string) {
    // Only the process figures a deployment needs: prom-client's default set names gauges `_total`, which promtool flags.
    new Gauge({
      name: 'mlops_serving_resident_memory_bytes', help: 'Resident memory of the server process, in bytes.', registers: [this.registry],
      collect() { this.set(process.memoryUsage.rss()); },
    });
    new Gauge({ name: 'mlops_serving_start_time_seconds', help: 'When the server process started, in seconds since the epoch.', registers: [this.registry] })
      .set(Math.round(Date.now() / 1000 - process.uptime()));
  }

  request(model: string, version: string, variant: string, outcome: Outcome, seconds?: number): void {
    this.requests.inc({ model, version, variant, outcome });
    if (seconds !== undefined) this.latency.observe({ model, version, variant }, seconds);
  }

  queued(model: string, version: string, seconds: number): void {
    this.queue.observe({ model, version }, seconds);
  }

  ran(model: string, version: string, rows: number): void {
    this.batch.observe({ model, version }, rows);
  }

  /** What is loaded now, replacing what was. */
  loaded(variants: { model: string; version: string; variant: string }[]): void {
    this.info.reset();
    for (const v of variants) this.info.set({ deployment: this.deployment, ...v }, 1);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
