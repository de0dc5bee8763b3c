import * as path from 'node:path';
import * as vscode from 'vscode';
import { findTarget, targetPython } from '../../core/compute/targets';
import { parameterDefaults, parseParameterArgs, parseParameterValue, readNotebook, type NotebookJson, type Parameters } from '../../core/notebooks/notebookFile';
import { checkNotebookInterpreter, describeInterpreterCheck, requireNotebookInterpreter, USUAL_NOTEBOOK_INTERPRETERS } from '../../core/notebooks/notebookInterpreter';
import { runNotebookOnTarget } from '../../core/notebooks/remoteNotebook';
import { describeFailure, NotebookError, prepareNotebookRun, type NotebookRunOutcome } from '../../core/notebooks/runNotebook';
import { knownPythonInterpreters, pythonInterpreter } from '../pythonInterpreter';
import { shipToTarget, showRunTerminal } from '../runs/runTerminal';
import { pickTarget } from '../targets/pickTarget';
import type { TrackingService } from '../trackingService';

/** Options of `mlops.runNotebookAsExperiment` for callers that do not want prompts (tests, keybindings, other extensions). */
export interface RunNotebookOptions {
  /** Parameter values; when given, nothing is asked. */
  parameters?: Record<string, unknown>;
  name?: string;
  experiment?: string;
  /** The interpreter whose nbclient and ipykernel run the notebook (default: the chosen Python interpreter). */
  python?: string;
  cellTimeoutS?: number;
  /** Show the outcome as a notification (default true). */
  notify?: boolean;
}

/** The notebook a command was invoked on: a Uri, the notebook toolbar's context, or the active notebook editor. */
export function notebookUriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const ctx = arg as { notebookEditor?: { notebookUri?: vscode.Uri }; uri?: vscode.Uri; notebook?: { uri?: vscode.Uri } } | undefined;
  const fromArg = ctx?.notebookEditor?.notebookUri ?? ctx?.notebook?.uri ?? ctx?.uri;
  if (fromArg instanceof vscode.Uri) return fromArg;
  const editor = vscode.window.activeNotebookEditor;
  if (editor) return editor.notebook.uri;
  const text = vscode.window.activeTextEditor?.document.uri;
  return text && text.fsPath.endsWith('.ipynb') ? text : undefined;
}

/**
 * "Run Notebook as Experiment": executes the notebook headless through a Jupyter
 * kernel (nbclient in the chosen interpreter) as a tracked run, with parameters
 * injected after its `parameters` cell; resolves with the outcome once it ends,
 * or undefined when the user cancelled the prompts.
 */
