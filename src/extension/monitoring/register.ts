// Monitoring in the editor: the drift panel (from a deployment, a model version or two
// snapshots), checks by hand and on a schedule, and alerts (a notification with actions,
// the Deployments view's badge). The checks themselves are the engine's
// (src/core/monitoring/monitor.ts).

import * as vscode from 'vscode';
import { DRIFT_VIEW_TYPE, type DriftRestoreState, type DriftSubject } from '../../protocol/drift';
import { latestVerdict, type CheckOptions } from '../../core/monitoring/monitor';
import type { ModelVersion } from '../../core/registry/registry';
import type { SnapshotInfo } from '../../core/snapshots';
import { registerCommand } from '../commandErrors';
import type { DeploymentNode, DeploymentsTreeProvider } from '../deployments/tree';
import { webviewOptions } from '../panels/panelHost';
import type { TrackingService } from '../trackingService';
import { DriftPanel, describe, sameSubject } from './driftPanel';
import type { DriftSources } from './driftModel';
import { MonitoringScheduler } from './scheduler';

/** The loop's command (branch loop): retrains the model a deployment serves. */
export const RETRAIN_COMMAND = 'mlops.retrain';

type DeploymentArg = DeploymentNode | string | undefined;
type SnapshotArg = { kind: 'snapshot'; info: SnapshotInfo } | string;

export class MonitoringUi implements vscode.Disposable {
  readonly panels: DriftPanel[] = [];
  readonly scheduler: MonitoringScheduler;
  private readonly disposables: vscode.Disposable[] = [];
  /** The newest alert told per deployment (a check's time), so each is told once. */
  private readonly told = new Map<string, number>();
  readonly sources: DriftSources;

