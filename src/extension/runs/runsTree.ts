import * as path from 'node:path';
import * as vscode from 'vscode';
import { RefreshableTree } from '../refreshableTree';
import type { ModelVersion } from '../../core/registry/registry';
import type { MetricSummary, RunDetail, RunSummary } from '../../core/tracking/store';
import { PIPELINE_RUN_TAG } from '../../core/pipelines/tags';
import { formatBytes, formatDuration, formatNumber, formatTime } from '../../core/format';
import { judgeObjectives, readObjectivesOrNone, verdictText, type ObjectivesVerdict } from '../../core/workspace/objectives';
import { runTooltip } from '../tooltips';
import type { TrackingService } from '../trackingService';

/** Nodes of the Runs view: experiments → runs → sections → entries. */
export type RunsNode =
  | { kind: 'experiment'; name: string; runCount: number }
  | { kind: 'run'; run: RunSummary; keyMetric?: MetricSummary; objectives?: ObjectivesVerdict }
  | { kind: 'section'; runId: string; section: Section; count: number }
  | { kind: 'entry'; runId: string; section: Section; label: string; description: string; tooltip?: string; file?: string }
  | PipelineRunNode;

/** The stage runs of one pipeline run, grouped under their experiment. */
type PipelineRunNode = { kind: 'pipeline'; experiment: string; pipelineRun: string; runs: RunSummary[] };

type Section = 'params' | 'metrics' | 'tags' | 'artifacts' | 'inputs' | 'models' | 'cells';

const SECTION_TITLES: Record<Section, string> = { params: 'Params', metrics: 'Metrics', tags: 'Tags', artifacts: 'Artifacts', inputs: 'Data Snapshots', models: 'Registered Models', cells: 'Cells' };

const STATUS_ICONS: Record<string, vscode.ThemeIcon> = {
  RUNNING: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  FINISHED: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  FAILED: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  KILLED: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
};

export class RunsTreeProvider extends RefreshableTree<RunsNode> {
  private readonly subscription: vscode.Disposable;
  /** Nodes handed out, by id, so reveal() and getParent() find the same objects. */
  private readonly runNodes = new Map<string, RunsNode & { kind: 'run' }>();
  /** The pipeline-run node each stage run sits under. */
  private readonly pipelineNodes = new Map<string, PipelineRunNode>();

