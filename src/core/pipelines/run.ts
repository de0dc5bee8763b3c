import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobTarget } from '../compute/remoteRun';
import { findTarget } from '../compute/targets';
import { Project } from '../project';
import { SnapshotError } from '../snapshots';
import type { TrackedProcess } from '../tracking/launcher';
import type { RunInput } from '../tracking/store';
import { MlopsLayout } from '../workspace/layout';
import { describeHolder, ProcessLock } from '../workspace/processLock';
import { outChanges, pathDigests } from './fingerprint';
import { appendPipelineRun, type PipelineRunRecord, type StageResult } from './history';
import { loadPipeline, selectStages, type Pipeline } from './load';
import { pipelinesDir, readLock, recordStage } from './lockFile';
import type { Stage } from './stages';
import { PIPELINE_RUN_TAG, PIPELINE_STAGE_TAG } from './tags';
import { stageChanges } from './status';
import { bringOutsHome, startRemoteStage } from './remoteStage';

export const DEFAULT_PARALLEL = 2;

export interface PipelineRunOptions {
  /** Run this stage (and what it depends on, when out of date); default: every stage. */
  stage?: string;
  /** With `stage`: the stage and every stage downstream of it instead. */
  downstream?: boolean;
  /** How many independent stages run at once (default 2). */
  parallel?: number;
  /** Run the chosen stages even when up to date. */
  force?: boolean;
  experiment?: string;
  /** A target of mlops.yaml the stages' commands run on (default: here); their outs come back into the workspace. */
  target?: string;
  /** Extra environment for the stages' commands (the extension's MLflow endpoint). */
  env?: NodeJS.ProcessEnv;
  /** The workspace's engine when the caller has it open (the extension); otherwise opened for the run. */
  project?: Project;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
}

export type PipelineEvent =
  | { type: 'start'; pipelineRun: string; stages: string[] }
  | { type: 'stage'; stage: string; state: 'running' | StageResult['outcome']; run?: string; reasons: string[]; error?: string }
  | { type: 'output'; stage: string; text: string }
  | { type: 'end'; pipelineRun: string; status: PipelineRunRecord['status'] };

/**
 * Runs what is out of date among the chosen stages, in dependency order, independent stages
 * side by side. A stage whose cmd, deps and params are unchanged is skipped, its missing outs
 * restored from the snapshot of its last run; one that runs is a tracked run tagged with the
 * pipeline run, and its outs are snapshotted when it succeeds. A stage after a failed one
 * does not run. The run is recorded in `.mlops/pipelines/runs.jsonl`.
 */
export async function runPipeline(root: string, options: PipelineRunOptions = {}): Promise<PipelineRunRecord> {
  const pipeline = loadPipeline(root);
  const target = options.target ? findTarget(root, options.target) : undefined;
  const chosen = selectStages(pipeline, options.stage, options.downstream);
  const parallel = Math.max(1, Math.floor(options.parallel ?? DEFAULT_PARALLEL));
  const claim = claimPipelineRuns(root);
  const id = randomBytes(6).toString('hex');
  const start = Date.now();
  const emit = options.onEvent ?? (() => undefined);
  let project: Project;
  try {
    project = options.project ?? (await Project.open(root, { waitMs: 0 }));
  } catch (err) {
    claim?.release();
    throw err;
  }
  const results = new Map<string, StageResult>();
  const live = new Set<Pick<TrackedProcess, 'stop'>>();
  const stopAll = (): void => void [...live].forEach((p) => void p.stop());
  options.signal?.addEventListener('abort', stopAll);
  try {
    emit({ type: 'start', pipelineRun: id, stages: chosen });
    const ctx: StageContext = { root, project, pipeline, pipelineRun: id, options, live, emit, ...(target && target.type !== 'local' ? { target } : {}) };
    const running = new Map<string, Promise<void>>();
    const waiting = [...chosen];
    while (waiting.length || running.size) {
      for (const name of [...waiting]) {
        if (running.size >= parallel) break;
        const ups = (pipeline.upstream.get(name) ?? []).filter((u) => chosen.includes(u));
        const blocked = ups.find((u) => ['failed', 'not-run'].includes(results.get(u)?.outcome ?? ''));
        if (blocked !== undefined || options.signal?.aborted) {
          const reasons = [options.signal?.aborted ? 'the pipeline run was cancelled' : `upstream stage "${blocked}" did not succeed`];
          results.set(name, { name, outcome: 'not-run', reasons });
          emit({ type: 'stage', stage: name, state: 'not-run', reasons });
        } else if (!ups.every((u) => results.has(u))) {
          continue;
        } else {
          running.set(name, runStage(ctx, pipeline.byName.get(name)!).then((r) => {
            results.set(name, r);
            running.delete(name);
          }));
        }
        waiting.splice(waiting.indexOf(name), 1);
      }
      if (running.size) await Promise.race(running.values());
    }
  } finally {
    options.signal?.removeEventListener('abort', stopAll);
    if (!options.project) project.close();
    claim?.release();
  }
  const stages = chosen.map((n) => results.get(n)!);
  const status = options.signal?.aborted ? 'cancelled' : stages.some((s) => s.outcome === 'failed' || s.outcome === 'not-run') ? 'failed' : 'succeeded';
  const record: PipelineRunRecord = { id, start, end: Date.now(), status, stages };
  appendPipelineRun(project.layout, record);
  emit({ type: 'end', pipelineRun: id, status });
  return record;
}

