import * as vscode from 'vscode';
import type { ModelVersion } from '../../core/registry/registry';
import type { ValidationReport } from '../../core/validation/modelValidation';
import { registerCommand } from '../commandErrors';
import type { DataModelsTreeProvider, DataNode } from '../data/dataModelsTree';
import type { TrackingService } from '../trackingService';

const fmt = (v: number | undefined) => (v === undefined ? '–' : Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** The gate table as quick-pick rows, then what the user can do about it. */
function gateItems(report: ValidationReport): (vscode.QuickPickItem & { action?: 'promote' | 'force' })[] {
  const rows = report.gates.map((g) => ({
    label: `${g.passed ? '$(pass-filled)' : '$(error)'} ${g.gate}`,
    description: `${fmt(g.value)}${g.bound !== undefined ? ` (bound ${fmt(g.bound)})` : ''}`,
    detail: g.note,
  }));
  if (!rows.length) rows.push({ label: '$(info) No gates in mlops.yaml', description: 'add e.g. "- accuracy >= 0.9" under gates:', detail: undefined });
  const separator = { label: '', kind: vscode.QuickPickItemKind.Separator };
  return [...rows, separator, report.passed
    ? { label: '$(arrow-up) Promote to champion', action: 'promote' as const }
    : { label: '$(warning) Promote anyway…', description: 'needs a reason; recorded in the audit trail', action: 'force' as const }];
}

/** *Promote to Champion…* on a model version: shows the gate table first, promotes only through it. */
export function registerValidationCommands(service: TrackingService, tree: DataModelsTreeProvider): vscode.Disposable[] {
  return [registerCommand('mlops.promoteModelVersion', async (node?: DataNode | { model: string; version: number }) => {
    const project = await service.project();
    let v: ModelVersion;
    if (node && 'kind' in node && node.kind === 'version') v = node.version;
    else if (node && !('kind' in node)) v = project.registry.version(node.model, node.version);
    else throw new Error('Choose a model version in the Data & Models view.');
    const report = await project.validation.validate(v.model, String(v.version)).catch((err: Error) => {
      throw new Error(`${err.message} (promotion goes through the gates of mlops.yaml, judged on an evaluation).`);
    });
    const pick = await vscode.window.showQuickPick(gateItems(report), {
      title: `Gates of ${v.model} v${v.version}: ${report.passed ? 'all pass' : `${report.gates.filter((g) => !g.passed).length} failed`}`,
      placeHolder: 'Review the gates, then choose what to do',
    });
    if (!pick?.action) return;
    let reason: string | undefined;
    if (pick.action === 'force') {
      reason = await vscode.window.showInputBox({ title: `Why promote ${v.model} v${v.version} past failed gates?`, prompt: 'Recorded in the audit trail', validateInput: (t) => (t.trim() ? undefined : 'A reason is required') });
      if (!reason) return;
    }
    await project.validation.promote(v.model, String(v.version), 'champion', { force: pick.action === 'force', reason });
    tree.refresh();
    service.changedByUser();
    void vscode.window.showInformationMessage(`MLOps: ${v.model}@champion → version ${v.version}${reason ? ' (forced; reason audited)' : ''}.`);
  })];
}
