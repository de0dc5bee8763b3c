import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendRecord } from '../workspace/appendLog';
import type { MlopsLayout } from '../workspace/layout';
import { pipelinesDir } from './lockFile';

/** What became of a stage in one pipeline run. */
export type StageOutcome = 'ran' | 'skipped' | 'restored' | 'failed' | 'not-run';

export interface StageResult {
  name: string;
  outcome: StageOutcome;
  /** The tracked run of a stage that ran (or failed). */
  run?: string;
  /** Why it ran, or why it did not. */
  reasons: string[];
  error?: string;
}

/** One line of `.mlops/pipelines/runs.jsonl`, appended when a pipeline run ends. */
export interface PipelineRunRecord {
  id: string;
  start: number;
  end: number;
  status: 'succeeded' | 'failed' | 'cancelled';
  stages: StageResult[];
}

function historyFile(layout: MlopsLayout): string {
  return path.join(pipelinesDir(layout), 'runs.jsonl');
}

export function appendPipelineRun(layout: MlopsLayout, record: PipelineRunRecord): void {
  fs.mkdirSync(pipelinesDir(layout), { recursive: true });
  appendRecord(historyFile(layout), JSON.stringify(record) + '\n');
}

/** Pipeline runs, oldest first; an unreadable line is left out. */
export function readPipelineRuns(layout: MlopsLayout): PipelineRunRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(historyFile(layout), 'utf8');
  } catch {
    return [];
  }
  const out: PipelineRunRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as PipelineRunRecord;
      if (typeof r.id === 'string' && Array.isArray(r.stages)) out.push(r);
    } catch {
      // a torn or damaged line
    }
  }
  return out;
}
