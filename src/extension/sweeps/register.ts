import * as vscode from 'vscode';
import { findSweep, readSweeps } from '../../core/pipelines/sweeps/config';
import { runSweep } from '../../core/pipelines/sweeps/runSweep';
import { readSweepState, requestStop, sweepOwner } from '../../core/pipelines/sweeps/sweepLog';
import { MlopsLayout } from '../../core/workspace/layout';
import { registerCommand } from '../commandErrors';
import type { PanelManager } from '../panels';
import { SweepsTreeProvider, type SweepNode } from './tree';

type SweepArg = SweepNode | string | undefined;

/**
 * The Sweeps view and its commands: run a sweep of mlops.yaml here (with progress;
 * Cancel stops it), stop one running anywhere, and compare its trials on the
 * parallel-coordinates chart. The view follows sweeps run from the CLI too.
 */
export function registerSweeps(context: vscode.ExtensionContext, root: string, panels: PanelManager, log: vscode.OutputChannel): SweepsTreeProvider {
  const layout = new MlopsLayout(root);
  const tree = new SweepsTreeProvider(layout);
  const view = vscode.window.createTreeView<SweepNode>('mlops.sweeps', { treeDataProvider: tree });
  // From the palette (no node): the selected sweep, else a pick of mlops.yaml's sweeps.
  const nameOf = async (arg: SweepArg): Promise<string | undefined> => {
    if (typeof arg === 'string') return arg;
    const node = arg ?? view.selection[0];
    if (node && node.kind !== 'problem') return node.sweep.name;
    const names = readSweeps(root).map((s) => s.name);
    if (!names.length) throw new Error('mlops.yaml declares no sweeps: add one under "sweeps:" (see the README\'s Sweeps section).');
    return names.length === 1 ? names[0] : vscode.window.showQuickPick(names, { placeHolder: 'Which sweep?' });
  };
  const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, '{mlops.yaml,.mlops/sweeps/**}'));
  const refresh = () => tree.refresh();

  const run = async (arg: SweepArg) => {
    const name = await nameOf(arg);
    if (!name) return undefined;
    const sweep = findSweep(root, name);
    layout.ensure();
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: sweep ${sweep.name}`, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => requestStop(layout, sweep.name));
      let ended = 0;
      const result = await runSweep({ layout, sweep, cwd: root, onEvent: (e) => {
        if (e.type === 'trial-ended') progress.report({ message: `${++ended}/${sweep.budget} trials ended`, increment: 100 / sweep.budget });
        if (e.type === 'trial-stopped') log.appendLine(`Sweep ${sweep.name}: trial ${e.trial} stopped early: ${e.reason}`);
        if (e.type === 'resumed') log.appendLine(`Sweep ${sweep.name}: resuming (${e.finished} trials done, ${e.interrupted} interrupted run again)`);
        refresh();
      } });
      refresh();
      const best = result.best ? ` Best: trial ${result.best.trial}, ${sweep.objective}=${result.best.value}.` : '';
      void vscode.window.showInformationMessage(`MLOps: sweep ${sweep.name} ended (${result.reason}).${best}`, 'Compare Trials').then((pick) => pick && compare(sweep.name));
      return result;
    });
  };
  const stop = async (arg: SweepArg) => {
    const name = await nameOf(arg);
    if (!name) return;
    if (!sweepOwner(layout, name)) throw new Error(`Sweep "${name}" is not running.`);
    requestStop(layout, name);
  };
  const compare = async (arg: SweepArg) => {
    const name = await nameOf(arg);
    if (!name) return undefined;
    const ids = readSweepState(layout, name).trials.filter((t) => t.status !== 'LOST').map((t) => t.runId);
    if (!ids.length) throw new Error(`Sweep "${name}" has no trials yet: run it first.`);
    const panel = await panels.compare(ids);
    return panel.show({ tab: 'parallel' });
  };

  context.subscriptions.push(
    tree, view, watcher, watcher.onDidChange(refresh), watcher.onDidCreate(refresh), watcher.onDidDelete(refresh),
    registerCommand('mlops.sweeps.run', run),
    registerCommand('mlops.sweeps.stop', stop),
    registerCommand('mlops.sweeps.compare', compare),
    registerCommand('mlops.sweeps.refresh', refresh),
  );
  return tree;
}
