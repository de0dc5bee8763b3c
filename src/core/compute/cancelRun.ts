import * as fs from 'node:fs';
import type { MlopsLayout } from '../workspace/layout';
import { cancelJob, readRemoteJob, type RemoteJob } from './remoteRun';
import { findTarget } from './targets';

/**
 * Cancels a run on its target (a unique prefix of its id will do): its process group on the
 * host, scancel, or its pod's command; the run's follower then records it KILLED.
 */
export async function cancelRemoteRun(layout: MlopsLayout, idOrPrefix: string): Promise<{ runId: string; job: RemoteJob }> {
  const ids = fs.existsSync(layout.runsDir) ? fs.readdirSync(layout.runsDir).filter((id) => id.startsWith(idOrPrefix)) : [];
  if (ids.length !== 1) throw new Error(ids.length ? `"${idOrPrefix}" matches ${ids.length} runs; give more of the id.` : `No run "${idOrPrefix}" in ${layout.runsDir}. See: mlops runs list`);
  const job = readRemoteJob(layout, ids[0]);
  if (!job) throw new Error(`Run ${ids[0]} did not run on a target; stop a local run with Ctrl-C where it runs.`);
  const target = findTarget(layout.root, job.target);
  if (target.type === 'local') throw new Error(`Run ${ids[0]} ran on target "${job.target}", which mlops.yaml now declares as local; declare it as it was to cancel the job.`);
  await cancelJob(target, job);
  return { runId: ids[0], job };
}