/**
 * One pipeline run at a time in a workspace, whichever window, terminal or CI job starts it:
 * two would run the same stages into the same outs. Undefined where no lock can be written
 * (a read-only checkout), which the run's own writes then report.
 */
function claimPipelineRuns(root: string): ProcessLock | undefined {
  const file = path.join(pipelinesDir(new MlopsLayout(root)), 'run.lock');
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch {
    // read-only or full: tryAcquire says it cannot write there
  }
  const lock = ProcessLock.tryAcquire(file);
  if (lock instanceof ProcessLock) return lock;
  if (lock.held) throw new Error(`Another pipeline run is under way in this workspace (${describeHolder(lock.holder)}); wait for it to end, or stop it, and run again.`);
  return undefined;
}

interface StageContext {
  root: string;
  project: Project;
  pipeline: Pipeline;
  pipelineRun: string;
  options: PipelineRunOptions;
  live: Set<Pick<TrackedProcess, 'stop'>>;
  /** Where the stages run when not here. */
  target?: JobTarget;
  emit: (event: PipelineEvent) => void;
}

async function runStage(ctx: StageContext, s: Stage): Promise<StageResult> {
  const { root, project, emit } = ctx;
  const done = (r: StageResult): StageResult => {
    emit({ type: 'stage', stage: s.name, state: r.outcome, reasons: r.reasons, ...(r.run ? { run: r.run } : {}), ...(r.error ? { error: r.error } : {}) });
    return r;
  };
  try {
    if (ctx.options.signal?.aborted) return done({ name: s.name, outcome: 'not-run', reasons: ['the pipeline run was cancelled'] });
    const entry = readLock(project.layout)[s.name];
    const changes = await stageChanges(project.snapshots, root, s, entry);
    if (changes.paramError) return done({ name: s.name, outcome: 'failed', reasons: changes.reasons, error: changes.paramError.message });
    const reasons = [...changes.reasons];
    if (!reasons.length && !ctx.options.force) {
      const { missing, modified } = outChanges(changes.outs, entry);
      if (!missing.length && !modified.length) return done({ name: s.name, outcome: 'skipped', reasons: ['up to date'] });
      if (entry?.snapshot && (await restoreOuts(ctx, s, entry.outs, entry.snapshot))) {
        return done({ name: s.name, outcome: 'restored', reasons: [...missing, ...modified].map((p) => `out "${p}" restored from snapshot ${entry.snapshot!.slice(0, 12)}`) });
      }
      reasons.push(...modified.map((p) => `out "${p}" was modified since the last run`), ...missing.map((p) => `out "${p}" is missing`));
    }
    if (ctx.options.force && !reasons.length) reasons.push('forced');
    return done(await execute(ctx, s, reasons, changes.deps, changes.params));
  } catch (err) {
    return done({ name: s.name, outcome: 'failed', reasons: [], error: (err as Error).message });
  }
}

