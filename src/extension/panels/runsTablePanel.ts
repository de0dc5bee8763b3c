// The runs table panel: hosts the webview (webview/runs) and answers it from
// RunsTableModel; sends deltas while runs change.

import * as vscode from 'vscode';
import type { SaveFileResult } from '../../protocol/common';
import { RUNS_TABLE_PANEL, type FilterResult, type RunsTableContract, type RunsTableInspection } from '../../protocol/runsTable';
import type { RunSummary } from '../../core/tracking/store';
import { HostedPanel, PanelHost } from './panelHost';
import { RunsTableModel, type CompileQuery } from './runsTableModel';
import type { PanelServices } from './services';

export class RunsTablePanel extends HostedPanel<RunsTableContract> {
  readonly host: PanelHost<RunsTableContract>;
  readonly model: RunsTableModel;

  constructor(panel: vscode.WebviewPanel, services: PanelServices, compile: CompileQuery) {
    super();
    this.model = new RunsTableModel(() => services.tracking(), compile);
    this.host = new PanelHost<RunsTableContract>(panel, services.extensionUri, {
      panel: RUNS_TABLE_PANEL,
      title: 'Runs',
      script: 'runs',
      styles: ['panels.css', 'runsTable.css'],
      log: services.log,
      handlers: {
        'runs/load': async () => {
          await services.ready;
          return this.model.load();
        },
        'runs/filter': async ({ query }) => {
          await services.ready;
          if (typeof query !== 'string') throw new Error('filter: "query" must be text');
          return this.model.setFilter(query);
        },
        'runs/compare': async ({ runIds }) => {
          if (!Array.isArray(runIds) || !runIds.length) throw new Error('Select one or more runs to compare.');
          await services.compare(runIds.filter((id) => typeof id === 'string'));
        },
        'runs/reveal': async ({ runId }) => {
          await vscode.commands.executeCommand('mlops.revealRun', runId);
        },
        'file/save': (params) => services.saveFile(params),
      },
    });
  }

  get panel(): vscode.WebviewPanel {
    return this.host.panel;
  }

  /** Called (throttled) when the tracking index changed, with its run list. */
  trackingChanged(runs: RunSummary[]): void {
    if (!this.host.ready) return;
    const delta = this.model.refresh(runs);
    if (delta) this.host.notify('runs/changed', delta);
  }

  /** Puts a query in the filter field and applies it, as typing would. */
  setFilter(query: string): Promise<FilterResult> {
    return this.host.request('runs/setFilter', { query });
  }

  inspect(): Promise<RunsTableInspection> {
    return this.host.request('view/inspect', {});
  }

  /** The CSV that Export would save: the visible rows and columns. */
  csv(): Promise<string> {
    return this.host.request('runs/csv', {});
  }

  /** Exports as the Export CSV button does; resolves with where it was saved. */
  exportCsv(): Promise<SaveFileResult> {
    return this.host.request('view/export', { format: 'csv' });
  }

  select(runIds: string[]): Promise<string[]> {
    return this.host.request('runs/select', { runIds });
  }
}
