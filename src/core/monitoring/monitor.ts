import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditLog } from '../governance/audit';
import { ModelRegistry } from '../registry/registry';
import { DeploymentLog } from '../serving/deploymentLog';
import { scrapeMetrics, type MetricsScrape } from '../serving/liveStats';
import { readStatus } from '../serving/supervisor';
import { SnapshotStore } from '../snapshots';
import { appendRecord } from '../workspace/appendLog';
import { writeFileAtomic } from '../workspace/atomicFile';
import { MlopsLayout } from '../workspace/layout';
import { isProcessAlive } from '../workspace/processes';
import { raiseAlert, type AlertDelivery } from './alerts';
import { readMonitoringConfig, type MonitoringConfig } from './config';
import { computeDrift, type ColumnDrift, type DriftReport } from './drift';
import { sortLargeColumns } from './parallelSort';
import { parseWindow } from './predictionWindow';
import { chooseReference, MonitoringError } from './reference';
import { linesFromEnd } from './linesFromEnd';
import { judgeServing, type ServingReadings } from './servingObjectives';
import { DEFAULT_WINDOW, startDriftSide } from './sources';
import { readWindow } from './windowThread';
import type { ColumnVerdict, MonitoringVerdict } from './verdict';

export { MonitoringError } from './reference';
export type { ColumnVerdict, MonitoringVerdict } from './verdict';

export interface CheckOptions {
  /** Reference source (file, folder, snapshot); default: monitoring.reference, else the served version's training snapshot. */
  reference?: string;
  /** Rows or a duration of the prediction log; default monitoring.window, else 10000 rows. */
  window?: string;
  /** Where alerts are POSTed, when mlops.yaml names none (the editor's setting). */
  webhook?: string;
  snapshots?: SnapshotStore;
  audit?: AuditLog;
  /** Ask the running server for its request counters (the error rate); default true. */
  live?: boolean;
}

export interface CheckResult {
  verdict: MonitoringVerdict;
  /** The full drift report (histograms per column), also kept as latest-report.json. */
  report: DriftReport;
  /** What telling people about a raised alert did (audit, webhook). */
  delivery?: AlertDelivery;
}

/** `.mlops/monitoring/<deployment>/`: checks.jsonl and the latest report. */
export function monitoringDir(root: string, deployment: string): string {
  return path.join(new MlopsLayout(root).dir, 'monitoring', deployment);
}

const P_FLOOR = 1e-300;
const MAX_SEVERITY = 1e6;

/** ≥ 1 when drifted: statistic / threshold for distances; log p / log threshold for tests with a p-value. */
export function severity(c: Pick<ColumnDrift, 'statistic' | 'pValue' | 'threshold'>): number {
  const s = c.pValue !== undefined ? Math.log(Math.max(c.pValue, P_FLOOR)) / Math.log(c.threshold) : c.statistic / c.threshold;
  return Number.isFinite(s) ? Math.min(Math.max(s, 0), MAX_SEVERITY) : MAX_SEVERITY;
}

function columnVerdict(c: ColumnDrift): ColumnVerdict {
  return {
    column: c.column, role: c.role, test: c.test, statistic: Number.isFinite(c.statistic) ? c.statistic : 'Infinity',
    ...(c.pValue !== undefined ? { pValue: c.pValue } : {}), threshold: c.threshold, drift: c.drift, severity: severity(c),
  };
}

function percent(v: number): string {
  return `${(v * 100).toFixed(v < 0.01 ? 2 : 0)}%`;
}

/** The reasons to alert, in the user's words. */
function reasonsOf(report: DriftReport, serving: ServingReadings): string[] {
  const out: string[] = [];
  const d = report.dataset;
  if (d.drift) {
    const names = report.columns.filter((c) => c.role === 'feature' && c.drift).map((c) => c.column);
    out.push(`data drift: ${d.drifted} of ${d.features} features drifted (${percent(d.share)} ≥ ${percent(d.threshold)}): ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`);
  }
  if (report.predictionDrift) out.push(`prediction drift: ${report.columns.filter((c) => c.role === 'prediction' && c.drift).map((c) => c.column).join(', ')}`);
  const { p99Ms, errorRate } = serving;
  if (p99Ms?.crossed) out.push(`p99 latency ${p99Ms.value.toFixed(1)} ms > ${p99Ms.threshold} ms`);
  if (errorRate?.crossed) out.push(`error rate ${percent(errorRate.value)} > ${percent(errorRate.threshold!)} (${Math.round(errorRate.value * errorRate.requests)} of ${errorRate.requests} requests failed)`);
  return out;
}

/** The kind of each reason ("data drift", "p99 latency"…): a new alert is one whose kinds differ from the last check's. */
function kinds(reasons: string[]): string {
  return reasons.map((r) => r.split(/[:\d]/)[0].trim()).sort().join('|');
}

