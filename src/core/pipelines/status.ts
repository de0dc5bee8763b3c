import { SnapshotStore } from '../snapshots';
import { MlopsLayout } from '../workspace/layout';
import { overlaps } from './dag';
import { inputChanges, outChanges, pathDigests } from './fingerprint';
import { readPipelineRuns, type StageResult } from './history';
import { loadPipeline, PipelineError } from './load';
import { readLock, type StageLock } from './lockFile';
import { paramValues } from './params';
import type { Stage } from './stages';

/**
 * up-to-date: cmd, deps, params and outs as the last run left them.
 * restorable: only outs are missing, and the snapshot of the last run's outs brings them back.
 * changed: the stage runs again (the reasons say why).
 */
export type StageState = 'up-to-date' | 'changed' | 'restorable';

export interface StageStatus {
  name: string;
  /** Line of the stage in mlops.yaml. */
  line: number;
  cmd: string;
  deps: string[];
  outs: string[];
  upstream: string[];
  state: StageState;
  reasons: string[];
  /** The tracked run that last made its outs. */
  run?: string;
  /** What happened to it in the newest pipeline run that covered it. */
  last?: StageResult & { pipelineRun: string; time: number };
}

export interface PipelineStatus {
  file: string;
  stages: StageStatus[];
}

/** Each stage's state and why, in dependency order. Reads only files whose stat changed. */
export async function pipelineStatus(root: string): Promise<PipelineStatus> {
  const pipeline = loadPipeline(root);
  const layout = new MlopsLayout(root);
  const store = await SnapshotStore.open(layout);
  const lock = readLock(layout);
  const last = lastOutcomes(layout);
  const states = new Map<string, StageState>();
  const stages: StageStatus[] = [];
  const paramFiles = new Map<string, unknown>();
  // Every stage's paths in one walk: the stat cache is read once, however many stages there are.
  const digests = await pathDigests(store, root, [...new Set(pipeline.stages.flatMap((s) => [...s.deps, ...s.outs]))]);
  for (const name of pipeline.order) {
    const s = pipeline.byName.get(name)!;
    const entry = lock[name];
    const changes = await stageChanges(store, root, s, entry, paramFiles, digests);
    const { outs } = changes;
    // A dep missing only because an upstream stage's outs will be restored is no change.
    const restored = (pipeline.upstream.get(name) ?? []).filter((u) => states.get(u) === 'restorable').flatMap((u) => pipeline.byName.get(u)!.outs);
    const reasons = changes.reasons.filter((r) => !s.deps.some((d) => r === `dep "${d}" is missing` && restored.some((o) => overlaps(o, d))));
    const { missing, modified } = outChanges(outs, entry);
    for (const u of pipeline.upstream.get(name) ?? []) if (states.get(u) === 'changed') reasons.push(`upstream stage "${u}" is out of date`);
    for (const p of modified) reasons.push(`out "${p}" was modified since the last run`);
    if (reasons.length === 0 && missing.length && !entry?.snapshot) reasons.push(...missing.map((p) => `out "${p}" is missing`));
    const state: StageState = reasons.length ? 'changed' : missing.length ? 'restorable' : 'up-to-date';
    if (state === 'restorable') reasons.push(...missing.map((p) => `out "${p}" is missing: restored from snapshot ${entry!.snapshot!.slice(0, 12)} without running`));
    states.set(name, state);
    stages.push({
      name, line: s.line, cmd: s.cmd, deps: s.deps, outs: s.outs, upstream: pipeline.upstream.get(name) ?? [], state, reasons,
      ...(entry ? { run: entry.run } : {}), ...(last.has(name) ? { last: last.get(name) } : {}),
    });
  }
  return { file: pipeline.file, stages };
}

/** A stage's input changes against its lock entry, and its outs' digests now (`known`: digests of its paths already taken). A param that cannot be read is a reason. */
export async function stageChanges(store: SnapshotStore, root: string, s: Stage, entry: StageLock | undefined, paramFiles = new Map<string, unknown>(), known?: Record<string, string>) {
  const digests = known ?? (await pathDigests(store, root, [...s.deps, ...s.outs]));
  const pick = (paths: string[]): Record<string, string> => Object.fromEntries(paths.map((p) => [p, digests[p]]));
  const deps = pick(s.deps);
  const outs = pick(s.outs);
  let params: Record<string, string>;
  try {
    params = paramValues(root, s, paramFiles);
  } catch (err) {
    if (!(err instanceof PipelineError)) throw err;
    return { reasons: [err.problems[0].message], deps, params: {}, outs, paramError: err };
  }
  return { reasons: inputChanges(s.cmd, deps, params, entry), deps, params, outs };
}

function lastOutcomes(layout: MlopsLayout): Map<string, StageResult & { pipelineRun: string; time: number }> {
  const out = new Map<string, StageResult & { pipelineRun: string; time: number }>();
  for (const r of readPipelineRuns(layout)) for (const s of r.stages) out.set(s.name, { ...s, pipelineRun: r.id, time: r.end });
  return out;
}
