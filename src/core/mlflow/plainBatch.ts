import { isUtf8 } from 'node:buffer';
import { isPlainMlflowMetric, type PlainMlflowMetric } from '../tracking/events';
import { summariseMetrics, type MetricPointsSummary } from '../tracking/ingest';
import { checkedRequest } from './batchAsReceived';
import { isValidMetricKey, LIMITS } from './validation';

/**
 * A log-batch body read and checked off the endpoint's main thread (batchWorker.ts): the common
 * request, plain metrics only (isPlainMlflowMetric) with valid keys and nothing else to log,
 * summarised per key. Anything else is left to the main thread, which reads the body itself and
 * answers errors, so every error keeps MLflow's exact message.
 */
export interface PlainBatch {
  /** The request's `run_id` and `run_uuid` as sent: the main thread checks them. */
  runId: unknown;
  runUuid: unknown;
  summaries: MetricPointsSummary[];
  /** What the `mlflow_metrics` line stores: the metrics rebuilt from their checked fields (checkedRequest). */
  request: string;
}

/** The body's plain batch, or undefined when it is anything else (malformed too). */
export function readPlainBatch(body: Buffer): PlainBatch | undefined {
  if (!isUtf8(body)) return undefined;
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return undefined;
  const { metrics, params, tags, run_id: runId, run_uuid: runUuid } = request as Record<string, unknown>;
  if (!Array.isArray(metrics) || metrics.length === 0 || metrics.length > LIMITS.batchMetrics) return undefined;
  if (!isNothing(params) || !isNothing(tags)) return undefined;
  for (const m of metrics) {
    if (!isPlainMlflowMetric(m) || !isValidMetricKey(m.key)) return undefined;
  }
  const plain = metrics as PlainMlflowMetric[];
  const summaries = summariseMetrics({ type: 'mlflow_metrics', time: 0, request: { metrics: plain } });
  return { runId, runUuid, summaries, request: checkedRequest(plain) };
}

function isNothing(list: unknown): boolean {
  return list === undefined || list === null || (Array.isArray(list) && list.length === 0);
}
