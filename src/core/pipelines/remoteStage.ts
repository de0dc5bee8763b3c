// A pipeline stage run on a target: its cmd as a tracked remote run, its declared outs
// carried home in the run's artifacts and put back at their workspace paths, so the
// pipeline's lock, snapshots and skip logic see them exactly as after a local run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRemoteRun, type JobTarget, type RemoteRun } from '../compute/remoteRun';
import { shQuote } from '../compute/shell';
import { appendEvents } from '../tracking/eventWriter';
import { nextRunName } from '../tracking/runNaming';
import type { RunInput } from '../tracking/store';
import type { MlopsLayout } from '../workspace/layout';
import type { Stage } from './stages';

/** The folder of the run's artifacts that holds the outs on their way home. */
const OUTS_DIR = 'pipeline-outs';

export interface RemoteStageOptions {
  experiment?: string;
  tags: Record<string, string>;
  /** The snapshot of the stage's deps, recorded on the run for its lineage. */
  inputs: RunInput[];
  onOutput: (text: string) => void;
}

/** Starts the stage on the target; its deps go with the code even where git ignores them (an upstream stage's outs). */
export async function startRemoteStage(layout: MlopsLayout, target: JobTarget, s: Stage, o: RemoteStageOptions): Promise<RemoteRun> {
  const run = await startRemoteRun({
    layout, target, command: '/bin/sh', args: ['-c', remoteStageScript(s.cmd, s.outs)], files: s.deps,
    name: nextRunName(layout.runsDir, s.name), experiment: o.experiment, tags: o.tags, onOutput: o.onOutput,
  });
  if (o.inputs.length) appendEvents(layout.eventsFile(run.runId), o.inputs.map((i) => ({ type: 'input' as const, snapshot: i.snapshot, paths: i.paths })));
  return run;
}

/**
 * The stage's cmd (in a subshell, so its own `exit` ends only it), then, when it succeeded, the
 * outs it wrote copied into the run's artifacts with tar: all a host is sure to have besides sh.
 */
export function remoteStageScript(cmd: string, outs: string[]): string {
  if (!outs.length) return cmd;
  return [
    '(', cmd, ')', 'code=$?',
    'if [ "$code" -eq 0 ]; then',
    '  set --',
    `  for out in ${outs.map((o) => shQuote(`./${o}`)).join(' ')}; do [ -e "$out" ] && set -- "$@" "$out"; done`,
    `  if [ $# -gt 0 ]; then mkdir -p "$MLOPS_RUN_DIR/artifacts/${OUTS_DIR}" && tar -cf - "$@" | tar -xf - -C "$MLOPS_RUN_DIR/artifacts/${OUTS_DIR}" || code=$?; fi`,
    'fi',
    'exit $code',
  ].join('\n');
}

/**
 * Moves the outs the run brought back to their workspace paths, each replacing what was
 * there (as the stage's command does when it runs here). Returns the outs it did not write:
 * an older copy in the workspace must not pass for what this run made.
 */
export function bringOutsHome(runDir: string, root: string, outs: string[]): string[] {
  const carried = path.join(runDir, 'artifacts', OUTS_DIR);
  const missing: string[] = [];
  for (const out of outs) {
    const from = path.join(carried, ...out.split('/'));
    if (!fs.existsSync(from)) {
      missing.push(out);
      continue;
    }
    const to = path.join(root, ...out.split('/'));
    fs.rmSync(to, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.renameSync(from, to);
  }
  fs.rmSync(carried, { recursive: true, force: true });
  return missing;
}
