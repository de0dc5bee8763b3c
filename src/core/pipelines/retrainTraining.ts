import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRemoteRun } from '../compute/remoteRun';
import { findTarget } from '../compute/targets';
import type { Project } from '../project';
import type { RunInput } from '../tracking/store';
import { loadPipeline } from './load';
import { runPipeline } from './run';
import { normalisePath } from './stages';
import { PARENT_TAG, RETRAINING_EXPERIMENT } from './loopRun';
import type { RetrainConfig } from './retrainConfig';

/** What training left behind: its runs, and the model file to register (undefined when it failed or had nothing new to learn). */
export interface Trained {
  runs: string[];
  /** The run that wrote the model file: registered as the version's run. */
  producer?: string;
  file?: string;
  detail: string;
  /** True when the pipeline found its stages up to date: the data has not changed since the last training. */
  unchanged?: boolean;
}

/** Runs the retraining stage (with what it depends on) or the whole pipeline; each stage that runs is a tracked run. */
async function trainByPipeline(project: Project, config: RetrainConfig, onOutput?: (text: string) => void, signal?: AbortSignal): Promise<Trained> {
  const stage = config.train.kind === 'stage' ? config.train.stage : undefined;
  const pipeline = loadPipeline(project.layout.root);
  const record = await runPipeline(project.layout.root, { ...(stage ? { stage } : {}), project, signal, onEvent: (e) => { if (e.type === 'output') onOutput?.(e.text); } });
  const runs = record.stages.flatMap((s) => (s.run ? [s.run] : []));
  const what = stage ? `stage ${stage}` : 'the pipeline';
  const failed = record.stages.find((s) => s.outcome === 'failed' || s.outcome === 'not-run');
  if (record.status !== 'succeeded') return { runs, detail: `${what} ${record.status}${failed ? `: stage ${failed.name} ${failed.outcome}${failed.error ? ` (${failed.error})` : ''}` : ''}` };
  if (!record.stages.some((s) => s.outcome === 'ran')) return { runs, unchanged: true, detail: `${what} is up to date (its deps, params and commands have not changed since it last ran): nothing new to learn from` };
  const file = path.resolve(project.layout.root, config.output);
  if (!fs.existsSync(file)) return { runs, detail: `${what} ran but left no ${config.output} (retrain.output)` };
  const out = normalisePath(config.output);
  const producer = record.stages.find((s) => s.run && pipeline.byName.get(s.name)?.outs.some((o) => out === o || out.startsWith(`${o}/`)))?.run;
  return { runs, file, ...(producer ? { producer } : {}), detail: `${what} ran ${record.stages.filter((s) => s.outcome === 'ran').map((s) => s.name).join(', ')} (pipeline run ${record.id}) and wrote ${config.output}` };
}

/**
 * Runs the loop's training: a command as a tracked run on its target, on the data just
 * snapshotted (a local run must rewrite `output` in the workspace; a remote one brings it back
 * as an artifact), or a pipeline stage / the whole pipeline of mlops.yaml.
 */
export async function trainChallenger(project: Project, config: RetrainConfig, loop: string, inputs: RunInput[], onOutput?: (text: string) => void, signal?: AbortSignal): Promise<Trained> {
  if (config.train.kind !== 'cmd') return trainByPipeline(project, config, onOutput, signal);
  const root = project.layout.root;
  const started = Date.now();
  const target = config.target ? findTarget(root, config.target) : undefined;
  const args = ['-c', config.train.cmd];
  let run: string;
  let outcome;
  if (target && target.type !== 'local') {
    const remote = await startRemoteRun({ layout: project.layout, target, command: '/bin/sh', args, name: 'retrain', experiment: RETRAINING_EXPERIMENT, onOutput });
    run = remote.runId;
    outcome = await remote.finished;
  } else {
    const local = await project.launch({ command: '/bin/sh', args, cwd: root, nameBase: 'retrain', experiment: RETRAINING_EXPERIMENT, source: 'command', inputs, tags: { [PARENT_TAG]: loop }, onOutput });
    run = local.runId;
    outcome = await local.finished;
  }
  project.tracking.refresh([run]);
  const where = target && target.type !== 'local' ? ` on ${target.name}` : '';
  if (outcome.status !== 'FINISHED') return { runs: [run], detail: `${config.train.cmd}${where} ended ${outcome.status}${outcome.exitCode !== null ? ` (exit ${outcome.exitCode})` : ''}${outcome.error ? `: ${outcome.error}` : ''}; see its output.log` };
  const artifact = path.join(project.layout.artifactsDir(run), config.output);
  const local = path.resolve(root, config.output);
  const file = fs.existsSync(artifact) ? artifact : fs.existsSync(local) && fs.statSync(local).mtimeMs >= started - 1000 ? local : undefined;
  if (!file) return { runs: [run], detail: `${config.train.cmd}${where} finished but did not write ${config.output} (retrain.output); make it write the model there or log it as an artifact of that name` };
  return { runs: [run], producer: run, file, detail: `${config.train.cmd}${where} finished and wrote ${config.output}` };
}
