import { parseArgs } from 'node:util';
import { formatNumber } from '../core/format';
import { reproduceRun } from '../core/governance/reproduce';
import type { Project } from '../core/project';
import { print, printJson, table } from './output';
import { wrongArguments } from './usage';

/** `mlops reproduce RUN`: exits 0 when the reproduction finished, 1 otherwise. */
export async function reproduceCommand(project: Project, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length !== 1) throw wrongArguments();
  const runId = project.tracking.resolveRunId(positionals[0]) ?? positionals[0];
  const result = await reproduceRun(project, runId, values.json ? undefined : (t) => process.stdout.write(t));
  if (values.json) printJson(result);
  else {
    print(`\nReproduced ${runId.slice(0, 8)} as ${result.runId.slice(0, 8)}: ${result.outcome.status}\n\n`);
    print(table(['METRIC', 'ORIGINAL', 'REPRODUCED'], result.comparison.map((c) => [c.key, formatNumber(c.original), formatNumber(c.reproduced)])));
  }
  return result.outcome.status === 'FINISHED' ? 0 : 1;
}
