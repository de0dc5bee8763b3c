import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicFile';
import { withFileLockSync } from '../workspace/fileLock';
import type { MlopsLayout } from '../workspace/layout';

/**
 * What each stage's last successful run used and made: `.mlops/pipelines/lock.json`
 * (written atomically, under a short lock so parallel stages and processes merge):
 *   { "version": 1, "stages": { "<stage>": StageLock } }
 * deps and outs map each path to a digest of its files' blob ids; params map each param to
 * its value as JSON.
 */
export interface StageLock {
  cmd: string;
  deps: Record<string, string>;
  params: Record<string, string>;
  outs: Record<string, string>;
  /** The snapshot holding the outs, to restore them from. */
  snapshot?: string;
  /** The tracked run that made them, and the pipeline run it belonged to. */
  run: string;
  pipelineRun: string;
  time: number;
}

interface LockData {
  version: 1;
  stages: Record<string, StageLock>;
}

export function pipelinesDir(layout: MlopsLayout): string {
  return path.join(layout.dir, 'pipelines');
}

function lockFile(layout: MlopsLayout): string {
  return path.join(pipelinesDir(layout), 'lock.json');
}

/** The recorded stages (none when the file is missing or damaged: everything then counts as changed). */
export function readLock(layout: MlopsLayout): Record<string, StageLock> {
  try {
    const data = JSON.parse(fs.readFileSync(lockFile(layout), 'utf8')) as LockData;
    if (data.version === 1 && data.stages && typeof data.stages === 'object') return data.stages;
  } catch {
    // missing or damaged
  }
  return {};
}

export function recordStage(layout: MlopsLayout, stage: string, entry: StageLock): void {
  const file = lockFile(layout);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  withFileLockSync(file, () => {
    const stages = readLock(layout);
    stages[stage] = entry;
    writeFileAtomic(file, JSON.stringify({ version: 1, stages } satisfies LockData, null, 1) + '\n');
  });
}
