import * as path from 'node:path';
import * as vscode from 'vscode';
import { runRetrainLoop, type LoopResult } from '../../core/pipelines/retrain';
import { writeReport } from '../../core/reports';
import type { ValidationReport } from '../../core/validation/modelValidation';
import { registerCommand } from '../commandErrors';
import type { DeploymentNode } from '../deployments/tree';
import type { TrackingService } from '../trackingService';

/** A deployment, a model version or a run from a view; a name when called from code or a test. */
type SubjectArg = DeploymentNode | { kind: 'version'; version: { model: string; version: number } } | { kind: 'run'; run: { id: string } } | string | undefined;

const fmt = (v: number | undefined) => (v === undefined ? '–' : Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** The manual approval step: the gate table, then approve or decline. */
async function approveWithGates(report: ValidationReport): Promise<boolean> {
  const rows: (vscode.QuickPickItem & { approve?: boolean })[] = report.gates.map((g) => ({
    label: `${g.passed ? '$(pass-filled)' : '$(error)'} ${g.gate}`,
    description: `${fmt(g.value)}${g.bound !== undefined ? ` (bound ${fmt(g.bound)})` : ''}`,
    detail: g.note,
  }));
  const pick = await vscode.window.showQuickPick([
    ...rows, { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(check) Approve', description: 'try it on live traffic, then switch the deployment', approve: true },
    { label: '$(close) Decline', description: 'keep the champion', approve: false },
  ], { title: `Approve ${report.model} v${report.version}? It passed its gates${report.champion ? ` against champion v${report.champion.version}` : ''}.`, ignoreFocusOut: true });
  return pick?.approve === true;
}

/**
 * *Retrain Deployment* runs the retraining loop of mlops.yaml on a deployment, with its steps
 * in a cancellable progress notification (and a gate table to approve when it asks); *Export
 * Report…* writes the shareable HTML report on a deployment, a model version or runs.
 */
export function registerRetraining(service: TrackingService, log: vscode.OutputChannel): vscode.Disposable[] {
  const pickDeployment = async (): Promise<string | undefined> => {
    const names = (await service.project()).deployments.list().map((v) => v.deployment.spec.name);
    if (!names.length) throw new Error('No deployments yet: deploy a model version first (Deploy Model in the Data & Models view).');
    return names.length === 1 ? names[0] : vscode.window.showQuickPick(names, { title: 'Retrain which deployment?' });
  };
  const retrain = async (arg?: SubjectArg): Promise<LoopResult | undefined> => {
    const name = typeof arg === 'string' ? arg : arg && 'kind' in arg && arg.kind === 'deployment' ? arg.view.deployment.spec.name : await pickDeployment();
    if (!name) return undefined;
    const project = await service.project();
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: retraining ${name}`, cancellable: true }, (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return runRetrainLoop(project, name, {
        trigger: 'manual', signal: abort.signal, approve: approveWithGates,
        onStep: (s) => {
          progress.report({ message: `${s.step}: ${s.detail}` });
          log.appendLine(`retrain ${name}: ${s.step} ${s.status}: ${s.detail}`);
          service.changedByUser();
        },
        onOutput: (text) => log.append(text),
      });
    });
    service.changedByUser();
    const say = result.outcome === 'promoted' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void say(`MLOps: ${name}: ${result.outcome}: ${result.reason}`);
    return result;
  };
  const exportReport = async (arg?: SubjectArg, file?: string): Promise<string | undefined> => {
    const project = await service.project();
    let subject: string | undefined;
    if (typeof arg === 'string') subject = arg;
    else if (arg?.kind === 'deployment') subject = arg.view.deployment.spec.name;
    else if (arg?.kind === 'version') subject = `${arg.version.model}:${arg.version.version}`;
    else if (arg?.kind === 'run') subject = arg.run.id;
    else {
      const items = [
        ...project.deployments.list().map((v) => ({ label: v.deployment.spec.name, description: `deployment serving ${v.deployment.target}` })),
        ...project.registry.models().flatMap((m) => m.versions.map((v) => ({ label: `${m.name}:${v.version}`, description: 'model version' }))),
      ];
      if (!items.length) throw new Error('Nothing to report on yet: register a model version or deploy one first.');
      subject = (await vscode.window.showQuickPick(items, { title: 'Export a report on…' }))?.label;
    }
    if (!subject) return undefined;
    const target = file ?? (await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(service.root, `report-${subject.replace(/[^\w.-]+/g, '-')}.html`)), filters: { 'HTML report': ['html'] } }))?.fsPath;
    if (!target) return undefined;
    const bytes = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: writing the report on ${subject}…` }, () => writeReport(project, [subject!], target));
    if (!file) {
      const open = await vscode.window.showInformationMessage(`MLOps: wrote ${path.basename(target)} (${Math.round(bytes / 1024)} KB), one self-contained HTML file.`, 'Open in Browser');
      if (open) await vscode.env.openExternal(vscode.Uri.file(target));
    }
    return target;
  };
  return [registerCommand('mlops.retrain', retrain), registerCommand('mlops.exportReport', exportReport)];
}
