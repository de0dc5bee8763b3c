import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatBytes } from '../format';
import { findRemoteRunner } from '../tracking/bundledFiles';
import type { MlopsLayout } from '../workspace/layout';
import { deletedJobs } from './deletedJobs';
import { readRemoteJob, runEndTime } from './remoteRun';
import { runOnTarget, shellOf, shQuote, targetFailure, workdirWord } from './shell';
import { ShipRecord } from './shipRecord';
import type { Target } from './targets';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Runs the base64 runner.py given as its first argument as a script, with the rest as its arguments. */
const BOOT = 'import base64, sys; code = base64.b64decode(sys.argv[1]); sys.argv = ["runner.py"] + sys.argv[2:]; exec(compile(code, "runner.py", "exec"), {"__name__": "__main__"})';

/** One of this workspace's runs on the target, and whether its job folder there may go. */
export interface JobOnTarget {
  runId: string;
  /** Bytes of its own files on the host (files linked to the cache count there). */
  bytes: number;
  /** Why it stays; undefined when it may be removed. */
  keep?: string;
  /** The run was deleted here: nothing here needs its folder, which goes once its job has ended. */
  deleted?: boolean;
}

export interface TargetSurvey {
  target: string;
  /** This workspace's runs whose job folders are on the host. */
  jobs: JobOnTarget[];
  /** Job folders there that are not this workspace's runs (another workspace or user sharing the workdir): never touched. */
  others: number;
  cache: { objects: number; bytes: number; unused: number; unusedBytes: number };
}

export interface TargetCleanup {
  target: string;
  /** Runs whose job folders were removed. */
  removed: string[];
  jobBytes: number;
  /** Cached objects no job folder linked to any more, removed. */
  pruned: number;
  prunedBytes: number;
  /** Runs whose folders stayed, and why. */
  kept: JobOnTarget[];
}

interface HostJob { present: boolean; ended?: boolean; bytes?: number; artifacts?: Record<string, number> }
/** A run as this workspace knows it: when it ended (undefined: not yet), and the artifacts that came home (path → bytes); or that it was deleted here. */
interface HereRun { endedAt?: number; artifacts?: Record<string, number>; deleted?: boolean }

/**
 * What this workspace's runs left on a target's host (`<workdir>/<run id>/` job folders and the
 * object cache), and which job folders may go: the run ended here (its run_end is recorded) at
 * least `olderThanDays` ago, the job ended there, and every artifact it made is home, at the
 * same size. Kubernetes jobs leave nothing: their folder is the pod's, removed with the Job.
 */
export async function surveyTarget(layout: MlopsLayout, target: Target, olderThanDays: number): Promise<TargetSurvey> {
  const runs = runsOn(layout, target);
  const host = await onHost(target, 'survey', [...runs.keys()]) as { jobs: Record<string, HostJob>; others: number; cache: TargetSurvey['cache'] };
  const jobs: JobOnTarget[] = [];
  for (const [runId, here] of runs) {
    const there = host.jobs[runId];
    if (!there?.present) continue;
    jobs.push({ runId, bytes: there.bytes ?? 0, keep: whyKept(layout, runId, here, there, olderThanDays), ...(here.deleted ? { deleted: true } : {}) });
  }
  return { target: target.name, jobs, others: host.others, cache: host.cache };
}

/**
 * Removes the job folders the survey finds removable (`survey`: the one the user was shown, else
 * one taken now), then the cached objects no job folder links to; the ship record forgets those.
 */
export async function cleanTarget(layout: MlopsLayout, target: Target, olderThanDays: number, survey?: TargetSurvey): Promise<TargetCleanup> {
  survey ??= await surveyTarget(layout, target, olderThanDays);
  const removable = survey.jobs.filter((j) => !j.keep).map((j) => j.runId);
  const done = await onHost(target, 'clean', removable) as { removed: string[]; kept: Record<string, string>; jobBytes: number; pruned: string[]; prunedBytes: number };
  if (done.pruned.length && (target.type === 'ssh' || target.type === 'slurm')) ShipRecord.load(layout, target.name, shellOf(target), workdirWord(target)).forget(done.pruned);
  const kept = [...survey.jobs.filter((j) => j.keep), ...Object.entries(done.kept).map(([runId, keep]) => ({ runId, bytes: 0, keep }))];
  return { target: target.name, removed: done.removed, jobBytes: done.jobBytes, pruned: done.pruned.length, prunedBytes: done.prunedBytes, kept };
}

