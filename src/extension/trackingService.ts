import * as vscode from 'vscode';
import { Project } from '../core/project';
import type { ModelVersion } from '../core/registry/registry';
import type { LaunchOptions, RunOutcome, TrackedProcess } from '../core/tracking/launcher';
import type { Tracking } from '../core/tracking/tracking';

const SAVE_DELAY_MS = 2000;

/**
 * The extension's handle on the workspace's engine (tracking, snapshots,
 * registry, audit): opens it after
 * activation (so activation stays fast), keeps the index fresh from the event
 * logs (file watcher, plus polling while runs are active), saves it, and tracks
 * the processes this window launched.
 */
export class TrackingService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after new log lines changed what the index holds. */
  readonly onDidChange = this.changed.event;
  readonly ready: Promise<Tracking>;
  private opened: Project | undefined;
  private readonly launched = new Map<string, TrackedProcess>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private poll: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private refreshQueued: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(readonly root: string, private readonly log: vscode.OutputChannel) {
    this.ready = this.open();
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, '.mlops/runs/**'));
    const queue = () => this.queueRefresh();
    this.disposables.push(watcher, watcher.onDidCreate(queue), watcher.onDidChange(queue), watcher.onDidDelete(queue));
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mlops.runs.refreshIntervalMs')) this.restartPolling();
    }));
  }

  private async open(): Promise<Tracking> {
    const project = await Project.open(this.root, { onMessage: (m) => this.message(m) });
    if (this.disposed) {
      project.close();
      throw new Error('The MLOps extension was deactivated.');
    }
    this.opened = project;
    this.restartPolling();
    this.changed.fire();
    return project.tracking;
  }

  /** A rebuilt index is worth a notification; skipped log lines go to the output channel only. */
  private message(text: string): void {
    this.log.appendLine(text);
    if (text.startsWith('tracking.db was')) void vscode.window.showInformationMessage(`MLOps: ${text}`);
  }

  /** The engine, once opened; undefined during the first moments after activation. */
  get current(): Tracking | undefined {
    return this.opened?.tracking;
  }

  /** Model versions a run produced (empty until the engine is open). */
  modelsOfRun(runId: string): ModelVersion[] {
    return this.opened?.registry.versionsOfRun(runId) ?? [];
  }

  /** Snapshots, registry and audit, once opened. */
  async project(): Promise<Project> {
    await this.ready;
    return this.opened!;
  }

  hasActiveRuns(): boolean {
    return !!this.current?.listRuns({ status: 'RUNNING' }).length;
  }

  queueRefresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = setTimeout(() => {
      this.refreshQueued = undefined;
      this.refresh();
    }, 100);
  }

  /** Reads new log lines now; fires onDidChange when anything changed. */
  refresh(): void {
    const tracking = this.current;
    if (!tracking) return;
    try {
      const result = tracking.refresh();
      if (result.changed.length || result.removed.length) {
        this.scheduleSave();
        this.changed.fire();
      }
    } catch (err) {
      this.log.appendLine(`Reading the run logs failed: ${(err as Error).message}`);
    }
  }

  /** Extra environment for every tracked process (the MLflow endpoint's address). */
  launchEnv: () => NodeJS.ProcessEnv = () => ({});

  /** Starts a tracked process (its data inputs snapshotted first). */
  async launch(options: Omit<LaunchOptions, 'layout'>): Promise<TrackedProcess> {
    const project = await this.project();
    const run = await project.launch({ ...options, env: { ...this.launchEnv(), ...options.env } });
    this.track(run);
    return run;
  }

  private track(run: TrackedProcess): void {
    this.launched.set(run.runId, run);
    void run.finished.then(() => {
      this.launched.delete(run.runId);
      this.refresh();
    });
    this.refresh();
  }

  /** Stops a run this window launched; undefined when it was not launched here. */
  stopLaunched(runId: string): Promise<RunOutcome> | undefined {
    return this.launched.get(runId)?.stop();
  }

  changedByUser(): void {
    this.scheduleSave();
    this.changed.fire();
  }

  private restartPolling(): void {
    if (this.poll) clearInterval(this.poll);
    const ms = vscode.workspace.getConfiguration('mlops').get<number>('runs.refreshIntervalMs', 500);
    // Watchers can miss appends on some file systems; poll, but only while a run is active.
    this.poll = setInterval(() => {
      if (this.launched.size || this.hasActiveRuns()) this.refresh();
    }, Math.max(100, ms));
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      try {
        this.current?.save();
      } catch (err) {
        this.log.appendLine(`Saving tracking.db failed: ${(err as Error).message}`);
      }
    }, SAVE_DELAY_MS);
  }

  dispose(): void {
    this.disposed = true;
    if (this.poll) clearInterval(this.poll);
    if (this.saveTimer) clearTimeout(this.saveTimer);
    if (this.refreshQueued) clearTimeout(this.refreshQueued);
    for (const run of this.launched.values()) void run.stop();
    this.current?.close();
    for (const d of this.disposables) d.dispose();
  }
}
