import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findNotebookRunner } from '../tracking/bundledFiles';
import type { RunStatus } from '../tracking/events';
import { launchTrackedRun, type LaunchOptions, type RunOutcome, type TrackedProcess } from '../tracking/launcher';
import type { RunInput } from '../tracking/store';
import type { MlopsLayout } from '../workspace/layout';
import { requireNotebookInterpreter } from './notebookInterpreter';
import { checkParameters, describeCell, NotebookError, readNotebook, type Parameters } from './notebookFile';

/** What to run: a notebook, the interpreter whose nbclient and ipykernel run it, and its parameters. */
export interface NotebookRunRequest {
  /** The .ipynb file. */
  notebook: string;
  /** The interpreter (it needs nbclient and ipykernel); its kernel runs the cells. */
  python: string;
  parameters?: Record<string, unknown>;
  /** Run name (default: the notebook's file name without .ipynb and a number, `explore-2`). */
  name?: string;
  experiment?: string;
  /** The kernel's working folder (default: the notebook's folder, as in Jupyter). */
  cwd?: string;
  /** Seconds one cell may run; 0 or absent: no limit. */
  cellTimeoutS?: number;
  capturePackages?: boolean;
  inputs?: RunInput[];
  onOutput?: (text: string) => void;
}

export interface FailedCell {
  /** 0-based index in the notebook as written (the injected parameters cell has none: -1). */
  index: number;
  executionCount: number | null;
  /** The cell inserted with the parameters failed (a value Python could not take). */
  injected: boolean;
  /** `ZeroDivisionError: division by zero`, or what happened to the kernel. */
  error: string;
  /** The Python traceback, colours removed, when the cell raised. */
  traceback?: string;
}

export interface NotebookRunOutcome {
  runId: string;
  status: RunStatus;
  /** True when every code cell ran without error. */
  ok: boolean;
  /** Code cells executed (including a failed one). */
  cellsRun: number;
  failedCell?: FailedCell;
  kernelDied: boolean;
  /** One sentence for a person: what ran, or what failed and where. */
  message: string;
  /** The executed notebook, relative to the run's artifacts folder, when it was saved. */
  artifact?: string;
}

/** The runner's result file (src/core/notebooks/run_notebook.py writes it; python/mlops_workbench/_cells.py on a target). */
export interface HelperResult {
  status: 'ok' | 'cell_error' | 'kernel_died' | 'timeout' | 'invalid_notebook' | 'missing_dependency' | 'stopped' | 'error';
  message: string;
  cells_run: number;
  output?: string;
  ename?: string;
  evalue?: string;
  traceback?: string;
  kernel_exit_code?: number | null;
  cell?: { index: number | null; execution_count: number | null; injected: boolean };
}

/** A checked notebook run, ready to launch: `launch` goes to the launcher, `outcome` reads the result. */
export class PreparedNotebookRun {
  readonly launch: Omit<LaunchOptions, 'layout'>;
  readonly parameters: Parameters;
  private readonly tmp: string;
  private readonly resultFile: string;

  constructor(readonly request: NotebookRunRequest, root?: string) {
    const file = path.resolve(request.notebook);
    readNotebook(file); // a clear message before any run exists
    this.parameters = checkParameters(request.parameters ?? {});
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-notebook-'));
    this.resultFile = path.join(this.tmp, 'result.json');
    const args = [findNotebookRunner(), '--notebook', file, '--result', this.resultFile];
    if (Object.keys(this.parameters).length) args.push('--parameters', JSON.stringify(this.parameters));
    if (request.cwd) args.push('--cwd', request.cwd);
    if (request.cellTimeoutS && request.cellTimeoutS > 0) args.push('--timeout', String(request.cellTimeoutS));
    const relative = root ? path.relative(root, file) : '';
    const shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative.split(path.sep).join('/') : file;
    this.launch = {
      command: request.python,
      args,
      cwd: request.cwd ?? path.dirname(file),
      name: request.name,
      nameBase: path.basename(file).replace(/\.ipynb$/i, ''),
      experiment: request.experiment,
      source: 'notebook',
      capturePackages: request.capturePackages,
      inputs: request.inputs,
      tags: { notebook: shown },
      onOutput: request.onOutput,
    };
  }

