// The webview panels (runs table, comparison): their commands, their
// serializers (so they come back after a window reload), and live updates from
// the tracking service. extension.ts calls registerPanels once.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SaveFileParams, SaveFileResult } from '../../protocol/common';
import { COMPARE_VIEW_TYPE, type CompareRestoreState } from '../../protocol/compare';
import { RUNS_TABLE_VIEW_TYPE } from '../../protocol/runsTable';
import { compileRunQuery } from '../../core/tracking/runQuery';
import type { RunSummary } from '../../core/tracking/store';
import type { RunsNode } from '../runs/runsTree';
import type { TrackingService } from '../trackingService';
import { ComparePanel } from './comparePanel';
import { RunsTablePanel } from './runsTablePanel';
import type { PanelServices } from './services';
import { registerCommand } from '../commandErrors';

/** Live updates reach open panels at most this often while runs are active. */
const UPDATE_INTERVAL_MS = 250;

/** What `mlops.compareRuns` accepts: Runs view node(s), run ids, or nothing (then a quick pick). */
export type CompareArg = RunsNode | string | string[] | undefined;

export class PanelManager implements vscode.Disposable {
  private runsTable: RunsTablePanel | undefined;
  private comparePanel: ComparePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private updateTimer: NodeJS.Timeout | undefined;
  private updatePending = false;
  private lastUpdate = 0;
  readonly services: PanelServices;
  /**
   * Where exports go. Default: a save dialog. Tests replace it to save without
   * a dialog; return undefined to cancel.
   */
  chooseSavePath: (suggestedName: string, typeLabel: string) => Promise<string | undefined> = (name, label) => this.saveDialog(name, label);

  constructor(
    extensionUri: vscode.Uri,
    private readonly service: TrackingService,
    private readonly log: (line: string) => void,
    private readonly runsView?: vscode.TreeView<RunsNode>,
  ) {
    this.services = {
      extensionUri,
      tracking: () => service.current,
      ready: service.ready,
      log,
      compare: (ids) => this.compare(ids, true),
      saveFile: (params) => this.saveFile(params),
    };
    this.disposables.push(service.onDidChange(() => this.scheduleUpdate()));
  }

