import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { importMlruns, MlflowBackend, MlflowServer, newToken } from '../core/mlflow';
import type { TrackingService } from './trackingService';

/** What MLflow clients need: `MLFLOW_TRACKING_URI` and `MLFLOW_TRACKING_TOKEN`. */
export interface MlflowConnection { uri: string; token: string }

const TOKEN_SECRET = 'mlops.mlflow.token';
const LAST_PORT_KEY = 'mlops.mlflow.lastPort';
const REFRESH_DELAY_MS = 200;

/**
 * The MLflow-compatible endpoint inside VS Code (docs/mlflow.md): started on activation unless
 * `mlops.mlflow.enabled` is false, on `mlops.mlflow.port` (0: the port it had last time when
 * free, else any free one), with its URI in a status bar item and `MLFLOW_TRACKING_URI` /
 * `MLFLOW_TRACKING_TOKEN` set for new integrated terminals, so `import mlflow` code logs into
 * the workspace. The token is kept in the secret store so terminals stay valid across reloads.
 */
export class MlflowEndpoint implements vscode.Disposable {
  private server: MlflowServer | undefined;
  private backendInstance: MlflowBackend | undefined;
  private connectionValue: MlflowConnection | undefined;
  /** Why the endpoint is not running, when it is not. */
  private problem: string | undefined = 'starting';
  private readonly item = vscode.window.createStatusBarItem('mlops.mlflow', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private changing: Promise<void> = Promise.resolve();
  private disposed = false;
  /** Settles after the first start attempt (tests and launchers wait for it). */
  readonly ready: Promise<void>;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly service: TrackingService,
    private readonly log: vscode.OutputChannel,
  ) {
    this.item.name = 'MLflow Endpoint';
    this.item.command = 'mlops.copyMlflowConnection';
    context.environmentVariableCollection.description = 'MLflow tracking URI and token of this workspace\'s MLOps endpoint';
    this.disposables.push(
      this.item,
      vscode.commands.registerCommand('mlops.copyMlflowConnection', () => this.copyConnection()),
      vscode.commands.registerCommand('mlops.importMlflowRuns', (folder?: vscode.Uri) => this.importRuns(folder)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('mlops.mlflow')) this.restart();
      }),
    );
    this.ready = this.enqueue(() => this.start());
  }

  /** The URI and token while the endpoint runs. */
  get connection(): MlflowConnection | undefined {
    return this.connectionValue;
  }

  /** Variables for processes the extension launches (tracked runs, notebooks); empty while the endpoint is off. */
  env(): Record<string, string> {
    const c = this.connectionValue;
    return c ? { MLFLOW_TRACKING_URI: c.uri, MLFLOW_TRACKING_TOKEN: c.token } : {};
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.changing = this.changing.then(step, step).catch((err: Error) => this.log.appendLine(`MLflow endpoint: ${err.message}`));
    return this.changing;
  }

  private restart(): void {
    void this.enqueue(async () => {
      await this.stop();
      await this.start();
    });
  }

  private async backend(): Promise<MlflowBackend> {
    const tracking = await this.service.ready;
    const project = await this.service.project();
    this.backendInstance ??= new MlflowBackend(tracking, {
      project, onDidWrite: () => this.queueRefresh(), log: (m) => this.log.appendLine(m), readOtherWriters: () => this.service.refresh(),
    });
    for (const w of this.backendInstance.experiments.warnings.splice(0)) this.log.appendLine(`${this.backendInstance.experiments.file}: ${w}; skipped.`);
    return this.backendInstance;
  }

  private async start(): Promise<void> {
    if (this.disposed) return;
    const config = vscode.workspace.getConfiguration('mlops.mlflow');
    if (!config.get<boolean>('enabled', true)) {
      this.setOff('turned off by the setting mlops.mlflow.enabled');
      return;
    }
    let tracking;
    try {
      tracking = await this.service.ready;
    } catch (err) {
      this.setOff(`the tracking store did not open: ${(err as Error).message}`);
      return;
    }
    if (tracking.readOnly) {
      this.setOff(`this window does not own the workspace's tracking index (${tracking.whyReadOnly}); another VS Code window or \`mlops server\` that owns it serves the endpoint`);
      return;
    }
    const backend = await this.backend();
    const token = await this.token();
    const configured = config.get<number>('port', 0);
    const lastPort = this.context.workspaceState.get<number>(LAST_PORT_KEY);
    const attempts = configured ? [configured] : lastPort ? [lastPort, 0] : [0];
    let lastError: Error | undefined;
    for (const port of attempts) {
      const server = new MlflowServer(backend, { token, port, log: (m) => this.log.appendLine(m) });
      try {
        await server.start();
      } catch (err) {
        lastError = err as Error;
        continue;
      }
      if (this.disposed) {
        await server.stop();
        return;
      }
      this.server = server;
      this.connectionValue = { uri: server.uri, token };
      this.problem = undefined;
      await this.context.workspaceState.update(LAST_PORT_KEY, server.port);
      this.context.environmentVariableCollection.replace('MLFLOW_TRACKING_URI', server.uri);
      this.context.environmentVariableCollection.replace('MLFLOW_TRACKING_TOKEN', token);
      this.log.appendLine(`MLflow endpoint: serving ${server.uri} (MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN are set in new terminals).`);
      this.showRunning(server.uri);
      return;
    }
    this.setOff(`it could not listen: ${lastError?.message ?? 'unknown error'}`);
    void vscode.window.showWarningMessage(`MLOps: the MLflow endpoint did not start: ${lastError?.message ?? 'unknown error'} Change the setting mlops.mlflow.port, or set it to 0 for a free port.`);
  }

  /** The token of earlier sessions (terminals restored with it keep working), else a new one. */
  private async token(): Promise<string> {
    try {
      const kept = await this.context.secrets.get(TOKEN_SECRET);
      if (kept) return kept;
      const token = newToken();
      await this.context.secrets.store(TOKEN_SECRET, token);
      return token;
    } catch (err) {
      this.log.appendLine(`MLflow endpoint: the secret store is unavailable (${(err as Error).message}); using a new token for this session.`);
      return newToken();
    }
  }

  private async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.connectionValue = undefined;
    if (server) await server.stop();
  }

  private showRunning(uri: string): void {
    this.item.text = '$(radio-tower) MLflow';
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**MLflow tracking endpoint**\n\n\`MLFLOW_TRACKING_URI=${uri}\`\n\n`);
    tip.appendMarkdown('New integrated terminals have `MLFLOW_TRACKING_URI` and `MLFLOW_TRACKING_TOKEN` set: `import mlflow` code logs into this workspace\'s runs.\n\n');
    tip.appendMarkdown('Click to copy the connection (URI and token).');
    this.item.tooltip = tip;
    this.item.show();
  }

  private setOff(why: string): void {
    this.problem = why;
    this.connectionValue = undefined;
    this.context.environmentVariableCollection.delete('MLFLOW_TRACKING_URI');
    this.context.environmentVariableCollection.delete('MLFLOW_TRACKING_TOKEN');
    this.log.appendLine(`MLflow endpoint: off (${why}).`);
    this.item.hide();
  }

  /** Many writes in a burst (a training loop) become one refresh of the views and one deferred save. */
  private queueRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.service.changedByUser();
    }, REFRESH_DELAY_MS);
  }

  private async copyConnection(): Promise<MlflowConnection | undefined> {
    await this.ready;
    await this.changing;
    const c = this.connectionValue;
    if (!c) {
      void vscode.window.showWarningMessage(`MLOps: the MLflow endpoint is not running (${this.problem ?? 'unknown reason'}).`);
      return undefined;
    }
    await vscode.env.clipboard.writeText(`export MLFLOW_TRACKING_URI=${c.uri}\nexport MLFLOW_TRACKING_TOKEN=${c.token}\n`);
    void vscode.window.showInformationMessage(`MLOps: copied the MLflow connection (${c.uri} and its token) as two export lines for a shell.`);
    return { ...c };
  }

  /** Imports an MLflow `mlruns/` folder; runs already imported are skipped, so it can be run again. */
  private async importRuns(folder?: vscode.Uri): Promise<{ imported: number; skipped: number } | undefined> {
    let source = folder;
    if (!source) {
      const guess = path.join(this.service.root, 'mlruns');
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Import MLflow Runs',
        title: 'Choose the mlruns folder of an MLflow file store',
        defaultUri: vscode.Uri.file(fs.existsSync(guess) ? guess : this.service.root),
      });
      source = picked?.[0];
    }
    if (!source) return undefined;
    let backend: MlflowBackend;
    try {
      const tracking = await this.service.ready;
      if (tracking.readOnly) throw new Error('another process owns this workspace\'s tracking index; import from there');
      backend = await this.backend();
    } catch (err) {
      void vscode.window.showErrorMessage(`MLOps: cannot import MLflow runs: ${(err as Error).message}`);
      return undefined;
    }
    const dir = source.fsPath;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Importing MLflow runs from ${path.basename(dir)}`, cancellable: true },
        async (progress, cancel) => {
          const abort = new AbortController();
          cancel.onCancellationRequested(() => abort.abort());
          let last = 0;
          return importMlruns(backend.tracking, backend.experiments, dir, {
            signal: abort.signal,
            onProgress: (p) => {
              if (!p.total) return;
              const pct = (p.done / p.total) * 100;
              progress.report({ increment: pct - last, message: `${p.done}/${p.total}${p.run ? ` · ${p.run}` : ''}` });
              last = pct;
            },
          });
        },
      );
      for (const w of result.warnings) this.log.appendLine(`Import from ${dir}: ${w}`);
      this.service.changedByUser();
      const parts = [`Imported ${result.imported.length} MLflow run${result.imported.length === 1 ? '' : 's'} from ${dir}`];
      if (result.skipped.length) parts.push(`${result.skipped.length} were already imported`);
      if (result.warnings.length) parts.push(`${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'} in the MLOps output`);
      void vscode.window.showInformationMessage(`MLOps: ${parts.join('; ')}.`);
      return { imported: result.imported.length, skipped: result.skipped.length };
    } catch (err) {
      this.service.changedByUser();
      void vscode.window.showErrorMessage(`MLOps: importing MLflow runs from ${dir} failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    // Synchronously: the tracking store closes right after (service.dispose), so no request may still be served.
    this.server?.stopNow();
    try {
      this.backendInstance?.dispose(); // index what is pending while the store is still open (it is in the logs anyway)
    } catch (err) {
      this.log.appendLine(`MLflow endpoint: ${(err as Error).message}`);
    }
    this.server = undefined;
    this.connectionValue = undefined;
    for (const d of this.disposables) d.dispose();
  }
}
