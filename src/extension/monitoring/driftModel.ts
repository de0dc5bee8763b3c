// What the drift panel shows, built from the engine (no vscode here, so unit tests build it
// too): a deployment's latest check and its timeline, a model version's training data against
// the same path in the workspace now, or two snapshots.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { toWire } from '../../protocol/common';
import type { DriftData, DriftFeature, DriftSubject } from '../../protocol/drift';
import { formatNumber } from '../../core/format';
import { driftBetween, type DriftReport } from '../../core/monitoring';
import type { ColumnDrift } from '../../core/monitoring/drift';
import { checkDeployment, latestReport, latestVerdict, readChecks, runningUrl, severity, type CheckOptions } from '../../core/monitoring/monitor';
import { MonitoringError, runInputs } from '../../core/monitoring/reference';
import type { ModelRegistry } from '../../core/registry/registry';
import { readLiveStats, trafficSummary } from '../../core/serving/liveStats';
import type { SnapshotStore } from '../../core/snapshots';
import { MlopsLayout } from '../../core/workspace/layout';

/** Checks kept on the timeline: enough for weeks of 15-minute checks, small to send. */
const TIMELINE = 500;
/** The live figures are the traffic between two scrapes this far apart. */
const LIVE_INTERVAL_MS = 1000;

export interface DriftSources {
  root: string;
  snapshots: () => Promise<SnapshotStore>;
  registry: () => Promise<ModelRegistry>;
  /** For a new check of a deployment (the audit trail, the webhook setting). */
  checkOptions?: () => Promise<CheckOptions>;
}

function bins(c: ColumnDrift): string[] {
  const { edges, categories } = c.histogram;
  if (categories) return categories;
  return (edges ?? []).slice(0, -1).map((e, i) => `${formatNumber(e)}–${formatNumber(edges![i + 1])}`);
}

/** The report's columns as the panel's rows, most severe first. */
export function driftFeatures(report: DriftReport): DriftFeature[] {
  return report.columns.map((c): DriftFeature => ({
    column: c.column, role: c.role, kind: c.kind, test: c.test,
    // A report read back from JSON has null where the statistic was infinite (chi-square with a new category).
    statistic: toWire(c.statistic ?? Infinity), pValue: toWire(c.pValue), threshold: c.threshold, drift: c.drift,
    severity: severity({ ...c, statistic: c.statistic ?? Infinity }), missing: c.missing, ...(c.newCategories ? { newCategories: c.newCategories } : {}),
    bins: bins(c), reference: c.histogram.reference, current: c.histogram.current,
  })).sort((a, b) => b.severity - a.severity || a.column.localeCompare(b.column));
}

function fromReport(subject: DriftSubject, title: string, report: DriftReport, notices: string[] = []): DriftData {
  return {
    title, subject, reference: report.reference, current: report.current, dataset: report.dataset,
    ...(report.predictionDrift !== undefined ? { predictionDrift: report.predictionDrift } : {}),
    features: driftFeatures(report), timeline: [], reasons: [], notices: [
      ...notices,
      ...(report.onlyIn.reference.length ? [`Only in the reference, not compared: ${report.onlyIn.reference.join(', ')}`] : []),
      ...(report.onlyIn.current.length ? [`Only in the current data, not compared: ${report.onlyIn.current.join(', ')}`] : []),
    ],
  };
}

async function deploymentData(sources: DriftSources, deployment: string, check: boolean): Promise<DriftData> {
  const { root } = sources;
  let report = check ? undefined : latestReport(root, deployment);
  let verdict = check ? undefined : latestVerdict(root, deployment);
  if (!report || !verdict) {
    const result = await checkDeployment(root, deployment, { snapshots: await sources.snapshots(), ...(await sources.checkOptions?.()) });
    ({ report, verdict } = result);
  }
  const data = fromReport({ kind: 'deployment', deployment }, `Drift: ${deployment}`, report, verdict.current.skippedLines ? [`${verdict.current.skippedLines} unreadable lines of the prediction log were skipped.`] : []);
  data.timeline = readChecks(root, deployment, TIMELINE).map((v) => ({
    time: v.time, share: v.drift.share, drift: v.drift.drift, alert: v.alert,
    statistics: Object.fromEntries(v.columns.map((c) => [c.column, toWire(c.statistic === 'Infinity' ? Infinity : c.statistic)])),
  }));
  data.checkedAt = verdict.time;
  data.reasons = verdict.reasons;
  const { p99Ms, errorRate } = verdict.serving;
  const url = runningUrl(root, deployment);
  if (url) {
    const live = await readLiveStats(url, { intervalMs: LIVE_INTERVAL_MS }).catch(() => undefined);
    if (live) data.live = { summary: trafficSummary(live.stats), seconds: live.stats.seconds };
  }
  data.serving = {
    ...(p99Ms ? { p99Ms: { value: p99Ms.value, threshold: p99Ms.threshold, crossed: p99Ms.crossed } } : {}),
    ...(errorRate ? { errorRate: { value: errorRate.value, threshold: errorRate.threshold, crossed: errorRate.crossed, requests: errorRate.requests } } : {}),
  };
  return data;
}

/** A version's training data (its run's first data snapshot) against the same path in the workspace now. */
async function versionData(sources: DriftSources, model: string, version: number): Promise<DriftData> {
  const v = (await sources.registry()).version(model, version);
  const inputs = v.run_id ? runInputs(new MlopsLayout(sources.root), v.run_id) : [];
  const label = `${model} version ${version}`;
  if (!inputs.length) throw new MonitoringError(`${label} has no training data on record (its run recorded no data snapshot); compare two snapshots instead.`);
  const { snapshot, paths } = inputs[0];
  const inWorkspace = paths.find((p) => fs.existsSync(path.join(sources.root, p)));
  if (!inWorkspace) throw new MonitoringError(`${label} was trained on ${paths.join(', ')}, which the workspace no longer has; compare two snapshots instead.`);
  const report = await driftBetween(sources.root, { reference: `${snapshot}:${inWorkspace}`, current: inWorkspace }, sources.snapshots);
  return fromReport({ kind: 'version', model, version }, `Drift: ${label}`, report, [`Training data of ${label} (snapshot ${snapshot.slice(0, 10)}) against ${inWorkspace} in the workspace now.`]);
}

/** The panel's data for a subject; `check`: check a deployment again now instead of showing its latest check. */
export async function loadDriftData(sources: DriftSources, subject: DriftSubject, check = false): Promise<DriftData> {
  switch (subject.kind) {
    case 'deployment':
      return deploymentData(sources, subject.deployment, check);
    case 'version':
      return versionData(sources, subject.model, subject.version);
    case 'snapshots': {
      const report = await driftBetween(sources.root, { reference: subject.reference, current: subject.current }, sources.snapshots);
      return fromReport(subject, `Drift: ${subject.reference.slice(0, 10)} → ${subject.current.slice(0, 10)}`, report);
    }
  }
}
