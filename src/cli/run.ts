import { parseArgs } from 'node:util';
import { Project } from '../core/project';
import { launchTrackedRun } from '../core/tracking/launcher';
import { readProjectConfig } from '../core/workspace/config';
import type { MlopsLayout } from '../core/workspace/layout';
import { UsageError } from './usage';

/** `mlops run [--name N] [--experiment E] -- <command…>`: exits with the command's own code. */
export async function runCommand(layout: MlopsLayout, argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1) throw new UsageError('run needs a command after "--": mlops run [--name N] [--experiment E] -- python3 train.py');
  const { values } = parseArgs({
    args: argv.slice(0, dash),
    options: { name: { type: 'string' }, experiment: { type: 'string' } },
    strict: true,
  });
  const [command, ...args] = argv.slice(dash + 1);
  layout.ensure();
  const inputs = readProjectConfig(layout.root).data.length ? await snapshotInputs(layout.root) : [];
  const run = launchTrackedRun({
    inputs,
    layout,
    command,
    args,
    cwd: process.cwd(),
    name: values.name,
    experiment: values.experiment,
    source: 'command',
    onOutput: (text) => process.stdout.write(text),
  });
  process.stderr.write(`mlops: run ${run.runId} started (${layout.runDir(run.runId)})\n`);
  const stop = () => void run.stop();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const outcome = await run.finished;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (outcome.error) process.stderr.write(`mlops: ${outcome.error}\n`);
  process.stderr.write(`mlops: run ${run.runId} ${outcome.status}\n`);
  return outcome.exitCode ?? 1;
}

/** Snapshots mlops.yaml's data paths, holding the engine only for that (the run may last for hours). */
export async function snapshotInputs(root: string) {
  const project = await Project.open(root, { onMessage: (m) => process.stderr.write(`mlops: ${m}\n`) });
  try {
    return await project.snapshotInputs();
  } finally {
    project.close();
  }
}
