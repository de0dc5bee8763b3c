import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Project } from '../project';
import type { RunOutcome } from '../tracking/launcher';

const run = promisify(execFile);

export interface MetricComparison { key: string; original: number | null; reproduced: number | null }

export interface Reproduction {
  runId: string;
  outcome: RunOutcome;
  comparison: MetricComparison[];
}

export class ReproduceError extends Error {}

async function git(cwd: string, ...args: string[]): Promise<string> {
  try {
    return (await run('git', ['-C', cwd, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (err) {
    throw new ReproduceError(`git ${args[0]} failed in ${cwd}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
  }
}

/** Maps a path under `from` to the same place under `to`; other values stay as they are. */
function rebase(value: string, from: string, to: string): string {
  if (!path.isAbsolute(value)) return value;
  const rel = path.relative(from, value);
  return rel.startsWith('..') || path.isAbsolute(rel) ? value : path.join(to, rel);
}

/**
 * Re-runs a run from what it recorded: its code commit (a git worktree of the
 * user's repository, with the saved uncommitted diff applied) and its data
 * snapshots, restored into a temporary folder; the same command runs there as a
 * new tracked run tagged `reproduces=<id>`.
 */
export async function reproduceRun(project: Project, runId: string, onOutput?: (text: string) => void): Promise<Reproduction> {
  const { tracking, layout } = project;
  const original = tracking.getRun(runId);
  if (!original) throw new ReproduceError(`No run has the id "${runId}".`);
  const { argv, cwd, git: code } = original.capture;
  if (!argv?.length || !cwd) throw new ReproduceError(`Run "${original.name}" did not record its command, so it cannot be re-run; only runs started by MLOps (the Run command or "mlops run") can.`);
  if (!code) throw new ReproduceError(`Run "${original.name}" recorded no git commit (its folder was not a git repository), so its code cannot be restored. Commit your code in git and track a new run.`);

  const top = (await git(cwd, 'rev-parse', '--show-toplevel')).trim();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-reproduce-'));
  const tree = path.join(work, 'code');
  try {
    await git(top, 'worktree', 'add', '--detach', tree, code.commit);
    if (code.dirty && code.diff_artifact) {
      const diff = path.join(layout.artifactsDir(runId), code.diff_artifact);
      if (fs.statSync(diff).size > 0) await git(tree, 'apply', '--whitespace=nowarn', diff);
    }
    const workspaceInTree = rebase(layout.root, top, tree);
    for (const input of original.inputs) {
      const restored = path.join(work, `data-${input.snapshot.slice(0, 12)}`);
      await project.snapshots.restore(input.snapshot, { to: restored });
      fs.cpSync(restored, workspaceInTree, { recursive: true, force: true });
    }

    const [command, ...args] = argv;
    const child = await project.launch({
      command,
      args: args.map((a) => rebase(a, top, tree)),
      cwd: rebase(cwd, top, tree),
      name: `${original.name} (reproduce)`,
      experiment: original.experiment,
      source: original.source === 'script' ? 'script' : 'command',
      inputs: original.inputs,
      tags: { reproduces: runId },
      onOutput,
    });
    const outcome = await child.finished;
    tracking.refresh([child.runId]);
    const again = tracking.getRun(child.runId)!;
    const keys = [...new Set([...original.metrics.map((m) => m.key), ...again.metrics.map((m) => m.key)])];
    const latest = (list: typeof original.metrics, key: string) => list.find((m) => m.key === key)?.latest ?? null;
    project.audit.append('reproduce', [runId, child.runId], { commit: code.commit, status: outcome.status });
    return {
      runId: child.runId,
      outcome,
      comparison: keys.map((key) => ({ key, original: latest(original.metrics, key), reproduced: latest(again.metrics, key) })),
    };
  } finally {
    await git(top, 'worktree', 'remove', '--force', tree).catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
