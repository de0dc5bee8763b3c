import type { PlainMlflowMetric } from '../tracking/events';

/**
 * A log-batch of plain metrics (isPlainMlflowMetric) is stored as an `mlflow_metrics` line
 * (docs/event-log.md) instead of being rewritten as a `metrics` line. Its `request` is
 * rebuilt from the fields that were checked (key, value, timestamp, step), never copied from
 * the body: anything else a client sent (an unknown field, a 100,000-deep object, a duplicate
 * key) would otherwise be stored too, and make the log unreadable to other JSON readers.
 * Built where the batch was checked, on the batch reader thread for large bodies.
 */
export function checkedRequest(metrics: PlainMlflowMetric[]): string {
  const entries = new Array<string>(metrics.length);
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i];
    const step = m.step === undefined || m.step === null ? '' : `,"step":${m.step}`;
    // JSON.stringify(-0) is "0": keep the sign the client sent.
    entries[i] = `{"key":${JSON.stringify(m.key)},"value":${Object.is(m.value, -0) ? '-0' : m.value},"timestamp":${m.timestamp}${step}}`;
  }
  return `{"metrics":[${entries.join(',')}]}`;
}

const CLOSE = Buffer.from('}\n');

/** The line, as buffers to write in one go. */
export function mlflowMetricsLine(time: number, request: string): Buffer[] {
  return [Buffer.from(`{"type":"mlflow_metrics","time":${time},"request":`), Buffer.from(request), CLOSE];
}
