import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes, formatNumber } from '../../core/format';
import { writeModelCard } from '../../core/governance/modelCard';
import { reproduceRun } from '../../core/governance/reproduce';
import type { Project } from '../../core/project';
import type { ModelVersion } from '../../core/registry/registry';
import { checkTagName, type SnapshotDiff, type SnapshotInfo } from '../../core/snapshots';
import { readProjectConfig } from '../../core/workspace/config';
import { registerCommand } from '../commandErrors';
import type { DataModelsTreeProvider, DataNode } from './dataModelsTree';
import { LINEAGE_SCHEME, LineageContentProvider, lineageUri } from './lineageContent';
import { ReportDocuments } from './reportDocuments';
import { showRunTerminal } from '../runs/runTerminal';
import type { RunsNode } from '../runs/runsTree';
import { snapshotUri } from './snapshotContent';
import type { TrackingService } from '../trackingService';
import { pushAskingAboutPersonalData } from '../validation/pushConfirm';

type SnapshotArg = DataNode | string | undefined;
type VersionArg = DataNode | { model: string; version: number } | undefined;

const REMOTE_KEY = 'mlops.snapshots.lastRemote';

/** Commands of the Data & Models view: snapshots, the model registry, lineage, cards and reproduction. */
export class DataCommands {
  private readonly reports = new ReportDocuments();

  constructor(
    private readonly service: TrackingService,
    private readonly tree: DataModelsTreeProvider,
    private readonly state: vscode.Memento,
  ) {}

  register(): vscode.Disposable[] {
    const cmd = registerCommand;
    return [
      cmd('mlops.snapshot', (paths?: string[], message?: string) => this.snapshot(paths, message)),
      cmd('mlops.refreshDataModels', () => this.tree.refresh()),
      cmd('mlops.diffSnapshots', (a: SnapshotArg, b?: string) => this.diff(a, b)),
      cmd('mlops.restoreSnapshot', (a: SnapshotArg, to?: string) => this.restore(a, to)),
      cmd('mlops.tagSnapshot', (a: SnapshotArg, name?: string) => this.tag(a, name)),
      cmd('mlops.pushSnapshots', (url?: string) => this.share('push', url)),
      cmd('mlops.fetchSnapshots', (url?: string) => this.share('fetch', url)),
      cmd('mlops.registerModel', (target?: vscode.Uri | RunsNode, name?: string) => this.registerModel(target, name)),
      cmd('mlops.setModelAlias', (v: VersionArg, alias?: string) => this.setAlias(v, alias)),
      cmd('mlops.deleteModelVersion', (v: VersionArg) => this.deleteVersion(v)),
      cmd('mlops.showModelCard', (v: VersionArg) => this.card(v)),
      cmd('mlops.showLineage', (v: VersionArg) => this.lineage(v)),
      cmd('mlops.reproduceRun', (run: RunsNode | string | undefined) => this.reproduce(run)),
      vscode.workspace.registerTextDocumentContentProvider(LINEAGE_SCHEME, new LineageContentProvider(this.service)),
      this.reports,
    ];
  }

  private changed(): void {
    this.tree.refresh();
    this.service.changedByUser();
  }

