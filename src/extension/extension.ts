import * as vscode from 'vscode';
import { putCliOnPath } from './cliOnPath';
import { DataCommands } from './data/dataCommands';
import { registerValidationCommands } from './validation/register';
import { DataModelsTreeProvider, type DataNode } from './data/dataModelsTree';
import { registerDeployments } from './deployments/register';
import { registerLanguageServer } from './language/register';
import { registerRetraining } from './retraining/register';
import type { DeploymentsTreeProvider } from './deployments/tree';
import { MlflowEndpoint } from './mlflowEndpoint';
import { registerMonitoring, type MonitoringUi } from './monitoring/register';
import { registerNotebookTracking } from './notebooks/register';
import { registerPipelines, type PipelinesApi } from './pipelines/register';
import { registerPanels, type PanelManager } from './panels';
import { RunCommands } from './runs/runCommands';
import { RunsTreeProvider, type RunsNode } from './runs/runsTree';
import { SNAPSHOT_SCHEME, SnapshotContentProvider } from './data/snapshotContent';
import { RunStatusBar } from './runs/statusBar';
import { registerSweeps } from './sweeps/register';
import type { SweepsTreeProvider } from './sweeps/tree';
import { TrackingService } from './trackingService';
import { onDamagedLog } from '../core/workspace/appendLog';
import { registerTargets } from './targets/register';
import type { TargetsTreeProvider } from './targets/tree';

/** What the extension exposes to other extensions and to its integration tests. */
export interface MlopsApi {
  service: TrackingService;
  tree: RunsTreeProvider;
  commands: RunCommands;
  dataTree: DataModelsTreeProvider;
  dataCommands: DataCommands;
  panels: PanelManager;
  mlflow: MlflowEndpoint;
  deployments: DeploymentsTreeProvider;
  sweeps: SweepsTreeProvider;
  targets: TargetsTreeProvider;
  pipelines: PipelinesApi;
  monitoring: MonitoringUi;
}

/**
 * Wires the engine to VS Code. Kept synchronous and light: the tracking store
 * opens in the background so activation costs only registrations.
 */
export function activate(context: vscode.ExtensionContext): MlopsApi | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder || folder.uri.scheme !== 'file') {
    const noFolder = () => void vscode.window.showInformationMessage('MLOps: open a folder first; runs are tracked in its .mlops/ folder.');
    for (const id of ['mlops.runPythonFile', 'mlops.refreshRuns']) context.subscriptions.push(vscode.commands.registerCommand(id, noFolder));
    return undefined;
  }
  const log = vscode.window.createOutputChannel('MLOps');
  const service = new TrackingService(folder.uri.fsPath, log);
  const mlflow = new MlflowEndpoint(context, service, log);
  // Tracked runs get the endpoint too, so `import mlflow` code logs into the same run.
  service.launchEnv = () => mlflow.env();
  const tree = new RunsTreeProvider(service);
  const view = vscode.window.createTreeView<RunsNode>('mlops.runs', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const commands = new RunCommands(service, tree, view, context.workspaceState);
  const panels = registerPanels(context, service, view, (line) => log.appendLine(line));
  const dataTree = new DataModelsTreeProvider(service);
  const dataView = vscode.window.createTreeView<DataNode>('mlops.dataModels', { treeDataProvider: dataTree, showCollapseAll: true });
  const dataCommands = new DataCommands(service, dataTree, context.workspaceState);
  // Snapshots and models also change from the CLI and from log_model inside runs.
  const registryWatcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '.mlops/{registry.jsonl,snapshots.git/refs/**}'));
  const refreshData = () => dataTree.refresh();
  context.subscriptions.push(
    log, mlflow, service, tree, view, new RunStatusBar(service), ...commands.register(),
    dataTree, dataView, ...dataCommands.register(), ...registerValidationCommands(service, dataTree),
    vscode.workspace.registerTextDocumentContentProvider(SNAPSHOT_SCHEME, new SnapshotContentProvider(service)),
    registryWatcher, registryWatcher.onDidChange(refreshData), registryWatcher.onDidCreate(refreshData), registryWatcher.onDidDelete(refreshData),
  );
  registerNotebookTracking(context, service, log);
  // Damage found in a log (a torn line moved aside, a line a reader skipped) goes to the output, once each.
  const stopHearingDamage = onDamagedLog((damage) => log.appendLine(`Warning: ${damage.message}`));
  context.subscriptions.push({ dispose: stopHearingDamage });
  putCliOnPath(context, (line) => log.appendLine(line));
  const deployments = registerDeployments(context, service, log);
  const sweeps = registerSweeps(context, folder.uri.fsPath, panels, log);
  const targets = registerTargets(context, service);
  const pipelines = registerPipelines(context, service, log);
  registerLanguageServer(context, log);
  const monitoring = registerMonitoring(context, service, deployments, log);
  context.subscriptions.push(...registerRetraining(service, log));
  service.ready.catch((err: Error) => {
    log.appendLine(`Opening the tracking store failed: ${err.message}`);
    void vscode.window.showErrorMessage(`MLOps: cannot open the tracking store in ${folder.uri.fsPath}/.mlops: ${err.message}`);
  });
  return { service, tree, commands, dataTree, dataCommands, panels, mlflow, deployments, sweeps, targets, pipelines, monitoring };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
