import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { RemoteRun, RemoteRunOptions } from '../core/compute/remoteRun';
import { Project } from '../core/project';
import type { ModelVersion } from '../core/registry/registry';
import type { LaunchOptions, RunOutcome, TrackedProcess } from '../core/tracking/launcher';
import { loadSqlJsWarm } from '../core/tracking/sqlite';
import type { Tracking } from '../core/tracking/tracking';

const SAVE_DELAY_MS = 2000;
/** How long opening waits for another process to let go of the index before reading it without owning it. */
const OWNER_WAIT_MS = 2000;
/** How long after the runs folder changed the poll keeps reading the logs (see runsFolderChanged). */
const NEW_RUN_GRACE_MS = 5000;

/**
 * The extension's handle on the workspace's engine (tracking, snapshots,
 * registry, audit): opens it after
 * activation (so activation stays fast), keeps the index fresh from the event
 * logs of every process (see watchRuns), saves it, and tracks the processes this
 * window launched.
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
  /** The runs folder's mtime at the last look: it changes when any process adds or removes a run. */
  private runsFolderStamp: number | undefined;
  private runsFolderChangedAt = 0;
  private disposed = false;

  constructor(readonly root: string, private readonly log: vscode.OutputChannel) {
    this.ready = this.open();
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mlops.runs.refreshIntervalMs')) this.restartPolling();
    }));
  }

  private async open(): Promise<Tracking> {
    await loadSqlJsWarm(); // the extension host's thread must not compile sql.js's code on its first queries
    // A command that has the index for a moment (`mlops runs list`) must not leave this window read-only for the session.
    const project = await Project.open(this.root, { waitMs: OWNER_WAIT_MS, onMessage: (m) => this.message(m) });
    if (this.disposed) {
      project.close();
      throw new Error('The MLOps extension was deactivated.');
    }
    this.opened = project;
    this.watchRuns(project.layout.runsDir);
    this.restartPolling();
    this.changed.fire();
    return project.tracking;
  }

  /**
   * Runs are written by other processes too (`mlops run`, MLflow clients, notebooks, another
   * window): VS Code's watcher and fs.watch on the runs folder read them at once, and since
   * watchers miss events on some file systems (remote hosts, containers), the poll in
   * restartPolling looks at the runs folder's mtime as well.
   */
  private watchRuns(runsDir: string): void {
    const queue = () => this.queueRefresh();
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(this.root, '.mlops/runs/**'));
    this.disposables.push(watcher, watcher.onDidCreate(queue), watcher.onDidChange(queue), watcher.onDidDelete(queue));
    try {
      const folder = fs.watch(runsDir, queue);
      folder.on('error', () => folder.close()); // the folder went away: the poll still looks
      this.disposables.push({ dispose: () => folder.close() });
    } catch (err) {
      this.log.appendLine(`Watching ${runsDir} failed (${(err as Error).message}); new runs are found by polling.`);
    }
    this.runsFolderStamp = this.runsFolderMtime();
  }

  /**
   * Whether a run was added or removed lately (one stat): for a few seconds after, since a new
   * run's folder may be made a moment before its log is written.
   */
  private runsFolderChanged(): boolean {
    const stamp = this.runsFolderMtime();
    if (stamp !== this.runsFolderStamp) {
      this.runsFolderStamp = stamp;
      this.runsFolderChangedAt = Date.now();
    }
    return Date.now() - this.runsFolderChangedAt < NEW_RUN_GRACE_MS;
  }

  private runsFolderMtime(): number | undefined {
    try {
      return fs.statSync(this.opened!.layout.runsDir).mtimeMs;
    } catch {
      return undefined;
    }
  }

  /** A rebuilt or unusable index is worth a notification; skipped log lines go to the output channel only. */
  private message(text: string): void {
    this.log.appendLine(text);
    if (text.startsWith('tracking.db was') || text.includes('tracking.db is a folder')) void vscode.window.showInformationMessage(`MLOps: ${text}`);
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

  /** Starts a tracked run on a target (shipped, started and followed from here). */
  async launchRemote(options: Omit<RemoteRunOptions, 'layout'>): Promise<RemoteRun> {
    const run = await (await this.project()).launchRemote(options);
    void run.finished.then(() => this.refresh(), () => this.refresh());
    this.refresh();
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
    // Watchers can miss events on some file systems: poll active runs, and look for new ones.
    this.poll = setInterval(() => {
      if (this.runsFolderChanged() || this.launched.size || this.hasActiveRuns()) this.refresh();
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