  register(): vscode.Disposable[] {
    return [
      registerCommand('mlops.openRunsTable', (arg?: { filter?: string } | RunsNode) => this.openRunsTable(arg)),
      registerCommand('mlops.compareRuns', (arg?: CompareArg, selection?: RunsNode[]) => this.compareCommand(arg, selection)),
      vscode.window.registerWebviewPanelSerializer(RUNS_TABLE_VIEW_TYPE, { deserializeWebviewPanel: async (panel) => void this.restoreRunsTable(panel) }),
      vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, { deserializeWebviewPanel: async (panel, state: unknown) => void this.restoreCompare(panel, state) }),
    ];
  }

  /**
   * After a window reload VS Code hands back the panel it kept; the webview
   * keeps its own state (filter, columns, selection) and asks for fresh data.
   */
  restoreRunsTable(panel: vscode.WebviewPanel): RunsTablePanel {
    this.adoptRunsTable(panel);
    return this.runsTable!;
  }

  /** The compare webview's saved state names its runs (CompareRestoreState). */
  restoreCompare(panel: vscode.WebviewPanel, state: unknown): ComparePanel {
    const runIds = (state as Partial<CompareRestoreState> | undefined)?.runIds;
    this.adoptCompare(panel, Array.isArray(runIds) ? runIds.filter((id): id is string => typeof id === 'string') : []);
    return this.comparePanel!;
  }

  /** The open runs table, if any (tests). */
  get runsTablePanel(): RunsTablePanel | undefined {
    return this.runsTable;
  }

  /** The open comparison panel, if any (tests). */
  get compareRunsPanel(): ComparePanel | undefined {
    return this.comparePanel;
  }

  async openRunsTable(arg?: { filter?: string } | RunsNode): Promise<RunsTablePanel> {
    if (this.runsTable) this.runsTable.reveal();
    else {
      const panel = vscode.window.createWebviewPanel(RUNS_TABLE_VIEW_TYPE, 'Runs', vscode.ViewColumn.Active, {});
      this.adoptRunsTable(panel);
    }
    const table = this.runsTable!;
    const filter = arg && typeof arg === 'object' && 'filter' in arg && typeof arg.filter === 'string' ? arg.filter : undefined;
    if (filter !== undefined) {
      const result = await table.setFilter(filter);
      if (!result.ok) void vscode.window.showWarningMessage(`MLOps: ${result.error}`);
    }
    return table;
  }

  /**
   * Opens the comparison panel on these runs, or shows them in the one already
   * open. `beside`: next to the current editor (from the runs table, which stays in view).
   */
  async compare(runIds: string[], beside = false): Promise<ComparePanel> {
    const ids = [...new Set(runIds)];
    if (!ids.length) throw new Error('Choose at least one run to compare.');
    if (this.comparePanel) {
      this.comparePanel.setRuns(ids);
      this.comparePanel.panel.reveal(undefined, beside);
    } else {
      const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'Compare Runs', { viewColumn: beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active, preserveFocus: beside }, {});
      this.adoptCompare(panel, ids);
    }
    return this.comparePanel!;
  }

  private async compareCommand(arg: CompareArg, selection?: RunsNode[]): Promise<ComparePanel | undefined> {
    const tracking = await this.service.ready;
    let ids: string[] = [];
    if (Array.isArray(selection) && selection.length > 1) ids = runIdsOf(selection, tracking);
    else if (Array.isArray(arg)) ids = arg.filter((a): a is string => typeof a === 'string');
    else if (typeof arg === 'string') ids = [arg];
    else if (arg && typeof arg === 'object') ids = runIdsOf([arg], tracking);
    if (!ids.length) {
      const picked = await this.pickRuns(runIdsOf([...(this.runsView?.selection ?? [])], tracking));
      if (!picked) return undefined;
      ids = picked;
    }
    const known = new Set(tracking.listRuns().map((r) => r.id));
    const resolved = ids.map((id) => (known.has(id) ? id : tracking.resolveRunId(id) ?? id));
    const missing = resolved.filter((id) => !known.has(id));
    if (missing.length === resolved.length) throw new Error(`No run has the id ${missing.map((id) => `"${id}"`).join(', ')}; it may have been deleted.`);
    return this.compare(resolved.filter((id) => known.has(id)));
  }

  /** Quick pick of runs to compare, `preselected` ticked. */
  async pickRuns(preselected: string[]): Promise<string[] | undefined> {
    const tracking = await this.service.ready;
    const runs = tracking.listRuns();
    if (!runs.length) {
      void vscode.window.showInformationMessage('MLOps: there are no runs to compare yet.');
      return undefined;
    }
    const items = runs.map((r) => ({
      label: r.name,
      description: `${r.status} · ${r.experiment}`,
      detail: r.id,
      picked: preselected.includes(r.id),
      id: r.id,
    }));
    const picked = await vscode.window.showQuickPick(items, { title: 'Compare Runs', placeHolder: 'Choose the runs to compare', canPickMany: true, matchOnDescription: true, matchOnDetail: true });
    return picked && picked.length ? picked.map((p) => p.id) : undefined;
  }

  private adoptRunsTable(panel: vscode.WebviewPanel): void {
    this.runsTable?.dispose();
    const table = new RunsTablePanel(panel, this.services, compileRunQuery);
    this.runsTable = table;
    table.onDidClose(() => {
      if (this.runsTable === table) this.runsTable = undefined;
    });
  }

  private adoptCompare(panel: vscode.WebviewPanel, runIds: string[]): void {
    this.comparePanel?.dispose();
    const compare = new ComparePanel(panel, this.services, runIds, (current) => this.pickRuns(current));
    this.comparePanel = compare;
    compare.onDidClose(() => {
      if (this.comparePanel === compare) this.comparePanel = undefined;
    });
  }

  /** Coalesces the service's change events: at most one update per interval, the last one never lost. */
  private scheduleUpdate(): void {
    if (!this.runsTable && !this.comparePanel) return; // a panel that opens loads fresh data
    if (this.updateTimer) {
      this.updatePending = true;
      return;
    }
    const wait = Math.max(0, this.lastUpdate + UPDATE_INTERVAL_MS - Date.now());
    this.updateTimer = setTimeout(() => {
      this.updateTimer = undefined;
      this.lastUpdate = Date.now();
      this.updatePending = false;
      this.updateNow();
      if (this.updatePending) this.scheduleUpdate();
    }, wait);
  }

  /** Pushes changes to the open panels now, from one read of the run list. */
  updateNow(): void {
    const listening = [this.runsTable, this.comparePanel].filter((p): p is RunsTablePanel | ComparePanel => !!p?.host.ready);
    let runs: RunSummary[] | undefined; // read once, and only when a panel listens
    for (const panel of listening) {
      try {
        runs ??= this.service.current?.listRuns();
        if (runs) panel.trackingChanged(runs);
      } catch (err) {
        this.log(`Updating a panel failed: ${(err as Error).message}`);
      }
    }
  }

  private async saveFile(params: SaveFileParams): Promise<SaveFileResult> {
    if (!params || typeof params.content !== 'string' || typeof params.suggestedName !== 'string') throw new Error('save: nothing to save');
    const target = await this.chooseSavePath(path.basename(params.suggestedName), params.typeLabel);
    if (!target) return { path: null };
    const bytes = params.base64 ? Buffer.from(params.content, 'base64') : Buffer.from(params.content, 'utf8');
    await vscode.workspace.fs.writeFile(vscode.Uri.file(target), bytes);
    void vscode.window.setStatusBarMessage(`MLOps: saved ${path.basename(target)}`, 4000);
    return { path: target };
  }

  private async saveDialog(suggestedName: string, typeLabel: string): Promise<string | undefined> {
    const ext = path.extname(suggestedName).slice(1) || '*';
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(this.service.root, suggestedName)),
      filters: { [typeLabel || ext.toUpperCase()]: [ext] },
      title: `Save ${typeLabel}`,
    });
    return uri?.fsPath;
  }

  dispose(): void {
    if (this.updateTimer) clearTimeout(this.updateTimer);
    this.runsTable?.dispose();
    this.comparePanel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Runs of Runs view nodes: a run node is its run, an experiment node all of its runs. */
function runIdsOf(nodes: RunsNode[], tracking: { listRuns(): { id: string; experiment: string }[] }): string[] {
  const ids: string[] = [];
  for (const node of nodes) {
    if (node.kind === 'run') ids.push(node.run.id);
    else if (node.kind === 'experiment') ids.push(...tracking.listRuns().filter((r) => r.experiment === node.name).map((r) => r.id));
    else if (node.kind === 'section' || node.kind === 'entry') ids.push(node.runId);
  }
  return [...new Set(ids)];
}

/**
 * Registers the panels' commands and serializers. Call once from activate():
 * `const panels = registerPanels(context, service, view);`
 */
export function registerPanels(
  context: vscode.ExtensionContext,
  service: TrackingService,
  runsView?: vscode.TreeView<RunsNode>,
  log: (line: string) => void = () => undefined,
): PanelManager {
  const manager = new PanelManager(context.extensionUri, service, log, runsView);
  context.subscriptions.push(manager, ...manager.register());
  return manager;
}
