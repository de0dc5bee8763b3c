import * as path from 'node:path';
import * as vscode from 'vscode';
import { cancelRemoteRun } from '../../core/compute/cancelRun';
import { readRemoteJob, type JobTarget } from '../../core/compute/remoteRun';
import { findTarget, targetPython } from '../../core/compute/targets';
import { appendEvents } from '../../core/tracking/eventWriter';
import { registerCommand } from '../commandErrors';
import { isProcessAlive } from '../../core/workspace/processes';
import type { RunSource } from '../../core/tracking/events';
import type { RunOutcome } from '../../core/tracking/launcher';
import type { RunSummary } from '../../core/tracking/store';
import { joinArguments, lastRecordedArguments, scriptCommand } from '../../core/tracking/scriptArguments';
import { pythonInterpreter } from '../pythonInterpreter';
import { pickTarget } from '../targets/pickTarget';
import { shipToTarget, showRunTerminal } from './runTerminal';
import { promptScriptArguments } from './scriptArgumentsPrompt';
import type { RunsNode, RunsTreeProvider } from './runsTree';
import type { TrackingService } from '../trackingService';

/** workspaceState key: the arguments each script last ran with, by file path. */
const ARGUMENTS_KEY = 'mlops.scriptArguments';

/** A command's argument: a run node from the Runs view, a run id, or nothing (then the user picks). */
type RunArg = RunsNode | string | undefined;

export class RunCommands {
  constructor(
    private readonly service: TrackingService,
    private readonly tree: RunsTreeProvider,
    private readonly view: vscode.TreeView<RunsNode>,
    private readonly state: vscode.Memento,
  ) {}

  register(): vscode.Disposable[] {
    return [
      registerCommand('mlops.runPythonFile', (uri?: vscode.Uri) => this.runPythonFile(uri)),
      registerCommand('mlops.runPythonFileOnTarget', (uri?: vscode.Uri, target?: string) => this.runPythonFileOnTarget(uri, target)),
      registerCommand('mlops.runPythonFileWithArguments', (uri?: vscode.Uri, args?: string[]) => this.runPythonFileWithArguments(uri, args)),
      registerCommand('mlops.rerunWithChanges', (arg: RunArg, args?: string[]) => this.rerunWithChanges(arg, args)),
      registerCommand('mlops.refreshRuns', () => this.service.refresh()),
      registerCommand('mlops.stopRun', (arg: RunArg) => this.stop(arg)),
      registerCommand('mlops.renameRun', (arg: RunArg) => this.rename(arg)),
      registerCommand('mlops.deleteRun', (arg: RunArg, options?: { confirmed?: boolean }) => this.delete(arg, options)),
      registerCommand('mlops.revealRunFolder', (arg: RunArg) => this.revealFolder(arg)),
      registerCommand('mlops.copyRunId', (arg: RunArg) => this.copyId(arg)),
      registerCommand('mlops.revealRun', (arg: RunArg) => this.reveal(arg)),
      registerCommand('mlops.openArtifact', (uri: vscode.Uri) => vscode.commands.executeCommand('vscode.open', uri)),
    ];
  }

  /** Runs a Python file as a tracked run; returns the run id. */
  async runPythonFile(uri?: vscode.Uri): Promise<string | undefined> {
    const target = await this.pythonFile(uri);
    return this.runCommand(await pythonInterpreter(target), [target.fsPath], this.service.root, target.fsPath);
  }

  /** "Run with Arguments…": asks for arguments (the file's last ones, its argparse options) and runs it; returns the run id. */
  async runPythonFileWithArguments(uri?: vscode.Uri, args?: string[]): Promise<string | undefined> {
    const target = await this.pythonFile(uri);
    const python = await pythonInterpreter(target);
    const chosen = args ?? (await promptScriptArguments(target.fsPath, this.lastArguments(target.fsPath), python, this.service.root));
    if (!chosen) return undefined;
    return this.runScript(python, [], target.fsPath, chosen, this.service.root);
  }

  /**
   * "Run Python File on Target…": ships the project (code, its uncommitted change, the data
   * snapshot) to a target the user picks and runs `<its python> <file>` there as a tracked run, its
   * output in the script's terminal; returns the run id. Closing the terminal lets go of the run,
   * which goes on there (the Targets view cancels it).
   */
  async runPythonFileOnTarget(uri?: vscode.Uri, targetName?: string): Promise<string | undefined> {
    const file = await this.pythonFile(uri);
    const root = this.service.root;
    const script = path.relative(root, file.fsPath);
    if (script.startsWith('..') || path.isAbsolute(script)) throw new Error(`${file.fsPath} is outside the workspace; a run on a target ships the workspace, so only its files can run there.`);
    const target = targetName ? findTarget(root, targetName) : await pickTarget(root, `Run ${path.basename(file.fsPath)} on…`, 'The project goes there at its commit, with its uncommitted change and data snapshot.');
    if (!target) return undefined;
    if (target.type === 'local') return this.runPythonFile(file);
    return this.runOnTarget(target, targetPython(target), [script.split(path.sep).join('/')], file.fsPath, 'script');
  }