  constructor(private readonly context: vscode.ExtensionContext, private readonly service: TrackingService, private readonly tree: DeploymentsTreeProvider, private readonly log: vscode.OutputChannel) {
    this.sources = {
      root: service.root,
      snapshots: async () => (await service.project()).snapshots,
      registry: async () => (await service.project()).registry,
      checkOptions: () => this.checkOptions(),
    };
    this.scheduler = new MonitoringScheduler(service, () => this.checkOptions(), (line) => log.appendLine(line));
    // Checks land in checks.jsonl from this window, the CLI and the retraining loop alike.
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(service.root, '.mlops/monitoring/*/checks.jsonl'));
    const changed = (uri: vscode.Uri) => this.checked(uri.path.split('/').slice(-2)[0]);
    this.disposables.push(this.scheduler, watcher, watcher.onDidChange(changed), watcher.onDidCreate(changed));
  }

  register(): vscode.Disposable[] {
    return [
      registerCommand('mlops.openDriftPanel', (arg?: DeploymentArg | { kind: 'version'; version: ModelVersion }) => this.openFrom(arg)),
      registerCommand('mlops.checkDeploymentDrift', (arg?: DeploymentArg) => this.checkNow(arg)),
      registerCommand('mlops.compareSnapshotsDrift', (arg?: SnapshotArg, selection?: SnapshotArg[]) => this.compareSnapshots(arg, selection)),
      vscode.window.registerWebviewPanelSerializer(DRIFT_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const subject = (state as Partial<DriftRestoreState> | undefined)?.subject;
          if (subject && typeof subject === 'object' && typeof subject.kind === 'string') this.adopt(panel, subject);
          else panel.dispose();
        },
      }),
      this,
    ];
  }

  private async checkOptions(): Promise<CheckOptions> {
    const project = await this.service.project();
    const webhook = vscode.workspace.getConfiguration('mlops.monitoring').get<string>('webhookUrl')?.trim();
    return { snapshots: project.snapshots, audit: project.audit, ...(webhook ? { webhook } : {}) };
  }

  /** Opens (or shows) the drift panel of a subject. */
  open(subject: DriftSubject): DriftPanel {
    const open = this.panels.find((p) => sameSubject(p.subject, subject));
    if (open) {
      open.reveal();
      return open;
    }
    const panel = vscode.window.createWebviewPanel(DRIFT_VIEW_TYPE, `Drift: ${describe(subject)}`, vscode.ViewColumn.Active, webviewOptions(this.context.extensionUri));
    return this.adopt(panel, subject);
  }

  private adopt(webviewPanel: vscode.WebviewPanel, subject: DriftSubject): DriftPanel {
    const panel = new DriftPanel(webviewPanel, this.context.extensionUri, subject, this.sources, async (d) => void (await this.retrain(d)), (line) => this.log.appendLine(line));
    this.panels.push(panel);
    panel.onDidClose(() => this.panels.splice(this.panels.indexOf(panel), 1));
    return panel;
  }

  private async openFrom(arg?: DeploymentArg | { kind: 'version'; version: ModelVersion }): Promise<DriftPanel | undefined> {
    if (arg && typeof arg === 'object' && arg.kind === 'version') return this.open({ kind: 'version', model: arg.version.model, version: arg.version.version });
    const deployment = await this.deploymentName(arg as DeploymentArg);
    return deployment ? this.open({ kind: 'deployment', deployment }) : undefined;
  }

  private async deploymentName(arg: DeploymentArg): Promise<string | undefined> {
    if (typeof arg === 'string') return arg;
    if (arg?.kind === 'deployment') return arg.view.deployment.spec.name;
    if (arg?.kind === 'detail') return arg.name;
    const names = (await this.service.project()).deployments.list().map((v) => v.deployment.spec.name);
    if (!names.length) throw new Error('No deployment yet: deploy a model version from the Data & Models view first.');
    return vscode.window.showQuickPick(names, { title: 'Drift of which deployment?' });
  }

  /** Checks a deployment now (progress shown); the panel, the badge and any alert follow from checks.jsonl. */
  private async checkNow(arg: DeploymentArg) {
    const deployment = await this.deploymentName(arg);
    if (!deployment) return undefined;
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: checking ${deployment} for drift…` }, () => this.scheduler.check(deployment));
    this.checked(deployment);
    return result.verdict;
  }

  private async compareSnapshots(arg?: SnapshotArg, selection?: SnapshotArg[]): Promise<DriftPanel | undefined> {
    const id = (s: SnapshotArg) => (typeof s === 'string' ? s : s.info.id);
    let picked = (selection && selection.length === 2 ? selection : arg ? [arg] : []).map(id);
    if (picked.length < 2) {
      const snapshots = await (await this.service.project()).snapshots.list();
      const items = snapshots.filter((s) => !picked.includes(s.id)).map((s) => ({ label: s.id.slice(0, 10), description: s.message.split('\n')[0], detail: s.paths.join(', '), id: s.id }));
      for (const title of ['Reference snapshot (before)', 'Current snapshot (after)'].slice(picked.length)) {
        const pick = await vscode.window.showQuickPick(items, { title });
        if (!pick) return undefined;
        picked = [...picked, pick.id];
      }
    }
    return this.open({ kind: 'snapshots', reference: picked[0], current: picked[1] });
  }

  /** A deployment was checked (here or elsewhere): the badge, the open panel, and a new alert told once. */
  private checked(deployment: string): void {
    this.tree.refresh();
    for (const p of this.panels) if (p.subject.kind === 'deployment' && p.subject.deployment === deployment) void p.refresh().catch((err: Error) => this.log.appendLine(`Drift panel: ${err.message}`));
    const verdict = latestVerdict(this.service.root, deployment);
    if (!verdict?.raised || (this.told.get(deployment) ?? 0) >= verdict.time) return;
    this.told.set(deployment, verdict.time);
    this.log.appendLine(`Alert: ${deployment}: ${verdict.reasons.join('; ')}`);
    void this.alert(deployment, verdict.reasons);
  }

  async alert(deployment: string, reasons: string[]): Promise<string | undefined> {
    const choice = await vscode.window.showWarningMessage(`MLOps: ${deployment}: ${reasons.join('; ')}`, 'Open Drift Panel', 'Retrain');
    if (choice === 'Open Drift Panel') this.open({ kind: 'deployment', deployment });
    if (choice === 'Retrain') await this.retrain(deployment);
    return choice;
  }

  /** Runs the retraining loop's command when it is installed; says so plainly when it is not. */
  async retrain(deployment: string): Promise<boolean> {
    if (!(await vscode.commands.getCommands(true)).includes(RETRAIN_COMMAND)) {
      void vscode.window.showWarningMessage(`MLOps: cannot retrain ${deployment}: this version has no retraining loop (command "${RETRAIN_COMMAND}" is not registered). Retrain by hand: run your training script with tracking, register the new version, then switch the deployment to it.`);
      return false;
    }
    await vscode.commands.executeCommand(RETRAIN_COMMAND, deployment);
    return true;
  }

  dispose(): void {
    for (const p of [...this.panels]) p.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

export function registerMonitoring(context: vscode.ExtensionContext, service: TrackingService, tree: DeploymentsTreeProvider, log: vscode.OutputChannel): MonitoringUi {
  const ui = new MonitoringUi(context, service, tree, log);
  context.subscriptions.push(...ui.register());
  return ui;
}
