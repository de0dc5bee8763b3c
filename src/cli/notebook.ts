import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseParameterArgs } from '../core/notebooks/notebookFile';
import { checkNotebookInterpreter } from '../core/notebooks/notebookInterpreter';
import { runNotebookOnTarget } from '../core/notebooks/remoteNotebook';
import { describeFailure, runNotebook, type NotebookRunOutcome } from '../core/notebooks/runNotebook';
import { findTarget } from '../core/compute/targets';
import type { MlopsLayout } from '../core/workspace/layout';
import { UsageError } from './usage';
import { followRun, snapshotInputs } from './run';
import { printError } from './output';

/**
 * `mlops notebook run`: executes a notebook headless through a Jupyter kernel as a
 * tracked run. Exit code 0 when every cell succeeded, 1 when one failed (its index
 * and error are printed) or the notebook could not run.
 */
export async function notebookCommand(layout: MlopsLayout, sub: string | undefined, argv: string[]): Promise<number> {
  if (sub !== 'run') throw new UsageError(`Unknown "notebook ${sub ?? ''}".`);
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      param: { type: 'string', short: 'p', multiple: true },
      name: { type: 'string' },
      experiment: { type: 'string' },
      python: { type: 'string' },
      'cell-timeout': { type: 'string' },
      target: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError(`"notebook run" takes one notebook (.ipynb); it got ${positionals.length}.`);
  const notebook = path.resolve(positionals[0]);
  const timeout = values['cell-timeout'] === undefined ? undefined : Number(values['cell-timeout']);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError('--cell-timeout needs a number of seconds above 0');
  const parameters = parseParameterArgs(values.param ?? []);
  const target = values.target ? findTarget(layout.root, values.target) : undefined;
  if (target && target.type !== 'local') {
    if (values.python) throw new UsageError('--python chooses the interpreter here; on a target the notebook runs with its python3 (leave out --python or --target).');
    layout.ensure();
    const { run, outcome } = await runNotebookOnTarget(layout, target, {
      notebook, parameters, name: values.name, experiment: values.experiment, cellTimeoutS: timeout, onOutput: (text) => process.stdout.write(text),
    });
    return report(layout, run.runId, await followRun(run, outcome));
  }
  const python = values.python || process.env.MLOPS_PYTHON || (await defaultNotebookPython());
  layout.ensure();
  const inputs = await snapshotInputs(layout.root);
  const { run, outcome: finished } = await runNotebook(layout, {
    notebook,
    python,
    parameters,
    name: values.name,
    experiment: values.experiment,
    cellTimeoutS: timeout,
    inputs,
    onOutput: (text) => process.stdout.write(text),
  });
  return report(layout, run.runId, await followRun(run, finished));
}

/** Says how the notebook went: exit 0 when every cell ran, 1 naming the failed cell or why it did not run. */
function report(layout: MlopsLayout, runId: string, outcome: NotebookRunOutcome): number {
  const saved = outcome.artifact ? ` Executed notebook: ${path.join(layout.artifactsDir(runId), outcome.artifact)}` : '';
  if (outcome.ok) {
    printError(`mlops: run ${runId} ${outcome.status}. ${outcome.message}${saved}\n`);
    return 0;
  }
  if (outcome.failedCell) {
    printError(`mlops: ${describeFailure(outcome.failedCell)}\n`);
    // The user's own program output, passed through like its cell outputs (tracebacks are coloured).
    if (outcome.failedCell.traceback) process.stderr.write(`${outcome.failedCell.traceback.trimEnd()}\n`);
    if (outcome.kernelDied) printError(`mlops: ${outcome.message}\n`);
  } else {
    printError(`mlops: ${outcome.message}\n`);
  }
  printError(`mlops: run ${runId} ${outcome.status}.${saved}\n`);
  return 1;
}

/** python3, or where python3 lacks Jupyter the usual interpreter that has it (said on stderr). */
async function defaultNotebookPython(): Promise<string> {
  const check = await checkNotebookInterpreter('python3');
  if (!check?.alternative) return 'python3';
  printError(`mlops: python3 lacks ${check.missing?.join(', ') ?? 'Jupyter'}; running the notebook with ${check.alternative} (--python chooses another)\n`);
  return check.alternative;
}
