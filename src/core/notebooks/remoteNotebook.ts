// A notebook run on a target: no Jupyter is needed there. The tracking client's plain cell
// runner (python/mlops_workbench/_cells.py, shipped with every job) execs the code cells in
// one namespace with the target's Python (its `python`, else python3) and saves the executed notebook as an artifact; the
// run is tracked like a local notebook run (source notebook, tag `notebook`, cell events).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRemoteRun, type JobTarget, type RemoteRun } from '../compute/remoteRun';
import { targetPython } from '../compute/targets';
import { nextRunName } from '../tracking/runNaming';
import type { MlopsLayout } from '../workspace/layout';
import { checkParameters, NotebookError, readNotebook } from './notebookFile';
import { readResult, toOutcome, type NotebookRunOutcome, type NotebookRunRequest } from './runNotebook';

/** Where the cell runner leaves its result among the run's artifacts (read, then removed). */
const RESULT_FILE = 'notebook-result.json';

export type RemoteNotebookRequest = Pick<NotebookRunRequest, 'notebook' | 'parameters' | 'name' | 'experiment' | 'cellTimeoutS' | 'onOutput'>;

/**
 * Starts the notebook on the target; it must be inside the workspace (which is what is
 * shipped), and goes along even where git ignores it. A notebook that cannot run throws a
 * NotebookError before anything is started.
 */
export async function runNotebookOnTarget(layout: MlopsLayout, target: JobTarget, request: RemoteNotebookRequest): Promise<{ run: RemoteRun; outcome: Promise<NotebookRunOutcome> }> {
  const file = path.resolve(request.notebook);
  readNotebook(file);
  const parameters = checkParameters(request.parameters ?? {});
  const relative = path.relative(layout.root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new NotebookError(`${file} is outside the workspace ${layout.root}; a run on a target ships the workspace only. Move the notebook into it.`);
  }
  const shown = relative.split(path.sep).join('/');
  const args = ['-m', 'mlops_workbench._cells', '--notebook', shown];
  if (Object.keys(parameters).length) args.push('--parameters', JSON.stringify(parameters));
  if (request.cellTimeoutS && request.cellTimeoutS > 0) args.push('--timeout', String(request.cellTimeoutS));
  const run = await startRemoteRun({
    layout, target, command: targetPython(target), args, files: [shown], source: 'notebook', tags: { notebook: shown },
    name: request.name || nextRunName(layout.runsDir, path.basename(file).replace(/\.ipynb$/i, '')),
    experiment: request.experiment, onOutput: request.onOutput,
  });
  const outcome = run.finished.then((ended) => {
    const artifacts = layout.artifactsDir(run.runId);
    const resultFile = path.join(artifacts, RESULT_FILE);
    const result = readResult(resultFile);
    fs.rmSync(resultFile, { force: true });
    // The runner named the executed notebook by its path on the host; it came home beside the result.
    if (result?.output) result.output = path.join(artifacts, path.basename(result.output));
    return toOutcome(run.runId, ended, result, run.runDir);
  });
  return { run, outcome };
}