  /** Ships the project to `target` and runs the command there, its output in the terminal of `key` on that target; returns the run id. */
  private async runOnTarget(target: JobTarget, command: string, args: string[], key: string, source: RunSource, experiment?: string): Promise<string> {
    const file = path.basename(args.find((a) => !a.startsWith('-')) ?? command);
    const run = await shipToTarget(
      { target: target.name, file, key, line: `${joinArguments([command, ...args])} on ${target.name}` },
      (onOutput) => this.service.launchRemote({ target, command, args, source, experiment, onOutput }),
      (r) => r,
    );
    reportFailure(run.finished);
    return run.runId;
  }

  /** "Rerun with Changes…": the run's command again, its arguments edited first; returns the new run id. */
  async rerunWithChanges(arg: RunArg, args?: string[]): Promise<string | undefined> {
    const summary = await this.pickRun(arg, 'Rerun which run?');
    if (!summary) return undefined;
    const run = this.service.current!.getRun(summary.id)!;
    const argv = run.capture.argv;
    if (run.source === 'notebook' || !argv?.length || !run.capture.cwd) {
      throw new Error(`Run "${run.name}" did not record a script's command, so it cannot be rerun; only scripts run by MLOps (Run Python File, "mlops run") can. Notebooks: use Run Notebook as Experiment.`);
    }
    // A run on a target reruns there: its command line is relative to the shipped project, which mirrors the workspace.
    const job = readRemoteJob(this.service.current!.layout, run.id);
    if (job) {
      const target = findTarget(this.service.root, job.target);
      const command = scriptCommand(argv, this.service.root);
      const chosen = args ?? (command ? await promptScriptArguments(command.script, command.args, command.python, this.service.root) : await promptScriptArguments(argv[0], argv.slice(1)));
      if (!chosen) return undefined;
      const line = command ? [...command.flags, path.relative(this.service.root, command.script).split(path.sep).join('/'), ...chosen] : chosen;
      if (target.type === 'local') return this.runCommand(argv[0], line, this.service.root, command?.script ?? argv[0], run.experiment, command ? 'script' : 'command');
      return this.runOnTarget(target, argv[0], line, command?.script ?? argv[0], command ? 'script' : 'command', run.experiment);
    }
    const command = scriptCommand(argv, run.capture.cwd);
    if (command) {
      const chosen = args ?? (await promptScriptArguments(command.script, command.args, command.python, run.capture.cwd));
      return chosen && this.runScript(command.python, command.flags, command.script, chosen, run.capture.cwd, run.experiment);
    }
    // Another command (`mlops run -- ./job.sh --fast`): its arguments, no options to offer.
    const chosen = args ?? (await promptScriptArguments(argv[0], argv.slice(1)));
    return chosen && this.runCommand(argv[0], chosen, run.capture.cwd, argv[0], run.experiment, 'command');
  }

