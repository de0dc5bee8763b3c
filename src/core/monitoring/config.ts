import { ConfigError, readConfigDocument } from '../workspace/config';
import { DRIFT_TESTS, type DriftTestName } from '../validation/statistics';
import type { ColumnTest } from './drift';

/** `monitoring:` in mlops.yaml, as far as drift reads it. */
export interface MonitoringConfig {
  /** A window of a deployment's prediction log: rows ("5000") or a duration ("6h"). */
  window?: string;
  driftShare?: number;
  columnTests: Record<string, ColumnTest>;
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

/**
 * monitoring:
 *   window: 10000            # rows of the prediction log, or 30m / 6h / 7d
 *   drift_share: 0.5
 *   column_tests:
 *     age: psi
 *     income: ks:0.01
 */
export function readMonitoringConfig(root: string): MonitoringConfig {
  const { file, doc } = readConfigDocument(root);
  const m = doc.monitoring;
  if (m === undefined || m === null) return { columnTests: {} };
  if (typeof m !== 'object' || Array.isArray(m)) throw new ConfigError(`${file}: "monitoring" must be a mapping, e.g.\nmonitoring:\n  window: 10000\n  column_tests:\n    age: psi`);
  const { window, drift_share: share, column_tests: tests } = m as Record<string, unknown>;
  if (window !== undefined && typeof window !== 'string' && typeof window !== 'number') throw new ConfigError(`${file}: monitoring.window is a row count or a duration (30m, 6h, 7d).`);
  if (share !== undefined && !(typeof share === 'number' && share > 0 && share <= 1)) throw new ConfigError(`${file}: monitoring.drift_share is a number in (0, 1], e.g. 0.5.`);
  if (tests !== undefined && (typeof tests !== 'object' || tests === null || Array.isArray(tests))) throw new ConfigError(`${file}: monitoring.column_tests maps a column to a test, e.g. "age: psi".`);
  const columnTests = Object.fromEntries(Object.entries((tests ?? {}) as Record<string, unknown>).map(([col, t]) => [col, parseColumnTest(String(t), `${file}: monitoring.column_tests.${col}`)]));
  return { ...(window !== undefined ? { window: String(window) } : {}), ...(share !== undefined ? { driftShare: share as number } : {}), columnTests };
}