  constructor(private readonly service: TrackingService) {
    super();
    this.subscription = service.onDidChange(() => this.refresh());
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'experiment': {
        const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `experiment:${node.name}`;
        item.description = `${node.runCount} run${node.runCount === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon('beaker');
        item.contextValue = 'experiment';
        return item;
      }
      case 'run':
        return this.runItem(node);
      case 'pipeline':
        return pipelineItem(node);
      case 'section': {
        const item = new vscode.TreeItem(SECTION_TITLES[node.section], vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${node.runId}:${node.section}`;
        item.description = String(node.count);
        item.contextValue = `section.${node.section}`;
        return item;
      }
      case 'entry': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = `${node.runId}:${node.section}:${node.label}`;
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.contextValue = `entry.${node.section}`;
        if (node.file) {
          item.resourceUri = vscode.Uri.file(node.file);
          item.command = { command: 'mlops.openArtifact', title: 'Open Artifact', arguments: [vscode.Uri.file(node.file)] };
        }
        return item;
      }
    }
  }

  private runItem(node: RunsNode & { kind: 'run' }): vscode.TreeItem {
    const { run, keyMetric, objectives } = node;
    const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = run.id;
    const parts = [formatTime(run.start_time).slice(5, 16), formatDuration(run.start_time, run.end_time)];
    if (keyMetric) parts.unshift(`${keyMetric.key}=${formatNumber(keyMetric.latest, 4)}`);
    if (objectives) parts.unshift(objectives.met ? '✓' : '✗');
    item.description = parts.join(' · ');
    item.iconPath = STATUS_ICONS[run.status] ?? new vscode.ThemeIcon('circle-outline');
    item.contextValue = run.status === 'RUNNING' ? 'run.active' : 'run.done';
    item.tooltip = new vscode.MarkdownString(runTooltip(run, objectives && verdictText(objectives)));
    return item;
  }

  getChildren(node?: RunsNode): RunsNode[] {
    const tracking = this.service.current;
    if (!tracking) return [];
    if (!node) {
      this.runNodes.clear();
      this.pipelineNodes.clear();
      return tracking.listExperiments().filter((e) => e.runCount > 0).map((e) => ({ kind: 'experiment', name: e.name, runCount: e.runCount }));
    }
    if (node.kind === 'experiment') {
      const runs = tracking.listRuns({ experiment: node.name });
      const metrics = tracking.metricsOf(runs.map((r) => r.id));
      const objectives = readObjectivesOrNone(this.service.root);
      // The setting wins; else the first objective of mlops.yaml; else the first metric logged.
      const keyName = vscode.workspace.getConfiguration('mlops').get<string>('runs.keyMetric', '') || ([...objectives.keys()][0] ?? '');
      const runNodes = runs.map((run) => {
        const list = metrics.get(run.id) ?? [];
        const verdict = judgeObjectives(objectives, (key) => list.find((m) => m.key === key)?.latest);
        const runNode: RunsNode & { kind: 'run' } = { kind: 'run', run, keyMetric: list.find((m) => m.key === keyName) ?? list[0], ...(verdict ? { objectives: verdict } : {}) };
        this.runNodes.set(run.id, runNode);
        return runNode;
      });
      return this.groupPipelineRuns(node.name, runNodes, tracking.tagsOf(runs.map((r) => r.id)));
    }
    if (node.kind === 'pipeline') return node.runs.map((r) => this.runNodes.get(r.id)).filter((n): n is RunsNode & { kind: 'run' } => !!n);
    if (node.kind === 'run') {
      const detail = tracking.getRun(node.run.id);
      return detail ? sections(detail, this.service.modelsOfRun(detail.id)) : [];
    }
    if (node.kind === 'section') {
      const detail = tracking.getRun(node.runId);
      return detail ? entries(detail, node.section, tracking.layout.artifactsDir(node.runId), () => this.service.modelsOfRun(detail.id)) : [];
    }
    return [];
  }

  /** Runs of one pipeline run become one node, where the newest of them would be; its stages inside, oldest first. */
  private groupPipelineRuns(experiment: string, runNodes: (RunsNode & { kind: 'run' })[], tags: Map<string, Record<string, string>>): RunsNode[] {
    const groups = new Map<string, PipelineRunNode>();
    const out: RunsNode[] = [];
    for (const n of runNodes) {
      const id = tags.get(n.run.id)?.[PIPELINE_RUN_TAG];
      if (!id) {
        out.push(n);
        continue;
      }
      let group = groups.get(id);
      if (!group) {
        group = { kind: 'pipeline', experiment, pipelineRun: id, runs: [] };
        groups.set(id, group);
        out.push(group);
      }
      group.runs.unshift(n.run);
      this.pipelineNodes.set(n.run.id, group);
    }
    return out;
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.kind === 'run' && this.pipelineNodes.has(node.run.id)) return this.pipelineNodes.get(node.run.id);
    if (node.kind === 'pipeline') return { kind: 'experiment', name: node.experiment, runCount: 0 };
    if (node.kind === 'run') return { kind: 'experiment', name: node.run.experiment, runCount: 0 };
    if (node.kind === 'section' || node.kind === 'entry') return this.runNodes.get(node.runId);
    return undefined;
  }

  /** The node of a run, for TreeView.reveal (loads its experiment's children if needed). */
  runNode(runId: string): RunsNode | undefined {
    if (!this.runNodes.has(runId)) {
      const run = this.service.current?.listRuns().find((r) => r.id === runId);
      if (run) this.getChildren({ kind: 'experiment', name: run.experiment, runCount: 0 });
    }
    return this.runNodes.get(runId);
  }

  override dispose(): void {
    this.subscription.dispose();
    super.dispose();
  }
}

