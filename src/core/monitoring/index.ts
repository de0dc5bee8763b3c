import type { SnapshotStore } from '../snapshots';
import { readMonitoringConfig, type MonitoringConfig } from './config';
import { sortLargeColumns } from './parallelSort';
import { computeDrift, type ColumnTest, type DriftReport } from './drift';
import { isDeploymentSource, startDriftSide } from './sources';

export { DriftError, type ColumnDrift, type DriftReport } from './drift';
export { parseColumnTest } from './config';

export interface DriftRequest {
  reference: string;
  current: string;
  /** Per-column tests on top of mlops.yaml's `monitoring.column_tests`. */
  columnTests?: Record<string, ColumnTest>;
  window?: string;
}

/**
 * Drift of `current` against `reference` in a workspace: each side a file, folder, snapshot
 * or `deployment:<name>` log window; tests and window from mlops.yaml unless given.
 */
export async function driftBetween(root: string, request: DriftRequest, snapshots?: () => Promise<SnapshotStore>): Promise<DriftReport> {
  const config: MonitoringConfig = readMonitoringConfig(root);
  const window = request.window ?? config.window;
  // A log's vector input is named after the table's columns, so a table side is opened first;
  // both are then read at once (a large log on a worker thread).
  const logFirst = isDeploymentSource(request.reference) && !isDeploymentSource(request.current);
  const first = await startDriftSide(logFirst ? request.current : request.reference, { root, window, snapshots });
  const second = await startDriftSide(logFirst ? request.reference : request.current, { root, window, snapshots, featureNames: first.columns });
  const sides = await Promise.all([first.done, second.done]);
  const [reference, current] = logFirst ? sides.reverse() : sides;
  await sortLargeColumns([reference, current]);
  return computeDrift(reference, current, {
    columnTests: { ...config.columnTests, ...request.columnTests },
    driftShare: config.driftShare,
    predictions: [...reference.predictions, ...current.predictions],
  });
}
export { checkDeployment, latestReport, latestVerdict, monitoringDir, readChecks, MonitoringError, type CheckOptions, type CheckResult, type ColumnVerdict, type MonitoringVerdict } from './monitor';
export { readMonitoringConfig, durationMs, type MonitoringConfig } from './config';
