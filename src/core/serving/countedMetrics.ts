import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;
/** A sample as prom-client's registry writes it: `metricName{labels} value`. */
type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/** One label set of a counter, counted in a plain number. */
export class CounterCell {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    this.value += by;
  }
}

/** One label set of a histogram: counts per bucket (not cumulative), their sum and count. */
export class HistogramCell {
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly labels: Labels, private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    // As prom-client's: a value goes into the first bucket whose bound it does not exceed.
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }

  /** The `_bucket`, `_sum` and `_count` samples, as prom-client's histogram writes them. */
  samples(name: string): Sample[] {
    let cumulative = 0;
    const out: Sample[] = this.bounds.map((le, i) => ({ labels: { le, ...this.labels }, value: (cumulative += this.counts[i]), metricName: `${name}_bucket` }));
    out.push({ labels: { le: '+Inf', ...this.labels }, value: this.count, metricName: `${name}_bucket` });
    out.push({ labels: this.labels, value: this.sum, metricName: `${name}_sum` }, { labels: this.labels, value: this.count, metricName: `${name}_count` });
    return out;
  }
}

/**
 * A counter or histogram family for the request path: the server looks a label set's cell up
 * once and counts into it, where prom-client's own metrics validate and hash the labels on
 * every call. Registered in a prom-client registry, which writes it out at scrape time (its
 * escaping and format) beside prom-client's own metrics.
 */
export class CountedFamily<Cell extends CounterCell | HistogramCell> {
  private readonly cells = new Map<string, Cell>();
  readonly aggregator = 'sum';

  private constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'histogram', private readonly make: (labels: Labels) => Cell, registry: Registry) {
    // prom-client's registry reads any metric through name, help, type and get(); its types list only its own classes.
    registry.registerMetric(this as unknown as Metric);
  }

  static counter(name: string, help: string, registry: Registry): CountedFamily<CounterCell> {
    return new CountedFamily(name, help, 'counter', (labels) => new CounterCell(labels), registry);
  }

  static histogram(name: string, help: string, buckets: readonly number[], registry: Registry): CountedFamily<HistogramCell> {
    return new CountedFamily(name, help, 'histogram', (labels) => new HistogramCell(labels, buckets), registry);
  }

  /** The cell of a label set (label values in a fixed order of names), made on first use. */
  cell(labels: Labels): Cell {
    const key = JSON.stringify(Object.values(labels));
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = this.make(labels)));
    return cell;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const cells = [...this.cells.values()];
    const values = cells.flatMap((c): Sample[] => (c instanceof HistogramCell ? c.samples(this.name) : [{ labels: c.labels, value: c.value }]));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.cells.clear();
  }
}
