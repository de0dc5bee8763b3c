import * as fs from 'node:fs';
import { writeModelCard } from '../governance/modelCard';
import { driftBetween, latestReport, readChecks, readMonitoringConfig, type DriftReport } from '../monitoring';
import { chooseReference } from '../monitoring/reference';
import { readLoops, type LoopSummary } from '../pipelines/loopRun';
import type { Project } from '../project';
import type { ModelVersion } from '../registry/registry';
import { downsampleHistory } from '../tracking/downsample';
import type { RunDetail } from '../tracking/store';
import type { ValidationReport } from '../validation/modelValidation';
import type { LineSeries } from './svg';

/** Runs side by side: their params that differ, their latest metrics, and each shared metric's curves. */
export interface RunsComparison {
  runs: Pick<RunDetail, 'id' | 'name' | 'experiment' | 'status' | 'start_time' | 'end_time'>[];
  params: { key: string; values: (string | undefined)[] }[];
  metrics: { key: string; values: (number | undefined)[] }[];
  curves: { key: string; series: LineSeries[] }[];
}

/** Everything a report shows; each part may be absent (or an error saying why it could not be made). */
export interface ReportData {
  title: string;
  generated: number;
  /** What it covers, in words. */
  covers: string[];
  runs?: RunsComparison;
  cards: { model: string; version: number; markdown: string }[];
  gates: (ValidationReport | { model: string; version: number; error: string })[];
  /** Each deployment's latest drift report, and its checks' dataset drift share over time. */
  drift: ({ deployment: string; report: DriftReport; checks: { time: number; share: number; alert: boolean }[] } | { deployment: string; error: string })[];
  loops: LoopSummary[];
}

export class ReportError extends Error {}

/** Points per curve: enough to read a curve, few enough that a million steps cost kilobytes. */
const CURVE_POINTS = 300;
const MAX_CURVES = 8;
const MAX_RUNS = 12;

type Subject = { kind: 'run'; id: string } | { kind: 'version'; version: ModelVersion } | { kind: 'deployment'; name: string; version?: ModelVersion };

/** A deployment's served model version, when it serves a registered one. */
function servedVersion(project: Project, target: string): ModelVersion | undefined {
  const m = /^([^:@]+)(?:[:@](.+))?$/.exec(target);
  if (!m || target.endsWith('.onnx')) return undefined;
  try {
    return m[2] ? project.registry.version(m[1], m[2]) : project.registry.model(m[1]).versions.at(-1);
  } catch {
    return undefined;
  }
}

/** `deployment name`, `model:3` / `model@champion`, or a run id (a unique prefix is enough). */
function resolveSubject(project: Project, text: string): Subject {
  const deployment = project.deployments.log.fold().get(text);
  if (deployment) return { kind: 'deployment', name: text, version: servedVersion(project, deployment.target) };
  const m = /^([^:@]+)[:@](.+)$/.exec(text);
  if (m) return { kind: 'version', version: project.registry.version(m[1], m[2]) };
  const id = project.tracking.resolveRunId(text);
  if (id) return { kind: 'run', id };
  throw new ReportError(`"${text}" names no deployment, model version (model:3, model@champion) or run; see mlops deployments list, mlops models list, mlops runs list.`);
}

function compareRuns(project: Project, ids: string[]): RunsComparison {
  const runs = ids.slice(0, MAX_RUNS).map((id) => project.tracking.getRun(id)).filter((r): r is RunDetail => !!r);
  const keys = (pick: (r: RunDetail) => string[]) => [...new Set(runs.flatMap(pick))].sort();
  const params = keys((r) => Object.keys(r.params)).map((key) => ({ key, values: runs.map((r) => r.params[key]) }))
    .filter((p) => runs.length < 2 || new Set(p.values).size > 1);
  const metrics = keys((r) => r.metrics.map((x) => x.key)).map((key) => ({ key, values: runs.map((r) => r.metrics.find((x) => x.key === key)?.latest) }));
  const curves = metrics.filter((m) => runs.some((r) => (r.metrics.find((x) => x.key === m.key)?.count ?? 0) > 1)).slice(0, MAX_CURVES).map(({ key }) => ({
    key,
    series: runs.filter((r) => r.metrics.some((x) => x.key === key)).map((r) => {
      const d = downsampleHistory(project.tracking.metricHistory(r.id, key), { maxPoints: CURVE_POINTS });
      return { label: r.name, xs: d.steps, ys: d.values };
    }),
  }));
  return { runs: runs.map(({ id, name, experiment, status, start_time, end_time }) => ({ id, name, experiment, status, start_time, end_time })), params, metrics, curves };
}