  /** Waits for the launched run and says how the notebook went. */
  async outcome(run: TrackedProcess): Promise<NotebookRunOutcome> {
    const ended = await run.finished;
    try {
      return toOutcome(run.runId, ended, readResult(this.resultFile), run.runDir);
    } finally {
      fs.rmSync(this.tmp, { recursive: true, force: true });
    }
  }

  /** Removes the temporary folder when the run is never launched. */
  discard(): void {
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Checks the notebook and parameters (NotebookError) and prepares the launch. */
export function prepareNotebookRun(request: NotebookRunRequest, root?: string): PreparedNotebookRun {
  return new PreparedNotebookRun(request, root);
}

/**
 * Runs a notebook as a tracked run of the workspace `layout` and waits for it (the CLI's path).
 * A notebook that cannot start (unreadable, an interpreter without Jupyter) throws a NotebookError and leaves no run.
 */
export async function runNotebook(layout: MlopsLayout, request: NotebookRunRequest): Promise<{ run: TrackedProcess; outcome: Promise<NotebookRunOutcome> }> {
  readNotebook(path.resolve(request.notebook));
  await requireNotebookInterpreter(request.python);
  const prepared = prepareNotebookRun(request, layout.root);
  layout.ensure();
  const run = launchTrackedRun({ ...prepared.launch, layout });
  return { run, outcome: prepared.outcome(run) };
}

export function readResult(file: string): HelperResult | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as HelperResult;
  } catch {
    return undefined;
  }
}

export function toOutcome(runId: string, ended: RunOutcome, result: HelperResult | undefined, runDir: string): NotebookRunOutcome {
  const base = { runId, status: ended.status, cellsRun: result?.cells_run ?? 0, kernelDied: result?.status === 'kernel_died' };
  const artifactsDir = path.join(runDir, 'artifacts');
  const artifact = result?.output && fs.existsSync(result.output) ? path.relative(artifactsDir, result.output).split(path.sep).join('/') : undefined;
  if (ended.error) return { ...base, ok: false, message: ended.error };
  if (ended.status === 'KILLED') return { ...base, ok: false, message: result?.message || 'The notebook run was stopped.', artifact };
  if (!result) {
    return { ...base, ok: false, message: `The notebook runner ended with exit code ${ended.exitCode ?? 'unknown'} without a result; see the run's output.log.` };
  }
  if (result.status === 'ok' && ended.status === 'FINISHED') return { ...base, ok: true, message: result.message, artifact };
  let failedCell: FailedCell | undefined;
  if (result.cell) {
    const error = result.status === 'cell_error' ? `${result.ename ?? 'Error'}: ${result.evalue ?? ''}`.replace(/: $/, '')
      : result.status === 'timeout' ? 'the cell timed out'
      : `the kernel died${typeof result.kernel_exit_code === 'number' ? ` (exit code ${result.kernel_exit_code})` : ''}`;
    failedCell = {
      index: result.cell.index ?? -1,
      executionCount: result.cell.execution_count,
      injected: result.cell.injected,
      error,
      ...(result.traceback ? { traceback: result.traceback } : {}),
    };
  }
  return { ...base, ok: false, message: result.message || `The notebook run ended ${ended.status}.`, failedCell, artifact };
}

/** "cell 4 (index 3, In [4]) failed: ZeroDivisionError: division by zero", for logs and messages. */
export function describeFailure(cell: FailedCell): string {
  const where = cell.injected ? 'the injected parameters cell' : describeCell(cell.index, cell.executionCount);
  return `${where} failed: ${cell.error}`;
}

export { NotebookError };
