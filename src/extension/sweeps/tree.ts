import * as vscode from 'vscode';
import { RefreshableTree } from '../refreshableTree';
import { readSweeps, type Sweep } from '../../core/pipelines/sweeps/config';
import { bestTrial } from '../../core/pipelines/sweeps/runSweep';
import { paramsText } from '../../core/pipelines/sweeps/space';
import { readSweepState, sweepOwner, type Trial } from '../../core/pipelines/sweeps/sweepLog';
import { formatNumber } from '../../core/format';
import { ConfigError } from '../../core/workspace/config';
import { problemItem } from '../problemItem';
import type { MlopsLayout } from '../../core/workspace/layout';

export type SweepNode =
  | { kind: 'sweep'; sweep: Sweep; trials: Trial[]; running: boolean; best?: Trial }
  | { kind: 'trial'; sweep: Sweep; trial: Trial; best: boolean }
  | { kind: 'problem'; message: string };

const TRIAL_ICONS: Record<Trial['status'], vscode.ThemeIcon> = {
  RUNNING: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  FINISHED: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  FAILED: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  KILLED: new vscode.ThemeIcon('circle-slash'),
  STOPPED: new vscode.ThemeIcon('debug-stop', new vscode.ThemeColor('charts.orange')),
  LOST: new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('disabledForeground')),
};


/** The Sweeps view: each sweep of mlops.yaml with its progress and best trial, then its trials. */
export class SweepsTreeProvider extends RefreshableTree<SweepNode> {

  constructor(private readonly layout: MlopsLayout) {
    super();
  }

  getTreeItem(node: SweepNode): vscode.TreeItem {
    if (node.kind === 'problem') return problemItem(node.message, node.message);
    if (node.kind === 'sweep') {
      const { sweep, trials, running, best } = node;
      const item = new vscode.TreeItem(sweep.name, trials.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
      item.id = `sweep:${sweep.name}`;
      const done = trials.filter((t) => t.status !== 'LOST').length;
      item.description = [`${sweep.method}`, `${done}/${sweep.budget} trials`, best ? `best ${sweep.objective}=${formatNumber(best.value!)}` : '', running ? 'running' : ''].filter(Boolean).join(' · ');
      item.iconPath = new vscode.ThemeIcon(running ? 'sync~spin' : 'beaker');
      item.contextValue = running ? 'sweep.running' : 'sweep.idle';
      item.tooltip = `${sweep.name}: ${sweep.goal} ${sweep.objective} with ${sweep.method} search, ${sweep.parallel} trial(s) at a time on ${sweep.target}${sweep.earlyStopping ? `, ${sweep.earlyStopping.rule} early stopping` : ''}.`;
      return item;
    }
    const { trial, best } = node;
    const item = new vscode.TreeItem(`trial ${trial.trial}${best ? ' ★' : ''}`);
    item.id = `sweep:${node.sweep.name}:${trial.trial}`;
    item.description = [trial.value !== undefined ? `${node.sweep.objective}=${formatNumber(trial.value)}` : '', paramsText(trial.params)].filter(Boolean).join(' · ');
    item.iconPath = TRIAL_ICONS[trial.status];
    item.tooltip = `${trial.status}${trial.stopReason ? ` — stopped early: ${trial.stopReason}` : ''}\nparams: ${paramsText(trial.params)}\nrun ${trial.runId}`;
    item.contextValue = 'sweep.trial';
    item.command = { command: 'mlops.revealRun', title: 'Reveal Run', arguments: [trial.runId] };
    return item;
  }

  getChildren(node?: SweepNode): SweepNode[] {
    if (node?.kind === 'sweep') {
      return [...node.trials].reverse().map((trial) => ({ kind: 'trial', sweep: node.sweep, trial, best: trial === node.best }));
    }
    if (node) return [];
    let sweeps: Sweep[];
    try {
      sweeps = readSweeps(this.layout.root);
    } catch (err) {
      if (err instanceof ConfigError) return [{ kind: 'problem', message: err.message.split('\n')[0] }];
      throw err;
    }
    return sweeps.map((sweep) => {
      const { trials } = readSweepState(this.layout, sweep.name);
      const best = bestTrial(trials, sweep.goal);
      return { kind: 'sweep', sweep, trials, running: Boolean(sweepOwner(this.layout, sweep.name)), ...(best ? { best } : {}) };
    });
  }
}
