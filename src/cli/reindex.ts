import { TO_WRITE, withTracking } from './open';
import { print } from './output';
import { refuseArguments } from './usage';

/** `mlops reindex`: rebuilds tracking.db from the event logs; refused while another process owns the index. */
export function reindexCommand(root: string, argv: string[]): Promise<number> {
  refuseArguments('reindex', argv);
  return withTracking(root, async (t) => {
    if (t.readOnly) throw new Error(`The tracking index cannot be rebuilt here: ${t.whyReadOnly}. Close VS Code (or the other mlops command) and try again.`);
    const result = await t.reindex();
    print(`Reindexed ${t.listRuns().length} runs (${result.lines} log lines).\n`);
    return 0;
  }, TO_WRITE);
}