export async function runNotebookAsExperiment(service: TrackingService, arg?: unknown, options: RunNotebookOptions = {}): Promise<NotebookRunOutcome | undefined> {
  const uri = await savedNotebook(arg);
  const nb = readNotebook(uri.fsPath);
  const parameters = options.parameters ?? (await promptParameters(nb, path.basename(uri.fsPath)));
  if (!parameters) return undefined;
  await service.ready;
  if (options.python) await requireNotebookInterpreter(options.python);
  const python = options.python ?? (await notebookInterpreter(uri));
  if (!python) return undefined;
  const term = showRunTerminal(path.basename(uri.fsPath).replace(/\.ipynb$/i, ''), uri.fsPath);
  term.write(`[MLOps] ${python} runs ${uri.fsPath} through a Jupyter kernel\n`);
  const prepared = prepareNotebookRun({
    notebook: uri.fsPath,
    python,
    parameters,
    name: options.name,
    experiment: options.experiment,
    cellTimeoutS: options.cellTimeoutS,
    capturePackages: vscode.workspace.getConfiguration('mlops').get<boolean>('capture.packages', true),
    onOutput: term.write,
  }, service.root);
  let outcome: NotebookRunOutcome;
  try {
    const run = await service.launch(prepared.launch);
    term.attach(run);
    outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MLOps: running ${path.basename(uri.fsPath)}`, cancellable: true },
      (_progress, token) => {
        token.onCancellationRequested(() => void run.stop());
        return prepared.outcome(run);
      },
    );
  } catch (err) {
    prepared.discard();
    throw err;
  }
  service.refresh();
  if (options.notify !== false) void notify(outcome);
  return outcome;
}

/**
 * "Run Notebook on Target…": the notebook's code cells run on a target the user picks (the
 * project shipped there; the target's Python, no Jupyter needed) as a tracked run, as `mlops
 * notebook run --target` does; resolves with the outcome once it ends, or undefined when the
 * prompts were cancelled. Closing its terminal lets go of the run, which goes on there.
 */
export async function runNotebookOnTargetCommand(service: TrackingService, arg?: unknown, options: RunNotebookOptions & { target?: string } = {}): Promise<NotebookRunOutcome | undefined> {
  const uri = await savedNotebook(arg);
  const nb = readNotebook(uri.fsPath);
  const name = path.basename(uri.fsPath);
  const target = options.target ? findTarget(service.root, options.target) : await pickTarget(service.root, `Run ${name} on…`, 'Its code cells run there with the target\'s Python, the project shipped with them.');
  if (!target) return undefined;
  if (target.type === 'local') return runNotebookAsExperiment(service, uri, options);
  const parameters = options.parameters ?? (await promptParameters(nb, name));
  if (!parameters) return undefined;
  const project = await service.project();
  const started = await shipToTarget(
    { target: target.name, file: name, key: uri.fsPath, line: `${name} on ${target.name}: its code cells with ${targetPython(target)} there` },
    (onOutput) => runNotebookOnTarget(project.layout, target, { notebook: uri.fsPath, parameters, name: options.name, experiment: options.experiment, cellTimeoutS: options.cellTimeoutS, onOutput }),
    (s) => s.run,
  );
  service.refresh();
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `MLOps: running ${name} on ${target.name}`, cancellable: true },
    (_progress, token) => {
      token.onCancellationRequested(() => void started.run.stop());
      return started.outcome;
    },
  );
  service.refresh();
  if (options.notify !== false) void notify(outcome);
  return outcome;
}

/** The notebook a command was invoked on, saved first when open with unsaved changes. */
async function savedNotebook(arg: unknown): Promise<vscode.Uri> {
  const uri = notebookUriOf(arg);
  if (!uri || uri.scheme !== 'file' || !uri.fsPath.toLowerCase().endsWith('.ipynb')) {
    throw new Error('Open a notebook (.ipynb) first, or right-click one in the Explorer.');
  }
  const open = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  return uri;
}

/**
 * The chosen interpreter when it can run notebooks; else, asking first, one that
 * can (the Python extension's, python3, /usr/bin/python3). Undefined when declined.
 * Throws naming the fix when none can, before any run exists.
 */
async function notebookInterpreter(uri: vscode.Uri): Promise<string | undefined> {
  const chosen = await pythonInterpreter(uri);
  const check = await checkNotebookInterpreter(chosen, [...(await knownPythonInterpreters()), ...USUAL_NOTEBOOK_INTERPRETERS]);
  if (!check) return chosen;
  if (!check.alternative) throw new NotebookError(describeInterpreterCheck(check));
  const use = `Use ${check.alternative}`;
  const answer = await vscode.window.showWarningMessage(
    `MLOps: ${chosen} cannot run notebooks (it lacks ${check.missing?.join(', ') ?? 'Jupyter'}). ${check.alternative} has nbclient and ipykernel: run ${path.basename(uri.fsPath)} with it?`,
    { modal: true },
    use,
  );
  return answer === use ? check.alternative : undefined;
}

async function notify(outcome: NotebookRunOutcome): Promise<void> {
  const show = 'Show Run';
  const answer = outcome.ok
    ? await vscode.window.showInformationMessage(`MLOps: notebook run finished. ${outcome.message}`, show)
    : await vscode.window.showErrorMessage(`MLOps: notebook run ${outcome.status}: ${outcome.failedCell ? describeFailure(outcome.failedCell) : outcome.message}`, show);
  if (answer === show) await vscode.commands.executeCommand('mlops.revealRun', outcome.runId);
}

/**
 * Asks for each parameter of the `parameters` cell, its default filled in; a
 * notebook without one gets a single `key=value …` box. Undefined when cancelled.
 */
async function promptParameters(nb: NotebookJson, name: string): Promise<Parameters | undefined> {
  const defaults = parameterDefaults(nb);
  if (!defaults.length) {
    const typed = await vscode.window.showInputBox({
      title: `Run ${name} as Experiment`,
      prompt: 'The notebook has no cell tagged "parameters". Values to inject at the top (key=value, separated by spaces), or leave empty.',
      placeHolder: 'lr=0.01 epochs=10',
      validateInput: (v) => (splitPairs(v).every((p) => /^[A-Za-z_]\w*=/.test(p)) ? undefined : 'Use key=value pairs, e.g. lr=0.01 epochs=10'),
    });
    return typed === undefined ? undefined : parseParameterArgs(splitPairs(typed));
  }
  const out: Parameters = {};
  for (const [i, p] of defaults.entries()) {
    const value = await vscode.window.showInputBox({
      title: `Run ${name} as Experiment (${i + 1}/${defaults.length}): ${p.name}`,
      prompt: `Value of ${p.name}${p.comment ? ` — ${p.comment}` : ''} (a Python literal: 0.01, "adam", True, [1, 2]). Enter keeps the notebook's value.`,
      value: p.source,
    });
    if (value === undefined) return undefined;
    if (value.trim() !== p.source) out[p.name] = parseParameterValue(value);
  }
  return out;
}

/** `a=1 b="x y"` → ['a=1', 'b="x y"']: spaces inside quotes stay. */
function splitPairs(text: string): string[] {
  return (text.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []).filter(Boolean);
}
