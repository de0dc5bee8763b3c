import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendRecord } from '../workspace/appendLog';
import type { MlopsLayout } from '../workspace/layout';
import { readRemoteJob } from './remoteRun';

/**
 * Runs deleted here whose job folders are still on a target's host: without their run folder
 * (and its remote.json) nothing would tie those folders to this workspace, and a clean-up would
 * leave them for ever as another workspace's. File: `.mlops/targets/<name>/deleted-jobs.jsonl`,
 * one `{"run": "<run id>", "time": <ms>}` a line.
 */
function logFile(layout: MlopsLayout, target: string): string {
  return path.join(layout.dir, 'targets', target, 'deleted-jobs.jsonl');
}

/** Notes the run's job folder, when it ran on a target, before the run is deleted here. */
export function noteDeletedJob(layout: MlopsLayout, runId: string): void {
  const job = readRemoteJob(layout, runId);
  if (!job) return;
  const file = logFile(layout, job.target);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  appendRecord(file, `${JSON.stringify({ run: runId, time: Date.now() })}\n`);
}

/** The runs deleted here that ran on the target (a damaged line is passed over). */
export function deletedJobs(layout: MlopsLayout, target: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(logFile(layout, target), 'utf8');
  } catch {
    return [];
  }
  const runs = new Set<string>();
  for (const line of text.split('\n')) {
    try {
      const { run } = JSON.parse(line) as { run?: unknown };
      if (typeof run === 'string' && /^[0-9a-f]{32}$/.test(run)) runs.add(run);
    } catch {
      // an empty or torn line
    }
  }
  return [...runs];
}