/** "Pipeline run 1a2b3c…": its stages, when it started, and the worst status among them. */
function pipelineItem(node: PipelineRunNode): vscode.TreeItem {
  const item = new vscode.TreeItem(`Pipeline run ${node.pipelineRun}`, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `pipeline:${node.experiment}:${node.pipelineRun}`;
  const first = node.runs[0];
  const status = (['RUNNING', 'FAILED', 'KILLED'] as const).find((s) => node.runs.some((r) => r.status === s)) ?? 'FINISHED';
  item.description = [`${node.runs.length} stage${node.runs.length === 1 ? '' : 's'}`, first ? formatTime(first.start_time).slice(5, 16) : undefined].filter(Boolean).join(' · ');
  item.iconPath = status === 'FINISHED' ? new vscode.ThemeIcon('type-hierarchy', new vscode.ThemeColor('testing.iconPassed')) : STATUS_ICONS[status];
  item.tooltip = `Pipeline run ${node.pipelineRun}: ${node.runs.map((r) => `${r.name} ${r.status}`).join(', ')}`;
  item.contextValue = 'pipelineRun';
  return item;
}

function sections(run: RunDetail, models: ModelVersion[]): RunsNode[] {
  const counts: Record<Section, number> = {
    params: Object.keys(run.params).length,
    metrics: run.metrics.length,
    tags: Object.keys(run.tags).length,
    artifacts: run.artifacts.length,
    inputs: run.inputs.length,
    models: models.length,
    cells: run.cells.length,
  };
  return (Object.keys(counts) as Section[]).filter((s) => counts[s] > 0).map((section) => ({ kind: 'section', runId: run.id, section, count: counts[section] }));
}

/** `models` reads the registry: only the models section asks. */
function entries(run: RunDetail, section: Section, artifactsDir: string, models: () => ModelVersion[]): RunsNode[] {
  const entry = (label: string, description: string, extra: Partial<RunsNode & { kind: 'entry' }> = {}): RunsNode =>
    ({ kind: 'entry', runId: run.id, section, label, description, ...extra });
  switch (section) {
    case 'params':
      return Object.entries(run.params).map(([k, v]) => entry(k, v.length > 80 ? v.slice(0, 80) + '…' : v, { tooltip: v.length > 2000 ? v.slice(0, 2000) + '…' : v }));
    case 'tags':
      return Object.entries(run.tags).map(([k, v]) => entry(k, v));
    case 'metrics':
      return run.metrics.map((m) => entry(m.key, formatNumber(m.latest), {
        tooltip: `${m.key}\nlatest ${formatNumber(m.latest)} at step ${m.step}\nmin ${formatNumber(m.min)} · max ${formatNumber(m.max)}\n${m.count} point${m.count === 1 ? '' : 's'}`,
      }));
    case 'inputs':
      return run.inputs.map((i) => entry(i.snapshot.slice(0, 10), i.paths.join(', '), { tooltip: `Data snapshot ${i.snapshot}\n${i.paths.join('\n')}` }));
    case 'models':
      return models().map((v) => entry(`${v.model} v${v.version}`, v.format.framework, { tooltip: `${v.path}\nsnapshot ${v.snapshot}` }));
    case 'cells':
      // In execution order; the number keeps labels unique when a cell ran more than once.
      return run.cells.map((c, i) => entry(`${i + 1}. cell ${c.index + 1}`, [
        c.executionCount === null ? undefined : `In [${c.executionCount}]`, formatMs(c.durationMs), c.status,
      ].filter(Boolean).join(' · '), {
        tooltip: `Cell ${c.index + 1} (index ${c.index})${c.executionCount === null ? '' : `, In [${c.executionCount}]`}\n${c.status}${c.error ? `: ${c.error}` : ''}\n` +
          `${formatMs(c.durationMs) ?? 'duration unknown'}, ended ${formatTime(c.time)}`,
      }));
    case 'artifacts':
      return run.artifacts.map((a) => entry(a.path, formatBytes(a.size), { file: path.join(artifactsDir, a.path), tooltip: `${a.path}\n${a.size} bytes\nsha256 ${a.sha256}` }));
  }
}

/** A cell's duration: "850 ms", "12.3 s". */
function formatMs(ms: number | null): string | undefined {
  if (ms === null) return undefined;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
