import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRemoteRun } from '../compute/remoteRun';
import { findTarget } from '../compute/targets';
import type { Project } from '../project';
import type { RunInput } from '../tracking/store';
import { PARENT_TAG, RETRAINING_EXPERIMENT } from './loopRun';
import type { RetrainConfig } from './retrainConfig';

/** What training left behind: its run, and the model file to register (undefined when it failed). */
export interface Trained {
  run: string;
  file?: string;
  detail: string;
}

/**
 * Runs the loop's training as a tracked run on its target, on the data just snapshotted. A
 * local run must rewrite `output` in the workspace; a remote one brings it back as an artifact.
 */
export async function trainChallenger(project: Project, config: RetrainConfig, loop: string, inputs: RunInput[], onOutput?: (text: string) => void): Promise<Trained> {
  if (config.train.kind !== 'cmd') throw new Error('Pipelines are not part of this build yet: give retrain.cmd (the command that retrains) instead of stage or pipeline.');
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
  if (outcome.status !== 'FINISHED') return { run, detail: `${config.train.cmd}${where} ended ${outcome.status}${outcome.exitCode !== null ? ` (exit ${outcome.exitCode})` : ''}${outcome.error ? `: ${outcome.error}` : ''}; see its output.log` };
  const artifact = path.join(project.layout.artifactsDir(run), config.output);
  const local = path.resolve(root, config.output);
  const file = fs.existsSync(artifact) ? artifact : fs.existsSync(local) && fs.statSync(local).mtimeMs >= started - 1000 ? local : undefined;
  if (!file) return { run, detail: `${config.train.cmd}${where} finished but did not write ${config.output} (retrain.output); make it write the model there or log it as an artifact of that name` };
  return { run, file, detail: `${config.train.cmd}${where} finished and wrote ${config.output}` };
}
