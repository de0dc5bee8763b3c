import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listMappings, removeUnusedRunDir } from '../../core/notebooks/notebookMapping';
import { appendEvents } from '../../core/tracking/eventWriter';
import { MlopsLayout } from '../../core/workspace/layout';
import { isProcessAlive } from '../../core/workspace/processes';
import type { TrackingService } from '../trackingService';
import { NotebookSession } from './notebookSession';
import { notebookUriOf, runNotebookAsExperiment, runNotebookOnTargetCommand, type RunNotebookOptions } from './runNotebookCommand';
import { registerCommand } from '../commandErrors';

/**
 * Notebook tracking in VS Code: a tracked run per open notebook per kernel
 * session (NotebookSession), the commands "Run Notebook as Experiment", "Run
 * Notebook on Target…" and "End Notebook Run", and clean-up after a window that closed without ending its
 * notebooks' runs. Everything it starts is disposed with the extension.
 */
export class NotebookTracking implements vscode.Disposable {
  private readonly sessions = new Map<string, NotebookSession>();
  private readonly layout: MlopsLayout;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly service: TrackingService, private readonly log: vscode.OutputChannel) {
    this.layout = new MlopsLayout(service.root);
  }

  register(): vscode.Disposable[] {
    const cmd = registerCommand;
    this.disposables.push(
      vscode.workspace.onDidOpenNotebookDocument((doc) => this.sessionFor(doc)),
      vscode.workspace.onDidChangeNotebookDocument((e) => this.sessionFor(e.notebook)?.onDidChange(e)),
      vscode.workspace.onDidCloseNotebookDocument((doc) => void this.close(doc)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('mlops.notebooks.trackExecutions')) this.openAll();
      }),
    );
    this.cleanUpStale(); // before open notebooks overwrite their mappings
    this.openAll();
    return [
      this,
      cmd('mlops.runNotebookAsExperiment', (arg?: unknown, options?: RunNotebookOptions) => runNotebookAsExperiment(this.service, arg, options)),
      cmd('mlops.runNotebookOnTarget', (arg?: unknown, options?: RunNotebookOptions & { target?: string }) => runNotebookOnTargetCommand(this.service, arg, options)),
      cmd('mlops.endNotebookRun', (arg?: unknown) => this.endRun(arg)),
    ];
  }

  /** The session of a notebook this extension tracks (a saved .ipynb inside the workspace folder). */
  sessionFor(doc: vscode.NotebookDocument): NotebookSession | undefined {
    const key = doc.uri.toString();
    const existing = this.sessions.get(key);
    if (existing) return existing;
    if (!this.tracks(doc)) return undefined;
    const session = new NotebookSession(doc, this.layout, this.service, this.log);
    this.sessions.set(key, session);
    return session;
  }

  private tracks(doc: vscode.NotebookDocument): boolean {
    if (!vscode.workspace.getConfiguration('mlops').get<boolean>('notebooks.trackExecutions', true)) return false;
    if (doc.uri.scheme !== 'file' || !doc.uri.fsPath.toLowerCase().endsWith('.ipynb')) return false;
    const relative = path.relative(this.service.root, doc.uri.fsPath);
    return !!relative && !relative.startsWith('..') && !path.isAbsolute(relative);
  }

  private openAll(): void {
    for (const doc of vscode.workspace.notebookDocuments) this.sessionFor(doc);
  }

  private async close(doc: vscode.NotebookDocument): Promise<void> {
    const session = this.sessions.get(doc.uri.toString());
    if (!session) return;
    this.sessions.delete(doc.uri.toString());
    await session.end('close');
  }

  /** `mlops.endNotebookRun`: ends the notebook's current run now; cells run later start a new one. */
  async endRun(arg?: unknown): Promise<string | undefined> {
    const uri = notebookUriOf(arg);
    const doc = uri && vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc) throw new Error('Open the notebook whose run should end.');
    const session = this.sessionFor(doc);
    if (!session) throw new Error(`${path.basename(doc.uri.fsPath)} is not tracked: only saved notebooks inside the workspace folder are (setting mlops.notebooks.trackExecutions).`);
    await session.settled();
    const ended = await session.end('command');
    if (!ended) {
      void vscode.window.showInformationMessage(`MLOps: no cell of ${path.basename(doc.uri.fsPath)} has run since its last run ended; there is no run to end.`);
      return undefined;
    }
    this.service.refresh();
    void vscode.window.setStatusBarMessage(`MLOps: ended notebook run ${ended.slice(0, 8)}; cells you run next start a new run.`, 5000);
    return ended;
  }

  /**
   * Runs left RUNNING by a window that is gone (VS Code crashed or was killed):
   * their mapping names an extension host of this machine that no longer runs.
   */
  private cleanUpStale(): void {
    let changed = false;
    for (const { file, mapping } of listMappings(this.layout)) {
      const { owner } = mapping;
      if (owner.host !== os.hostname() || owner.pid === process.pid || isProcessAlive(owner.pid)) continue;
      if (startedWithoutEnd(this.layout.eventsFile(mapping.run_id))) {
        appendEvents(this.layout.eventsFile(mapping.run_id), [{ type: 'run_end', status: 'KILLED', exit_code: null }]);
        this.log.appendLine(`Notebook run ${mapping.run_id} of ${mapping.notebook} was left running by a window that closed; marked it KILLED.`);
        changed = true;
      }
      for (const id of [mapping.run_id, mapping.next_run_id]) {
        if (id) removeUnusedRunDir(this.layout, id);
      }
      fs.rmSync(file, { force: true });
    }
    if (changed) this.service.queueRefresh();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const session of this.sessions.values()) session.disposeSync();
    this.sessions.clear();
  }
}

/** Whether a run's log has its run_start but no run_end (read whole: notebook runs' logs are small). */
function startedWithoutEnd(events: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(events, 'utf8');
  } catch {
    return false;
  }
  return text.includes('"type":"run_start"') && !text.includes('"type":"run_end"');
}

/**
 * Wires notebook tracking into the extension; call from activate() with the
 * workspace's TrackingService and output channel. The returned disposables go
 * into context.subscriptions (they are also added there).
 */
export function registerNotebookTracking(context: vscode.ExtensionContext, service: TrackingService, log: vscode.OutputChannel): NotebookTracking {
  const tracking = new NotebookTracking(service, log);
  context.subscriptions.push(...tracking.register());
  return tracking;
}
