import * as vscode from 'vscode';
import { readTargets, type Target } from '../../core/compute/targets';

/**
 * Asks which declared target (mlops.yaml's `targets:` or the mlops.targets setting) to use;
 * undefined when the user picks none. With none declared it says how to add one, and offers to.
 */
export async function pickTarget(root: string, title: string, placeHolder: string): Promise<Target | undefined> {
  const targets = readTargets(root).filter((t) => t.declaredIn !== 'built in');
  if (!targets.length) {
    const add = await vscode.window.showInformationMessage('MLOps: no targets yet. Declare one under "targets:" in mlops.yaml (or in the mlops.targets setting), then pick it here.', 'Add a Target');
    if (add) await vscode.commands.executeCommand('mlops.addTarget');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    targets.map((t) => ({ label: t.name, description: 'host' in t && t.host ? `${t.type} · ${t.host}` : t.type, detail: `declared in ${t.declaredIn}`, target: t })),
    { title, placeHolder },
  );
  return picked?.target;
}