  /** Snapshots the given paths, else the ones the user picks (mlops.yaml's data and models offered first). */
  async snapshot(paths?: string[], message?: string): Promise<SnapshotInfo | undefined> {
    const project = await this.service.project();
    const root = project.layout.root;
    let chosen = paths;
    if (!chosen?.length) {
      const config = readProjectConfig(root);
      const configured = [...config.data, ...config.models];
      const browse = '$(folder-opened) Choose files or folders…';
      const picks = configured.length
        ? await vscode.window.showQuickPick([...configured.map((p) => ({ label: p, picked: true })), { label: browse }], { canPickMany: true, title: 'Snapshot which paths?' })
        : [{ label: browse }];
      if (!picks?.length) return undefined;
      chosen = picks.filter((p) => p.label !== browse).map((p) => p.label);
      if (picks.some((p) => p.label === browse)) {
        const uris = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: true, defaultUri: vscode.Uri.file(root), openLabel: 'Snapshot' });
        chosen.push(...(uris ?? []).map((u) => path.relative(root, u.fsPath)));
      }
      if (!chosen.length) return undefined;
    }
    const text = message ?? (await vscode.window.showInputBox({ title: 'Snapshot message', value: `Snapshot of ${chosen.join(', ')}`, prompt: 'What this snapshot holds, for later' }));
    if (text === undefined) return undefined;
    const info = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'MLOps: snapshotting', cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return project.snapshot(chosen!, {
          message: text,
          signal: controller.signal,
          onProgress: (p) => progress.report({ message: `${p.phase} ${p.files}${p.totalFiles ? `/${p.totalFiles}` : ''} files, ${formatBytes(p.bytes)}` }),
        });
      },
    );
    this.changed();
    void vscode.window.showInformationMessage(`MLOps: snapshot ${info.id.slice(0, 10)} — ${info.fileCount} files, ${formatBytes(info.totalBytes)}.`);
    return info;
  }

  private async pickSnapshot(project: Project, arg: SnapshotArg, title: string): Promise<string | undefined> {
    if (typeof arg === 'string') return project.snapshots.resolve(arg);
    if (arg?.kind === 'snapshot') return arg.info.id;
    const list = await project.snapshots.list();
    if (!list.length) throw new Error('There are no snapshots yet; take one with "MLOps: Snapshot Data or Models".');
    const pick = await vscode.window.showQuickPick(list.map((s) => ({
      label: s.message.split('\n')[0], description: `${s.id.slice(0, 10)}${s.tags.length ? ` #${s.tags.join(' #')}` : ''}`, detail: `${s.fileCount} files, ${formatBytes(s.totalBytes)}`, id: s.id,
    })), { title });
    return pick?.id;
  }

  /** A readable summary document, and the changed text files in VS Code's diff editor. */
  async diff(a: SnapshotArg, b?: string): Promise<SnapshotDiff | undefined> {
    const project = await this.service.project();
    const from = await this.pickSnapshot(project, a, 'Compare which snapshot (the older)?');
    if (!from) return undefined;
    const to = await this.pickSnapshot(project, b, `Compare ${from.slice(0, 10)} with which snapshot?`);
    if (!to) return undefined;
    const diff = await project.snapshots.diff(from, to);
    const lines = [`# Snapshot ${from.slice(0, 10)} → ${to.slice(0, 10)}`, ''];
    const section = (title: string, rows: string[]) => lines.push(`## ${title} (${rows.length})`, '', ...(rows.length ? rows : ['none']), '');
    section('Added', diff.added.map((f) => `- \`${f.path}\` ${formatBytes(f.size)}`));
    section('Removed', diff.removed.map((f) => `- \`${f.path}\` ${formatBytes(f.size)}`));
    section('Changed', diff.changed.map((c) => `- \`${c.path}\` ${formatBytes(c.before.size)} → ${formatBytes(c.after.size)}`));
    await this.reports.show(`Snapshot ${from.slice(0, 10)} to ${to.slice(0, 10)}`, lines.join('\n'));
    const changed = diff.changed.filter((c) => c.after.size < 5 * 1024 * 1024);
    if (changed.length) {
      await vscode.commands.executeCommand('vscode.changes', `Snapshot ${from.slice(0, 10)} ↔ ${to.slice(0, 10)}`,
        changed.map((c) => [snapshotUri(to, c.path), snapshotUri(from, c.path), snapshotUri(to, c.path)]));
    }
    return diff;
  }

  /** Restores into a folder, or in place after the user confirms which files would be overwritten. */
  async restore(arg: SnapshotArg, to?: string): Promise<{ written: string[] } | undefined> {
    const project = await this.service.project();
    const id = await this.pickSnapshot(project, arg, 'Restore which snapshot?');
    if (!id) return undefined;
    let target = to;
    if (target === undefined) {
      const where = await vscode.window.showQuickPick(['Into the workspace (in place)', 'Into a new folder…'], { title: `Restore ${id.slice(0, 10)}` });
      if (!where) return undefined;
      if (where.startsWith('Into a new')) {
        const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Restore here (empty folder)' });
        if (!uri?.[0]) return undefined;
        target = uri[0].fsPath;
      }
    }
    let result = await project.restore(id, { to: target || undefined });
    if (result.wouldOverwrite.length) {
      const shown = result.wouldOverwrite.slice(0, 10).join('\n') + (result.wouldOverwrite.length > 10 ? `\n…and ${result.wouldOverwrite.length - 10} more` : '');
      const answer = await vscode.window.showWarningMessage(
        `Restoring ${id.slice(0, 10)} would overwrite ${result.wouldOverwrite.length} changed file(s):\n${shown}`, { modal: true }, 'Overwrite');
      if (answer !== 'Overwrite') return { written: [] };
      result = await project.restore(id, { overwrite: true });
    }
    this.changed();
    void vscode.window.showInformationMessage(`MLOps: restored ${result.written.length} file(s) from ${id.slice(0, 10)}.`);
    return result;
  }

  async tag(arg: SnapshotArg, name?: string): Promise<void> {
    const project = await this.service.project();
    const id = await this.pickSnapshot(project, arg, 'Tag which snapshot?');
    if (!id) return;
    const tag = name ?? (await vscode.window.showInputBox({ title: `Tag ${id.slice(0, 10)}`, prompt: 'A name for this snapshot, e.g. train-2024-05', validateInput: tagNameProblem }));
    if (!tag) return;
    await project.tag(id, tag);
    this.changed();
  }

  async share(direction: 'push' | 'fetch', url?: string): Promise<void> {
    const project = await this.service.project();
    const remote = url ?? (await vscode.window.showInputBox({ title: `${direction === 'push' ? 'Push snapshots to' : 'Fetch snapshots from'} a git remote`, value: this.state.get<string>(REMOTE_KEY, ''), prompt: 'An HTTP(S) git URL' }));
    if (!remote) return;
    await this.state.update(REMOTE_KEY, remote);
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: ${direction === 'push' ? 'pushing' : 'fetching'} snapshots` }, async () => {
      if (direction === 'push') await pushAskingAboutPersonalData(project, remote);
      else {
        const ids = await project.fetch(remote);
        void vscode.window.showInformationMessage(`MLOps: fetched ${ids.length} snapshot(s).`);
      }
    });
    this.changed();
  }

  /** From a run's artifact (Runs view), a file (Explorer), or a file the user picks. */
  async registerModel(target?: vscode.Uri | RunsNode, name?: string): Promise<ModelVersion | undefined> {
    const project = await this.service.project();
    let file: string | undefined;
    let runId: string | undefined;
    if (target instanceof vscode.Uri) file = target.fsPath;
    else if (target?.kind === 'entry' && target.file) {
      file = target.file;
      runId = target.runId;
    } else {
      const uri = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, defaultUri: vscode.Uri.file(project.layout.root), openLabel: 'Register model' });
      file = uri?.[0]?.fsPath;
    }
    if (!file) return undefined;
    const existing = project.registry.models().map((m) => m.name);
    const model = name ?? (await vscode.window.showInputBox({
      title: 'Register model', prompt: existing.length ? `Model name (existing: ${existing.join(', ')})` : 'Model name, e.g. churn-classifier',
      value: existing[0] ?? path.basename(file).replace(/\.[^.]+$/, ''),
    }));
    if (!model) return undefined;
    const version = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: registering ${model}` }, () => project.registerModel(model, file!, runId));
    this.changed();
    void vscode.window.showInformationMessage(`MLOps: registered ${model} v${version.version} (${version.format.framework}).`);
    return version;
  }

  private version(project: Project, arg: VersionArg): ModelVersion {
    if (arg && 'kind' in arg) {
      if (arg.kind !== 'version') throw new Error('Choose a model version in the Data & Models view.');
      return arg.version;
    }
    if (!arg) throw new Error('Choose a model version in the Data & Models view.');
    return project.registry.version(arg.model, arg.version);
  }

  async setAlias(arg: VersionArg, alias?: string): Promise<void> {
    const project = await this.service.project();
    const v = this.version(project, arg);
    const name = alias ?? (await vscode.window.showQuickPick(['champion', 'challenger', 'Another name…'], { title: `Alias for ${v.model} v${v.version}` }).then(async (pick) =>
      pick === 'Another name…' ? vscode.window.showInputBox({ title: 'Alias name' }) : pick));
    if (!name) return;
    project.registry.setAlias(v.model, name, v.version);
    this.changed();
  }

  async deleteVersion(arg: VersionArg): Promise<void> {
    const project = await this.service.project();
    const v = this.version(project, arg);
    const answer = await vscode.window.showWarningMessage(`Delete ${v.model} v${v.version} from the registry? Its snapshot stays.`, { modal: true }, 'Delete');
    if (answer !== 'Delete') return;
    project.registry.deleteVersion(v.model, v.version);
    this.changed();
  }

  async card(arg: VersionArg): Promise<string> {
    const project = await this.service.project();
    const v = this.version(project, arg);
    const file = await writeModelCard(project.layout, project.registry, project.tracking, project.snapshots, v.model, v.version);
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
    // The card read as it will be shared, beside the Markdown its hand-written sections are edited in.
    await vscode.commands.executeCommand('markdown.showPreviewToSide', vscode.Uri.file(file));
    return file;
  }

  async lineage(arg: VersionArg): Promise<string> {
    const project = await this.service.project();
    const v = this.version(project, arg);
    const doc = await vscode.workspace.openTextDocument(lineageUri(v.model, v.version));
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc.getText();
  }

  /** Re-runs a run from its code commit and data snapshots, then shows both runs' metrics side by side. */
  async reproduce(arg: RunsNode | string | undefined): Promise<string | undefined> {
    const project = await this.service.project();
    const runId = typeof arg === 'string' ? project.tracking.resolveRunId(arg) ?? arg : arg?.kind === 'run' ? arg.run.id : undefined;
    if (!runId) throw new Error('Choose a run in the Runs view to reproduce.');
    const original = project.tracking.getRun(runId);
    const term = showRunTerminal(`${original?.name ?? runId.slice(0, 8)} (reproduce)`);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MLOps: reproducing ${original?.name ?? runId.slice(0, 8)}` },
      () => reproduceRun(project, runId, term.write),
    );
    term.done(`reproduction ${result.outcome.status}`);
    this.service.refresh();
    const rows = result.comparison.map((c) => `| ${c.key} | ${formatNumber(c.original)} | ${formatNumber(c.reproduced)} |`);
    await this.reports.show(`Reproduction of ${original?.name ?? runId}`, [
      `# Reproduction of ${original?.name ?? runId}`, '', `Original \`${runId}\` · reproduction \`${result.runId}\` (${result.outcome.status})`, '',
      '| metric | original | reproduced |', '| --- | --- | --- |', ...rows, ''].join('\n'));
    return result.runId;
  }
}

/** checkTagName's message for a tag name being typed, or undefined when it is valid. */
function tagNameProblem(name: string): string | undefined {
  try {
    checkTagName(name);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