/** The URL of a deployment's server when it runs (its status file says so and its process lives). */
export function runningUrl(root: string, deployment: string): string | undefined {
  const status = readStatus(path.join(new MlopsLayout(root).dir, 'serving', deployment));
  return status?.url && status.state === 'running' && status.pid && isProcessAlive(status.pid) ? status.url : undefined;
}

/** The running server's counters from its /metrics; undefined when it is not running or does not answer. */
async function liveScrape(root: string, deployment: string): Promise<MetricsScrape | undefined> {
  const url = runningUrl(root, deployment);
  return url ? scrapeMetrics(url, 5000).catch(() => undefined) : undefined;
}

/**
 * Checks one deployment: drift of a window of its prediction log against the reference
 * (monitoring.reference, else the served version's training snapshot from its lineage), its
 * p99 latency over the window and its error rate since the last check against
 * `monitoring.thresholds`. The verdict is appended to checks.jsonl and the report kept as
 * latest-report.json; an alert this check raised goes to the audit trail and the webhook.
 */
export async function checkDeployment(root: string, deployment: string, options: CheckOptions = {}): Promise<CheckResult> {
  const layout = new MlopsLayout(root);
  const config: MonitoringConfig = readMonitoringConfig(root);
  const spec = new DeploymentLog(layout).fold().get(deployment);
  if (!spec) throw new MonitoringError(`No deployment is named "${deployment}". List them with: mlops deployments list`);
  let snapshots = options.snapshots;
  const openSnapshots = async () => (snapshots ??= await SnapshotStore.open(layout));
  const audit = options.audit ?? new AuditLog(layout);
  const choice = chooseReference(deployment, spec.target, config, layout, new ModelRegistry(layout, await openSnapshots(), audit), options.reference);
  const windowText = options.window ?? config.window ?? DEFAULT_WINDOW;
  const window = parseWindow(windowText);
  // The window (a large one on a worker thread) is read while the reference is (kept between checks).
  const opening = await startDriftSide(choice.source, { root, snapshots: openSnapshots, cache: layout });
  const [reference, current] = await Promise.all([opening.done, readWindow(path.join(layout.dir, 'serving', deployment), `deployment ${deployment}`, { window, featureNames: opening.columns })]);
  await sortLargeColumns([reference, current]);
  const report = computeDrift(reference, current, { columnTests: config.columnTests, driftShare: config.driftShare, predictions: [...reference.predictions, ...current.predictions] });
  const previous = latestVerdict(root, deployment);
  const scrape = options.live === false ? undefined : await liveScrape(root, deployment);
  const serving = judgeServing(current.latencies, scrape, previous?.serving.scrape, config.thresholds);
  const reasons = reasonsOf(report, serving);
  const alert = reasons.length > 0;
  const verdict: MonitoringVerdict = {
    deployment, time: Date.now(), target: spec.target,
    reference: { source: choice.source, label: reference.label, rows: reference.rows, from: choice.from },
    current: { label: current.label, rows: current.rows, window: windowText, ...(current.from !== undefined ? { from: current.from, to: current.to } : {}), skippedLines: current.skippedLines },
    drift: { ...report.dataset, ...(report.predictionDrift !== undefined ? { predictionDrift: report.predictionDrift } : {}) },
    columns: report.columns.map(columnVerdict),
    serving, alert, reasons,
    raised: alert && (!previous?.alert || kinds(previous.reasons) !== kinds(reasons)),
  };
  const dir = monitoringDir(root, deployment);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'latest-report.json'), JSON.stringify(report));
  appendRecord(path.join(dir, 'checks.jsonl'), JSON.stringify(verdict) + '\n');
  const delivery = verdict.raised ? await raiseAlert(verdict, { audit, webhook: config.webhook ?? options.webhook }) : undefined;
  return { verdict, report, ...(delivery ? { delivery } : {}) };
}

/** A deployment's checks, oldest first: the last `limit` of them, read from the file's end; unreadable lines skipped. */
export function readChecks(root: string, deployment: string, limit = Infinity): MonitoringVerdict[] {
  const file = path.join(monitoringDir(root, deployment), 'checks.jsonl');
  if (!fs.existsSync(file)) return [];
  const out: MonitoringVerdict[] = [];
  for (const [buf, start, end] of linesFromEnd(file)) {
    if (out.length >= limit) break;
    try {
      const v = JSON.parse(buf.toString('utf8', start, end)) as MonitoringVerdict;
      if (v && typeof v === 'object' && typeof v.time === 'number' && Array.isArray(v.columns)) out.push(v);
    } catch {
      // a torn last line: the next append moves it aside
    }
  }
  return out.reverse();
}

/** The latest check of a deployment, if any. */
export function latestVerdict(root: string, deployment: string): MonitoringVerdict | undefined {
  return readChecks(root, deployment, 1)[0];
}

/** The full report of the latest check (histograms per column), if any. */
export function latestReport(root: string, deployment: string): DriftReport | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(monitoringDir(root, deployment), 'latest-report.json'), 'utf8')) as DriftReport;
  } catch {
    return undefined;
  }
}
