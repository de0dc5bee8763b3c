import * as vscode from 'vscode';
import { USER_TARGETS_VARIABLE } from '../../core/compute/targets';

/**
 * The user's own targets (the setting `mlops.targets`) reach the engine, the mlops.yaml language
 * server and the `mlops` of the integrated terminals through one environment variable: the engine
 * never reads VS Code settings, and the CLI has none. An empty setting leaves a variable the user
 * set themselves as it was. `onChange` runs when the setting changes.
 */
export function shareUserTargets(context: vscode.ExtensionContext, onChange: () => void): void {
  const inherited = process.env[USER_TARGETS_VARIABLE];
  const apply = () => {
    const targets = vscode.workspace.getConfiguration('mlops').get<Record<string, unknown>>('targets') ?? {};
    if (Object.keys(targets).length) {
      const text = JSON.stringify(targets);
      process.env[USER_TARGETS_VARIABLE] = text;
      context.environmentVariableCollection.replace(USER_TARGETS_VARIABLE, text);
    } else {
      if (inherited === undefined) delete process.env[USER_TARGETS_VARIABLE];
      else process.env[USER_TARGETS_VARIABLE] = inherited;
      context.environmentVariableCollection.delete(USER_TARGETS_VARIABLE);
    }
  };
  apply();
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (!e.affectsConfiguration('mlops.targets')) return;
    apply();
    onChange();
  }));
}