  private async pythonFile(uri?: vscode.Uri): Promise<vscode.Uri> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file' || !target.fsPath.endsWith('.py')) {
      throw new Error('Open a Python file (.py) first, or right-click one in the Explorer.');
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
    if (doc?.isDirty) await doc.save();
    return target;
  }

  /** Runs `python [flags] script args` as a tracked run in the script's terminal, remembering args for the script. */
  private async runScript(python: string, flags: string[], script: string, args: string[], cwd: string, experiment?: string): Promise<string> {
    await this.rememberArguments(script, args);
    return this.runCommand(python, [...flags, script, ...args], cwd, script, experiment);
  }

  private async runCommand(command: string, args: string[], cwd: string, terminalKey: string, experiment?: string, source: RunSource = 'script'): Promise<string> {
    await this.service.ready;
    const term = showRunTerminal(path.basename(terminalKey, '.py'), terminalKey);
    term.write(`[MLOps] ${joinArguments([command, ...args])}\n`);
    const run = await this.service.launch({
      command,
      args,
      cwd,
      experiment,
      source,
      capturePackages: vscode.workspace.getConfiguration('mlops').get<boolean>('capture.packages', true),
      onOutput: term.write,
      onWarning: (message) => term.write(`[MLOps] ${message}\n`),
    });
    term.attach(run);
    reportFailure(run.finished);
    return run.runId;
  }

  /** The arguments the script last ran with: remembered from this workspace's commands, else its latest recorded run's. */
  private lastArguments(script: string): string[] {
    return this.state.get<Record<string, string[]>>(ARGUMENTS_KEY, {})[script]
      ?? (this.service.current && lastRecordedArguments(this.service.current, script)) ?? [];
  }

  private rememberArguments(script: string, args: string[]): Thenable<void> {
    return this.state.update(ARGUMENTS_KEY, { ...this.state.get<Record<string, string[]>>(ARGUMENTS_KEY, {}), [script]: args });
  }

  private async stop(arg: RunArg): Promise<void> {
    const run = await this.pickRun(arg, 'Stop which run?', (r) => r.status === 'RUNNING');
    if (!run) return;
    const here = this.service.stopLaunched(run.id);
    if (here) {
      await here;
      return;
    }
    const tracking = this.service.current!;
    // On a target: its pid is the host's, never one to signal here. Cancel it there; its follower records KILLED.
    if (readRemoteJob(tracking.layout, run.id)) {
      await cancelRemoteRun(tracking.layout, run.id);
      return;
    }
    // Launched elsewhere (a terminal's `mlops run`): end its process group; that launcher records KILLED.
    const pid = tracking.getRun(run.id)?.capture.pid;
    if (pid !== undefined && isProcessAlive(pid)) {
      process.kill(-pid, 'SIGTERM');
      return;
    }
    appendEvents(tracking.layout.eventsFile(run.id), [{ type: 'run_end', status: 'KILLED', exit_code: null }]);
    this.service.refresh();
    void vscode.window.showInformationMessage(`MLOps: run "${run.name}" had no live process; marked it KILLED.`);
  }

  private async rename(arg: RunArg): Promise<void> {
    const run = await this.pickRun(arg, 'Rename which run?');
    if (!run) return;
    const name = await vscode.window.showInputBox({
      title: 'Rename Run',
      value: run.name,
      prompt: `New name for run ${run.id.slice(0, 8)}`,
      validateInput: (v) => (v.trim() ? undefined : 'A run name cannot be empty.'),
    });
    if (name === undefined) return;
    this.service.current!.renameRun(run.id, name);
    this.service.changedByUser();
  }

  /** Asks first, unless a caller passes confirmed (as Clean Up Target Disk's does). */
  private async delete(arg: RunArg, options: { confirmed?: boolean } = {}): Promise<void> {
    const run = await this.pickRun(arg, 'Delete which run?', (r) => r.status !== 'RUNNING');
    if (!run) return;
    if (run.status === 'RUNNING') throw new Error(`Run "${run.name}" is still running; stop it before deleting it.`);
    const answer = options.confirmed ? 'Delete' : await vscode.window.showWarningMessage(
      `Delete run "${run.name}"? Its event log, metrics and artifacts are removed from disk.`,
      { modal: true },
      'Delete',
    );
    if (answer !== 'Delete') return;
    (await this.service.project()).deleteRun(run.id);
    this.service.changedByUser();
  }

  private async revealFolder(arg: RunArg): Promise<void> {
    const run = await this.pickRun(arg, 'Reveal the folder of which run?');
    if (!run) return;
    const folder = vscode.Uri.file(this.service.current!.layout.runDir(run.id));
    // revealFileInOS needs a desktop; the Explorer works in every VS Code, including the web.
    await vscode.commands.executeCommand(vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName ? 'revealFileInOS' : 'revealInExplorer', folder);
  }

  private async copyId(arg: RunArg): Promise<void> {
    const run = await this.pickRun(arg, 'Copy the id of which run?');
    if (!run) return;
    await vscode.env.clipboard.writeText(run.id);
    void vscode.window.setStatusBarMessage(`Copied run id ${run.id}`, 3000);
  }

  private async reveal(arg: RunArg): Promise<void> {
    const run = await this.pickRun(arg, 'Reveal which run?');
    const node = run && this.tree.runNode(run.id);
    if (node) await this.view.reveal(node, { select: true, focus: true, expand: true });
  }

  private async pickRun(arg: RunArg, title: string, filter: (r: RunSummary) => boolean = () => true): Promise<RunSummary | undefined> {
    const tracking = await this.service.ready;
    const id = typeof arg === 'string' ? tracking.resolveRunId(arg) ?? arg : arg?.kind === 'run' ? arg.run.id : undefined;
    if (id) {
      const found = tracking.listRuns().find((r) => r.id === id);
      if (!found) throw new Error(`No run has the id "${id}"; it may have been deleted.`);
      return found;
    }
    const runs = tracking.listRuns().filter(filter);
    if (!runs.length) {
      void vscode.window.showInformationMessage('MLOps: there is no run to choose from.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.name, description: `${r.status} · ${r.experiment}`, detail: r.id, run: r })),
      { title, matchOnDescription: true, matchOnDetail: true },
    );
    return picked?.run;
  }
}

/** Says why a run failed (its error), or could not go on (e.g. a full disk before it started), once it ends. */
function reportFailure(finished: Promise<RunOutcome>): void {
  void finished.then((outcome) => {
    if (outcome.error) void vscode.window.showErrorMessage(`MLOps: ${outcome.error}`);
  }, (err: Error) => void vscode.window.showErrorMessage(`MLOps: ${err.message}`));
}
