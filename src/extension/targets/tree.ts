import * as vscode from 'vscode';
import { RefreshableTree } from '../refreshableTree';
import { probeTarget, type TargetStatus } from '../../core/compute/targetStatus';
import { targetRuns, targetTree, type TargetTreeNode } from '../../core/compute/targetTree';
import { readTargets, type Target } from '../../core/compute/targets';
import type { TrackingService } from '../trackingService';

const COLORS = { ok: 'testing.iconPassed', error: 'list.errorForeground', warning: 'list.warningForeground' } as const;

/**
 * The Targets view: each target of mlops.yaml with whether it answers, its GPUs, its queue and
 * the runs sent to it (rows from core/compute/targetTree.ts). Targets are probed in the background
 * when first shown and on Refresh; the runs follow the index live. Empty (the welcome view) while
 * mlops.yaml declares no targets.
 */
export class TargetsTreeProvider extends RefreshableTree<TargetTreeNode> {
  private readonly statuses = new Map<string, TargetStatus>();
  private readonly probing = new Map<string, Promise<TargetStatus>>();

  constructor(private readonly service: TrackingService) {
    super();
  }

  /** Redraws; with `probe`, forgets what is known of the targets and reaches them again. */
  override refresh(probe = false): void {
    if (probe) this.statuses.clear();
    super.refresh();
  }

  targets(): Target[] {
    return readTargets(this.service.root);
  }

  /** Reaches the target now (Test Connection) and shows what it found. */
  async probe(target: Target): Promise<TargetStatus> {
    let pending = this.probing.get(target.name);
    if (!pending) {
      pending = probeTarget(target).finally(() => this.probing.delete(target.name));
      this.probing.set(target.name, pending);
    }
    const status = await pending;
    this.statuses.set(target.name, status);
    this.refresh();
    return status;
  }

  getTreeItem(node: TargetTreeNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, node.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    if (node.id === `target:${node.target}`) item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded;
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    item.iconPath = new vscode.ThemeIcon(node.icon, node.state ? new vscode.ThemeColor(COLORS[node.state]) : undefined);
    return item;
  }

  getChildren(node?: TargetTreeNode): TargetTreeNode[] {
    if (node) return node.children ?? [];
    let targets: Target[];
    try {
      targets = this.targets();
    } catch (err) {
      return [{ id: 'targets:error', label: 'mlops.yaml has a mistake', description: (err as Error).message, tooltip: (err as Error).message, icon: 'error', state: 'error', target: '' }];
    }
    if (targets.length === 1) return []; // only `local`: the welcome view says how to add targets
    for (const t of targets) if (!this.statuses.has(t.name) && !this.probing.has(t.name)) void this.probe(t);
    const tracking = this.service.current;
    return targetTree(targets, this.statuses, tracking ? targetRuns(tracking) : []);
  }
}
