import * as fs from 'node:fs';
import type { ModelRegistry, ModelVersion } from '../registry/registry';
import type { MlopsLayout } from '../workspace/layout';
import type { MonitoringConfig } from './config';

export class MonitoringError extends Error {}

/** Where a check's reference data comes from, and why that one. */
export interface ReferenceChoice {
  /** A source `startDriftSide` reads: a file, folder or `snapshot[:path]`. */
  source: string;
  from: 'option' | 'config' | 'lineage';
  /** The model version whose training data it is (lineage). */
  version?: { model: string; version: number };
}

/** The model version a deployment target names (`model:3`, `model@champion`, `model`); undefined for an .onnx file. */
export function targetVersion(registry: ModelRegistry, target: string): ModelVersion | undefined {
  if (target.endsWith('.onnx')) return undefined;
  const m = /^([^:@]+)(?:[:@](.+))?$/.exec(target);
  if (!m) return undefined;
  const [, model, ref] = m;
  try {
    return ref ? registry.version(model, ref) : registry.model(model).versions.reduce((a, b) => (b.version > a.version ? b : a));
  } catch {
    return undefined;
  }
}

/** The data snapshots a run recorded as its inputs (`input` events of its event log, the truth). */
export function runInputs(layout: MlopsLayout, runId: string): { snapshot: string; paths: string[] }[] {
  let text: string;
  try {
    text = fs.readFileSync(layout.eventsFile(runId), 'utf8');
  } catch {
    return [];
  }
  const out: { snapshot: string; paths: string[] }[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"input"')) continue;
    try {
      const e = JSON.parse(line) as { type?: string; snapshot?: string; paths?: string[] };
      if (e.type === 'input' && typeof e.snapshot === 'string' && Array.isArray(e.paths)) out.push({ snapshot: e.snapshot, paths: e.paths });
    } catch {
      // a torn line is the tracking index's to report
    }
  }
  return out;
}

/**
 * The reference a deployment is checked against: the one given, else `monitoring.reference`
 * (one for all, or the deployment's), else the training data of the version it serves: the
 * first data snapshot its run recorded (its lineage), one path of it when the run named one.
 */
export function chooseReference(deployment: string, target: string, config: MonitoringConfig, layout: MlopsLayout, registry: ModelRegistry, given?: string): ReferenceChoice {
  if (given) return { source: given, from: 'option' };
  const configured = typeof config.reference === 'string' ? config.reference : config.reference?.[deployment];
  if (configured) return { source: configured, from: 'config' };
  const fix = `set monitoring.reference in mlops.yaml (e.g. "reference: data/train.csv") or give a reference`;
  const version = targetVersion(registry, target);
  if (!version) throw new MonitoringError(`Deployment "${deployment}" serves ${target}, which is not a registered model version, so it has no training data on record; ${fix}.`);
  const label = `${version.model} version ${version.version}`;
  if (!version.run_id) throw new MonitoringError(`${label} was registered without a run, so its training data is unknown; ${fix}.`);
  const inputs = runInputs(layout, version.run_id);
  if (!inputs.length) throw new MonitoringError(`The run that trained ${label} (${version.run_id.slice(0, 8)}) recorded no data snapshot (list data paths under "data:" in mlops.yaml so runs snapshot them); ${fix}.`);
  const { snapshot, paths } = inputs[0];
  return { source: paths.length === 1 ? `${snapshot}:${paths[0]}` : snapshot, from: 'lineage', version: { model: version.model, version: version.version } };
}
