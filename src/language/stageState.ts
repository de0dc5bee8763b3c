import { formatTime } from '../core/format';
import { pipelineStatus, type StageState } from '../core/pipelines/status';

const WORDS: Record<StageState, string> = { 'up-to-date': 'up to date', changed: 'changed', restorable: 'outs missing (restored from the snapshot without running)' };

/**
 * A stage's state as the pipelines engine sees mlops.yaml on disk (`mlops pipeline status`):
 * up to date or changed and why, and its last outcome. Undefined when the pipeline cannot be
 * read (a broken stage is a diagnostic already) or has no such stage (not saved yet).
 */
export async function stageState(root: string, stage: string): Promise<string | undefined> {
  let found;
  try {
    found = (await pipelineStatus(root)).stages.find((s) => s.name === stage);
  } catch {
    return undefined;
  }
  if (!found) return undefined;
  const reasons = found.reasons.length ? ` (${found.reasons.join('; ')})` : '';
  const last = found.last ? `; last pipeline run ${formatTime(found.last.time)}: ${found.last.outcome}` : '';
  return `${WORDS[found.state]}${reasons}${last}`;
}
