import { ConfigError, readConfigDocument } from '../workspace/config';
import { DRIFT_TESTS, type DriftTestName } from '../validation/statistics';
import type { ColumnTest } from './drift';
import { durationMs } from './duration';

export { durationMs };

/** Serving objectives a check judges: p99 latency and the share of failed requests. */
export interface ServingThresholds {
  p99Ms?: number;
  errorRate?: number;
}

/** `monitoring:` in mlops.yaml. */
export interface MonitoringConfig {
  /** A window of a deployment's prediction log: rows ("5000") or a duration ("6h"). */
  window?: string;
  driftShare?: number;
  columnTests: Record<string, ColumnTest>;
  /** How often the editor checks each running deployment ("15m"); none: only by hand. */
  schedule?: string;
  /** The reference data: one source for every deployment, or per deployment; else the deployed version's training snapshot. */
  reference?: string | Record<string, string>;
  thresholds: ServingThresholds;
  /** Where alerts are POSTed as JSON. */
  webhook?: string;
}

/** "ks", "psi:0.2": a test name and an optional threshold; a clear error naming the tests otherwise. */
export function parseColumnTest(text: string, where: string): ColumnTest {
  const [name, threshold] = text.trim().split(':');
  if (!DRIFT_TESTS.includes(name as DriftTestName)) throw new ConfigError(`${where}: unknown test "${name}"; use one of ${DRIFT_TESTS.join(', ')} (optionally with a threshold, e.g. psi:0.2).`);
  if (threshold === undefined) return { test: name as DriftTestName };
  const t = Number(threshold);
  if (!(t > 0) || !Number.isFinite(t)) throw new ConfigError(`${where}: the threshold "${threshold}" is not a number > 0.`);
  return { test: name as DriftTestName, threshold: t };
}

function positive(value: unknown, where: string, example: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new ConfigError(`${where} is a number > 0, e.g. ${example}.`);
  return value;
}

function readReference(value: unknown, file: string): MonitoringConfig['reference'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim()) return value.trim();
  const ok = typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every((v) => typeof v === 'string' && v.trim());
  if (!ok) throw new ConfigError(`${file}: monitoring.reference is a file, folder or snapshot (data/train.csv), or one per deployment, e.g.\n  reference:\n    cancer: data/train.csv`);
  return Object.fromEntries(Object.entries(value as Record<string, string>).map(([k, v]) => [k, v.trim()]));
}

/**
 * monitoring:
 *   window: 10000            # rows of the prediction log, or 30m / 6h / 7d
 *   schedule: 15m            # how often the editor checks running deployments
 *   reference: data/train.csv  # default: the deployed version's training snapshot
 *   drift_share: 0.5
 *   thresholds: {p99_ms: 200, error_rate: 0.01}
 *   webhook: https://hooks.example.com/mlops
 *   column_tests:
 *     age: psi
 *     income: ks:0.01
 */
export function readMonitoringConfig(root: string): MonitoringConfig {
  const { file, doc } = readConfigDocument(root);
  const m = doc.monitoring;
  if (m === undefined || m === null) return { columnTests: {}, thresholds: {} };
  if (typeof m !== 'object' || Array.isArray(m)) throw new ConfigError(`${file}: "monitoring" must be a mapping, e.g.\nmonitoring:\n  window: 10000\n  column_tests:\n    age: psi`);
  const { window, drift_share: share, column_tests: tests, schedule, reference, thresholds, webhook } = m as Record<string, unknown>;
  if (window !== undefined && typeof window !== 'string' && typeof window !== 'number') throw new ConfigError(`${file}: monitoring.window is a row count or a duration (30m, 6h, 7d).`);
  if (share !== undefined && !(typeof share === 'number' && share > 0 && share <= 1)) throw new ConfigError(`${file}: monitoring.drift_share is a number in (0, 1], e.g. 0.5.`);
  if (tests !== undefined && (typeof tests !== 'object' || tests === null || Array.isArray(tests))) throw new ConfigError(`${file}: monitoring.column_tests maps a column to a test, e.g. "age: psi".`);
  if (schedule !== undefined && (typeof schedule !== 'string' || durationMs(schedule) === undefined)) throw new ConfigError(`${file}: monitoring.schedule is a duration between checks: 30s, 15m, 6h or 1d.`);
  if (thresholds !== undefined && (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds))) throw new ConfigError(`${file}: monitoring.thresholds is a mapping, e.g. "thresholds: {p99_ms: 200, error_rate: 0.01}".`);
  const t = (thresholds ?? {}) as Record<string, unknown>;
  const p99Ms = positive(t.p99_ms, `${file}: monitoring.thresholds.p99_ms`, '200 (milliseconds)');
  const errorRate = positive(t.error_rate, `${file}: monitoring.thresholds.error_rate`, '0.01 (1% of requests)');
  if (errorRate !== undefined && errorRate > 1) throw new ConfigError(`${file}: monitoring.thresholds.error_rate is a share of requests in (0, 1], e.g. 0.01.`);
  if (webhook !== undefined && (typeof webhook !== 'string' || !/^https?:\/\/\S+$/.test(webhook))) throw new ConfigError(`${file}: monitoring.webhook is an http(s) URL alerts are POSTed to, e.g. https://hooks.example.com/mlops.`);
  const columnTests = Object.fromEntries(Object.entries((tests ?? {}) as Record<string, unknown>).map(([col, ct]) => [col, parseColumnTest(String(ct), `${file}: monitoring.column_tests.${col}`)]));
  const ref = readReference(reference, file);
  return {
    ...(window !== undefined ? { window: String(window) } : {}), ...(share !== undefined ? { driftShare: share as number } : {}), columnTests,
    ...(schedule !== undefined ? { schedule: schedule as string } : {}), ...(ref !== undefined ? { reference: ref } : {}),
    thresholds: { ...(p99Ms !== undefined ? { p99Ms } : {}), ...(errorRate !== undefined ? { errorRate } : {}) },
    ...(webhook !== undefined ? { webhook: webhook as string } : {}),
  };
}
