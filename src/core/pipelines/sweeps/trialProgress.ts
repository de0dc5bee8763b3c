// A trial's objective as it trains, read from the tail of its run's event log
// (whoever writes it: the Python client, MLflow code, a remote run streaming back),
// so early stopping sees each new point without going through the index.

import * as fs from 'node:fs';
import { decodeMetricValue } from '../../tracking/events';
import type { Progress } from './earlyStopping';

export class TrialProgress {
  readonly points: Progress[] = [];
  /** The last value logged (in the metric's own direction). */
  last: number | undefined;
  private offset = 0;
  private partial = '';

  /** `sign` turns the metric into a loss: -1 when it is maximised. */
  constructor(private readonly file: string, private readonly metric: string, private readonly sign: 1 | -1) {}

  /** Reads what was appended since the last call. */
  update(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return;
      const buffer = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const text = this.partial + buffer.toString('utf8');
      const end = text.lastIndexOf('\n');
      this.partial = text.slice(end + 1);
      for (const line of text.slice(0, end + 1).split('\n')) if (line) this.read(line);
    } finally {
      fs.closeSync(fd);
    }
  }

  private read(line: string): void {
    let e: { type?: string; key?: string; value?: unknown; step?: number; points?: unknown[]; request?: { metrics?: { key: string; value: unknown; step?: number | null }[] } };
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    if (e.type === 'metric' && e.key === this.metric) this.add(e.value, e.step);
    else if (e.type === 'metrics' && Array.isArray(e.points)) {
      for (const p of e.points) if (Array.isArray(p) && p[0] === this.metric) this.add(p[1], p[2] as number);
    } else if (e.type === 'mlflow_metrics' && Array.isArray(e.request?.metrics)) {
      for (const m of e.request!.metrics!) if (m?.key === this.metric) this.add(m.value, m.step ?? 0);
    }
  }

  private add(raw: unknown, step: number | undefined): void {
    const value = decodeMetricValue(raw);
    if (value === undefined || !Number.isFinite(value)) return;
    this.last = value;
    const s = typeof step === 'number' ? step : this.points.length;
    const loss = this.sign * value;
    // Steps logged out of order keep the curve sorted.
    let i = this.points.length;
    while (i > 0 && this.points[i - 1].step > s) i--;
    this.points.splice(i, 0, { step: s, loss });
  }
}
