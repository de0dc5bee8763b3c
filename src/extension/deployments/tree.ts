import * as vscode from 'vscode';
import { RefreshableTree } from '../refreshableTree';
import { deploymentState, servingText, type DeploymentView } from '../../core/serving/deployments';
import { trafficSummary, type LiveStats } from '../../core/serving/liveStats';
import { driftBadge } from '../monitoring/badge';
import type { TrackingService } from '../trackingService';

export type DeploymentNode =
  | { kind: 'deployment'; view: DeploymentView }
  | { kind: 'detail'; name: string; label: string; description: string; icon: string };

const STATE_ICONS: Record<string, [string, string?]> = {
  running: ['pass-filled', 'testing.iconPassed'], restarting: ['sync~spin', 'list.warningForeground'], down: ['error', 'list.errorForeground'], stopped: ['circle-slash'],
};

/** Where a remote deployment runs, in words ("gpu-box (node-7)"); empty for one on this machine. */
function where(v: DeploymentView): string {
  const host = v.status?.remote?.host ?? v.deployment.placement?.host;
  return v.deployment.spec.remote ? `${v.deployment.spec.remote}${host ? ` (${host})` : ''}` : '';
}

/** The Deployments view: each deployment with its state and URL; under it, what it serves and how it is doing. */
export class DeploymentsTreeProvider extends RefreshableTree<DeploymentNode> {
  /** `liveStats`: a running deployment's figures of the last few seconds, when known. */
  constructor(private readonly service: TrackingService, private readonly liveStats: (name: string) => LiveStats | undefined = () => undefined) {
    super();
  }

  getTreeItem(node: DeploymentNode): vscode.TreeItem {
    if (node.kind === 'detail') {
      const item = new vscode.TreeItem(node.label);
      item.description = node.description;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      return item;
    }
    const { deployment, status } = node.view;
    const state = deploymentState(node.view);
    const item = new vscode.TreeItem(deployment.spec.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `deployment:${deployment.spec.name}`;
    const live = node.view.live ? this.liveStats(deployment.spec.name) : undefined;
    const badge = driftBadge(this.service.root, deployment.spec.name);
    item.description = `${state}${where(node.view) ? ` · on ${where(node.view)}` : ''}${node.view.live && status?.url ? ` · ${status.url}` : ''}${live ? ` · ${trafficSummary(live)}` : ''}${badge ? ` · ${badge.text}` : ''}`;
    const [icon, color] = badge?.alert ? ['warning', 'list.warningForeground'] : STATE_ICONS[state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const perVariant = live && live.variants.length > 1 ? live.variants.map((v) => `\n  ${v.variant} (${v.model} ${v.version}): ${trafficSummary(v)}`).join('') : '';
    item.tooltip = `${deployment.spec.name}: ${state}${where(node.view) ? ` on ${where(node.view)}, forwarded to 127.0.0.1 here` : ''}\nserving ${deployment.target}${live ? `\nlast ${Math.round(live.seconds)} s: ${trafficSummary(live)}${perVariant}` : ''}${status?.lastError ? `\nlast problem: ${status.lastError}` : ''}${badge ? `\n${badge.tooltip}` : ''}`;
    item.contextValue = `deployment.${state}`;
    return item;
  }

  async getChildren(node?: DeploymentNode): Promise<DeploymentNode[]> {
    const deployments = (await this.service.project()).deployments;
    if (!node) return deployments.list().map((view) => ({ kind: 'deployment', view }));
    if (node.kind !== 'deployment') return [];
    const { deployment: d, status } = node.view;
    const name = d.spec.name;
    const detail = (label: string, description: string, icon: string): DeploymentNode => ({ kind: 'detail', name, label, description, icon });
    const capacity = deployments.capacity(name);
    return [
      detail('serving', servingText(d), 'package'),
      ...(d.spec.remote ? [detail('host', `${where(node.view)}${d.placement ? ` · ${d.placement.dir}` : ''}`, 'remote')] : []),
      ...(d.shadow ? [detail('shadow', d.shadow, 'eye')] : []),
      detail('batching', d.spec.batching.maxBatch > 1 ? `up to ${d.spec.batching.maxBatch} rows, ${d.spec.batching.maxDelayMs} ms` : 'off', 'layers'),
      ...(status?.restarts ? [detail('restarts', `${status.restarts}${status.lastError ? ` · ${status.lastError}` : ''}`, 'debug-restart')] : []),
      ...(capacity ? [detail('capacity', `${Math.round(capacity.maxRps)} req/s at p99 ${capacity.p99Ms.toFixed(1)} ms${capacity.rpsPerCore ? ` · ${Math.round(capacity.rpsPerCore)} req/s per core` : ''}`, 'dashboard')] : []),
    ];
  }
}