/** Brings back missing outs from the snapshot (never overwriting a file); true when the outs then match the lock. */
async function restoreOuts(ctx: StageContext, s: Stage, locked: Record<string, string>, snapshot: string): Promise<boolean> {
  const result = await ctx.project.restore(snapshot, {});
  if (result.wouldOverwrite.length) return false;
  const now = await pathDigests(ctx.project.snapshots, ctx.root, s.outs);
  return s.outs.every((p) => now[p] === locked[p]);
}

async function execute(ctx: StageContext, s: Stage, reasons: string[], deps: Record<string, string>, params: Record<string, string>): Promise<StageResult> {
  const { root, project, emit } = ctx;
  const inputs = await snapshotDeps(project, s);
  // Cancelled while its deps were snapshotted: nothing is started.
  if (ctx.options.signal?.aborted) return { name: s.name, outcome: 'not-run', reasons: ['the pipeline run was cancelled'] };
  const tags = { [PIPELINE_RUN_TAG]: ctx.pipelineRun, [PIPELINE_STAGE_TAG]: s.name };
  const onOutput = (text: string): void => emit({ type: 'output', stage: s.name, text });
  const run = ctx.target
    ? await startRemoteStage(project.layout, ctx.target, s, { experiment: ctx.options.experiment, tags, inputs, onOutput })
    : await project.launch({
      command: '/bin/sh',
      args: ['-c', s.cmd],
      cwd: root,
      nameBase: s.name,
      experiment: ctx.options.experiment,
      source: 'command',
      inputs,
      env: ctx.options.env,
      capturePackages: false,
      tags,
      onOutput,
      onWarning: (text) => emit({ type: 'output', stage: s.name, text: `mlops: ${text}\n` }),
    });
  ctx.live.add(run);
  emit({ type: 'stage', stage: s.name, state: 'running', run: run.runId, reasons });
  const outcome = await run.finished.finally(() => ctx.live.delete(run));
  if (outcome.status !== 'FINISHED') {
    const why = outcome.error ?? (outcome.status === 'KILLED' ? 'it was stopped' : `its command exited with code ${outcome.exitCode}`);
    return { name: s.name, outcome: 'failed', run: run.runId, reasons, error: `Stage "${s.name}" failed: ${why} (run ${run.runId}, output in ${path.join(run.runDir, 'artifacts', 'output.log')}).` };
  }
  const absent = ctx.target ? bringOutsHome(run.runDir, root, s.outs) : s.outs.filter((p) => !fs.existsSync(path.join(root, ...p.split('/'))));
  if (absent.length) {
    return { name: s.name, outcome: 'failed', run: run.runId, reasons, error: `Stage "${s.name}" finished but did not write ${absent.map((p) => `"${p}"`).join(', ')}, declared in its outs (mlops.yaml line ${s.line}). Fix its cmd or its outs.` };
  }
  const snapshot = s.outs.length
    ? (await project.snapshot(s.outs, { message: `Outs of pipeline stage "${s.name}" (run ${run.runId})`, reuseUnchanged: true })).id
    : undefined;
  const outs = await pathDigests(project.snapshots, root, s.outs);
  recordStage(project.layout, s.name, { cmd: s.cmd, deps, params, outs, ...(snapshot ? { snapshot } : {}), run: run.runId, pipelineRun: ctx.pipelineRun, time: Date.now() });
  return { name: s.name, outcome: 'ran', run: run.runId, reasons };
}

/** The stage's deps as the run's data snapshot (unchanged files cost a stat), so its lineage names them. */
async function snapshotDeps(project: Project, s: Stage): Promise<RunInput[]> {
  if (!s.deps.length) return [];
  try {
    const info = await project.snapshot(s.deps, { message: `Deps of pipeline stage "${s.name}"`, reuseUnchanged: true });
    return [{ snapshot: info.id, paths: info.paths }];
  } catch (err) {
    // Deps that are only empty folders: there is nothing to record, and nothing stops the stage.
    if (err instanceof SnapshotError && err.code === 'nothing-to-snapshot') return [];
    throw err;
  }
}
