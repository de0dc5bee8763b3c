import { parseArgs } from 'node:util';
import { startRemoteRun } from '../core/compute/remoteRun';
import { findTarget } from '../core/compute/targets';
import { launchTrackedRun, type RunOutcome, type TrackedProcess } from '../core/tracking/launcher';
import type { RunInput } from '../core/tracking/store';
import { readProjectConfig } from '../core/workspace/config';
import type { MlopsLayout } from '../core/workspace/layout';
import { withProject } from './open';
import { wrongArguments } from './usage';
import { printError } from './output';

/** `mlops run [--name N] [--experiment E] [--target T] -- <command…>`: exits with the command's own code. */
export async function runCommand(layout: MlopsLayout, argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1) throw wrongArguments('run needs a command after "--".');
  const { values } = parseArgs({
    args: argv.slice(0, dash),
    options: { name: { type: 'string' }, experiment: { type: 'string' }, target: { type: 'string' } },
    strict: true,
  });
  const [command, ...args] = argv.slice(dash + 1);
  layout.ensure();
  const target = values.target ? findTarget(layout.root, values.target) : undefined;
  const inputs = await snapshotInputs(layout.root);
  if (target && target.type !== 'local') {
    const remote = await startRemoteRun({
      layout, target, command, args, name: values.name, experiment: values.experiment, inputs,
      onOutput: (text) => process.stdout.write(text),
    });
    return reportOutcome(remote, await followRun(remote, remote.finished));
  }
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
    onWarning: (message) => printError(`mlops: ${message}\n`),
  });
  return reportOutcome(run, await followRun(run, run.finished));
}

function reportOutcome(run: { runId: string }, outcome: RunOutcome): number {
  if (outcome.error) printError(`mlops: ${outcome.error}\n`);
  printError(`mlops: run ${run.runId} ${outcome.status}\n`);
  return outcome.exitCode ?? 1;
}

/** Says where the run is and stops it (its whole process tree) on Ctrl-C or SIGTERM until `finished` settles. */
export async function followRun<T>(run: Pick<TrackedProcess, 'runId' | 'runDir' | 'stop'>, finished: Promise<T>): Promise<T> {
  printError(`mlops: run ${run.runId} started (${run.runDir})\n`);
  const stop = () => void run.stop();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await finished;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Snapshots mlops.yaml's data paths (none configured: no inputs), holding the engine only for that (the run may last for hours). */
export async function snapshotInputs(root: string): Promise<RunInput[]> {
  if (!readProjectConfig(root).data.length) return [];
  return withProject(root, (p) => p.snapshotInputs(), { waitMs: 0 });
}
