import * as vscode from 'vscode';
import { RefreshableTree } from '../refreshableTree';
import { formatBytes, formatNumber, formatTime } from '../../core/format';
import { modelLineage, type LineageNode } from '../../core/registry/lineage';
import type { Model, ModelVersion } from '../../core/registry/registry';
import type { SnapshotFile, SnapshotInfo } from '../../core/snapshots';
import { snapshotUri } from './snapshotContent';
import { modelVersionTooltip } from '../tooltips';
import type { TrackingService } from '../trackingService';

/** Nodes of the Data & Models view: snapshots → files; models → versions → lineage. */
export type DataNode =
  | { kind: 'group'; group: 'snapshots'; snapshots: SnapshotInfo[] }
  | { kind: 'group'; group: 'models' }
  | { kind: 'snapshot'; info: SnapshotInfo }
  | { kind: 'file'; snapshot: string; file: SnapshotFile }
  | { kind: 'model'; model: Model }
  | { kind: 'version'; version: ModelVersion; aliases: string[] }
  | { kind: 'lineage'; node: LineageNode; key: string };

const LINEAGE_ICONS: Record<LineageNode['kind'], string> = { model: 'package', run: 'beaker', code: 'git-commit', snapshot: 'database' };

export class DataModelsTreeProvider extends RefreshableTree<DataNode> {

  constructor(private readonly service: TrackingService) {
    super();
  }

  getTreeItem(node: DataNode): vscode.TreeItem {
    const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    switch (node.kind) {
      case 'group': {
        const item = new vscode.TreeItem(node.group === 'snapshots' ? 'Snapshots' : 'Models', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.group}`;
        item.iconPath = new vscode.ThemeIcon(node.group === 'snapshots' ? 'database' : 'package');
        item.contextValue = `group.${node.group}`;
        return item;
      }
      case 'snapshot': {
        const { info } = node;
        const item = new vscode.TreeItem(info.message.split('\n')[0] || info.id.slice(0, 10), Collapsed);
        item.id = `snapshot:${info.id}`;
        item.description = [info.tags.map((t) => `#${t}`).join(' '), formatTime(info.time).slice(5, 16), `${info.fileCount} files`, formatBytes(info.totalBytes)].filter(Boolean).join(' · ');
        item.tooltip = `${info.message}\n\n${info.id}\n${formatTime(info.time)} by ${info.author}\npaths: ${info.paths.join(', ')}`;
        item.iconPath = new vscode.ThemeIcon(info.tags.length ? 'tag' : 'database');
        item.contextValue = 'snapshot';
        return item;
      }
      case 'file': {
        const item = new vscode.TreeItem(node.file.path, vscode.TreeItemCollapsibleState.None);
        item.id = `snapshot:${node.snapshot}:${node.file.path}`;
        item.description = formatBytes(node.file.size);
        item.iconPath = vscode.ThemeIcon.File;
        item.resourceUri = snapshotUri(node.snapshot, node.file.path);
        item.command = { command: 'vscode.open', title: 'Open', arguments: [item.resourceUri] };
        item.contextValue = 'snapshotFile';
        return item;
      }
      case 'model': {
        const { model } = node;
        const item = new vscode.TreeItem(model.name, Collapsed);
        item.id = `model:${model.name}`;
        item.description = `${model.versions.length} version${model.versions.length === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon('package');
        item.contextValue = 'model';
        return item;
      }
      case 'version': {
        const { version: v, aliases } = node;
        const item = new vscode.TreeItem(`v${v.version}`, Collapsed);
        item.id = `model:${v.model}:${v.version}`;
        const metric = Object.entries(v.metrics)[0];
        item.description = [aliases.map((a) => `@${a}`).join(' '), v.format.framework, metric ? `${metric[0]}=${typeof metric[1] === 'number' ? formatNumber(metric[1], 4) : metric[1]}` : '']
          .filter(Boolean).join(' · ');
        item.tooltip = new vscode.MarkdownString(modelVersionTooltip(v, aliases));
        item.iconPath = new vscode.ThemeIcon(aliases.length ? 'verified-filled' : 'versions');
        item.contextValue = 'modelVersion';
        return item;
      }
      case 'lineage': {
        const item = new vscode.TreeItem(node.node.label, node.node.children.length ? Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = node.key;
        item.description = node.node.detail;
        item.iconPath = new vscode.ThemeIcon(LINEAGE_ICONS[node.node.kind]);
        item.contextValue = `lineage.${node.node.kind}`;
        if (node.node.kind === 'run') item.command = { command: 'mlops.revealRun', title: 'Reveal Run', arguments: [node.node.id] };
        return item;
      }
    }
  }

  async getChildren(node?: DataNode): Promise<DataNode[]> {
    if (!this.service.current) return [];
    const project = await this.service.project();
    if (!node) {
      const [snapshots, models] = [await project.snapshots.list(), project.registry.models()];
      if (!snapshots.length && !models.length) return []; // the welcome view explains what goes here
      return [{ kind: 'group', group: 'snapshots', snapshots }, { kind: 'group', group: 'models' }];
    }
    switch (node.kind) {
      case 'group':
        return node.group === 'snapshots'
          ? node.snapshots.map((info) => ({ kind: 'snapshot', info }))
          : project.registry.models().map((model) => ({ kind: 'model', model }));
      case 'snapshot':
        return (await project.snapshots.show(node.info.id)).files.map((file) => ({ kind: 'file', snapshot: node.info.id, file }));
      case 'model':
        return [...node.model.versions].reverse().map((version) => ({
          kind: 'version', version,
          aliases: Object.entries(node.model.aliases).filter(([, n]) => n === version.version).map(([a]) => a),
        }));
      case 'version': {
        const lineage = await modelLineage(project.registry, project.tracking, project.snapshots, node.version.model, node.version.version);
        return lineage.children.map((child, i) => ({ kind: 'lineage', node: child, key: `lineage:${lineage.id}:${i}` }));
      }
      case 'lineage':
        return node.node.children.map((child, i) => ({ kind: 'lineage', node: child, key: `${node.key}:${i}` }));
      default:
        return [];
    }
  }
}