/** What a clean-up removed, in one sentence (the CLI prints it, the editor shows it). */
export function cleanupSummary(done: TargetCleanup): string {
  const some = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  return `${done.target}: removed ${some(done.removed.length, 'job folder')} (${formatBytes(done.jobBytes)}) and ${some(done.pruned, 'cached file')} no job used (${formatBytes(done.prunedBytes)}).`;
}

/** This workspace's runs that ran on the target, and those of them deleted here since. */
function runsOn(layout: MlopsLayout, target: Target): Map<string, HereRun> {
  const runs = new Map<string, HereRun>();
  const ids = fs.existsSync(layout.runsDir) ? fs.readdirSync(layout.runsDir) : [];
  for (const runId of ids.sort()) {
    const job = readRemoteJob(layout, runId);
    if (job?.target === target.name) runs.set(runId, { endedAt: runEndTime(layout.eventsFile(runId)), artifacts: job.artifacts });
  }
  for (const runId of deletedJobs(layout, target.name)) if (!runs.has(runId)) runs.set(runId, { deleted: true });
  return runs;
}

function whyKept(layout: MlopsLayout, runId: string, { endedAt, artifacts: came, deleted }: HereRun, there: HostJob, olderThanDays: number): string | undefined {
  if (deleted) return there.ended ? undefined : 'still running';
  if (endedAt === undefined || !there.ended) return 'still running';
  const days = (Date.now() - endedAt) / DAY_MS;
  if (days < olderThanDays) return `ended ${days < 1 ? 'today' : `${Math.floor(days)} day${days < 2 ? '' : 's'} ago`} (kept for ${olderThanDays})`;
  // What came home, as recorded when it came (runs from before that record: the artifacts folder as it is now).
  const artifacts = layout.artifactsDir(runId);
  for (const [rel, size] of Object.entries(there.artifacts ?? {})) {
    let here = came?.[rel];
    if (!came) {
      try {
        here = fs.lstatSync(path.join(artifacts, rel)).size;
      } catch {
        // not home
      }
    }
    if (here !== size) return `its artifact ${rel} is not home${here === undefined ? '' : ` whole (${here} of ${size} bytes)`}`;
  }
  return undefined;
}

/**
 * Runs runner.py's `mode` on the target's host over its workdir, the run ids on stdin (any number:
 * one command-line argument is limited to 128 KB here, an ssh request to 256 KB); its JSON answer. runner.py itself goes in the command
 * line (no job folder holds it), base64 so that no shell quoting touches it.
 */
async function onHost(target: Target, mode: 'survey' | 'clean', runIds: string[]): Promise<unknown> {
  if (target.type === 'kubernetes') throw new Error(`Target "${target.name}" is a Kubernetes target: its jobs leave nothing to clean up (each job's folder is its pod's, removed with the Job an hour after it ends).`);
  if (target.type === 'local') throw new Error(`Target "${target.name}" runs in the workspace itself: its runs leave nothing elsewhere to clean up.`);
  const shell = shellOf(target);
  const runner = fs.readFileSync(findRemoteRunner()).toString('base64');
  const script = `exec python3 -c ${shQuote(BOOT)} ${runner} ${mode} ${workdirWord(target)}`;
  const result = await runOnTarget(shell, script, runIds.map((id) => `${id}\n`).join(''));
  const answer = result.code === 0 ? /^\{.*\}$/m.exec(result.stdout)?.[0] : undefined;
  if (!answer) throw targetFailure(shell, result, mode === 'survey' ? 'Looking at the job folders' : 'Cleaning up');
  return JSON.parse(answer);
}