/** Checks drawn in the drift timeline. */
const MAX_CHECKS = 500;

/** The latest check's drift report (what monitoring saw), else one made now against the reference a check would use. */
async function deploymentDrift(project: Project, name: string, target: string): Promise<DriftReport> {
  const root = project.layout.root;
  const latest = latestReport(root, name);
  if (latest) return latest;
  const choice = chooseReference(name, target, readMonitoringConfig(root), project.layout, project.registry);
  return driftBetween(root, { reference: choice.source, current: `deployment:${name}` }, async () => project.snapshots);
}

/**
 * Gathers a report on deployments, model versions and runs: the runs compared, each
 * version's model card and gate table, each deployment's drift (its prediction log against
 * its version's training data) and the retraining loops' history.
 */
export async function collectReport(project: Project, subjects: string[]): Promise<ReportData> {
  if (!subjects.length) throw new ReportError('Name what the report covers: run ids, a model version (model:3, model@champion) or a deployment.');
  const resolved = subjects.map((s) => resolveSubject(project, s));
  const versions = new Map<string, ModelVersion>();
  for (const s of resolved) {
    const v = s.kind === 'version' ? s.version : s.kind === 'deployment' ? s.version : undefined;
    if (v) versions.set(`${v.model}:${v.version}`, v);
  }
  // Runs: those named, else the training runs of the model's versions (newest last).
  let runIds = resolved.flatMap((s) => (s.kind === 'run' ? [s.id] : []));
  if (!runIds.length) {
    const models = new Set([...versions.values()].map((v) => v.model));
    runIds = [...models].flatMap((m) => project.registry.model(m).versions.map((v) => v.run_id).filter((r): r is string => !!r)).slice(-MAX_RUNS);
  }
  const data: ReportData = {
    title: `Report: ${subjects.join(', ')}`, generated: Date.now(), covers: resolved.map(describe),
    ...(runIds.length ? { runs: compareRuns(project, runIds) } : {}),
    cards: [], gates: [], drift: [], loops: [],
  };
  for (const v of versions.values()) {
    const file = await writeModelCard(project.layout, project.registry, project.tracking, project.snapshots, v.model, v.version);
    data.cards.push({ model: v.model, version: v.version, markdown: fs.readFileSync(file, 'utf8') });
    try {
      data.gates.push(await project.validation.validate(v.model, String(v.version)));
    } catch (err) {
      data.gates.push({ model: v.model, version: v.version, error: (err as Error).message });
    }
  }
  const deployments = resolved.flatMap((s) => (s.kind === 'deployment' ? [s] : []));
  for (const d of deployments) {
    try {
      const report = await deploymentDrift(project, d.name, project.deployments.get(d.name).deployment.target);
      const checks = readChecks(project.layout.root, d.name, MAX_CHECKS).map((c) => ({ time: c.time, share: c.drift.share, alert: c.alert }));
      data.drift.push({ deployment: d.name, report, checks });
    } catch (err) {
      data.drift.push({ deployment: d.name, error: (err as Error).message });
    }
  }
  const names = new Set(deployments.map((d) => d.name));
  const models = new Set([...versions.values()].map((v) => v.model));
  data.loops = readLoops(project.layout).filter((l) => names.has(l.deployment) || models.has(l.model));
  return data;
}

function describe(s: Subject): string {
  if (s.kind === 'run') return `run ${s.id}`;
  if (s.kind === 'version') return `model ${s.version.model} version ${s.version.version}`;
  return `deployment ${s.name}${s.version ? ` (serving ${s.version.model} version ${s.version.version})` : ''}`;
}
