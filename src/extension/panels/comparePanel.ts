// The comparison panel: hosts the webview (webview/compare) and answers it
// from CompareModel; sends updates while its runs change.

import * as vscode from 'vscode';
import type { SaveFileResult } from '../../protocol/common';
import { COMPARE_PANEL, type CompareContract, type CompareInspection } from '../../protocol/compare';
import type { RunSummary } from '../../core/tracking/store';
import { CompareModel } from './compareModel';
import { HostedPanel, PanelHost } from './panelHost';
import type { PanelServices } from './services';

export class ComparePanel extends HostedPanel<CompareContract> {
  readonly host: PanelHost<CompareContract>;
  readonly model: CompareModel;

  constructor(panel: vscode.WebviewPanel, private readonly services: PanelServices, runIds: string[], pickRuns: (current: string[]) => Promise<string[] | undefined>) {
    super();
    this.model = new CompareModel(() => services.tracking(), runIds);
    this.host = new PanelHost<CompareContract>(panel, services.extensionUri, {
      panel: COMPARE_PANEL,
      title: 'Compare Runs',
      script: 'compare',
      styles: ['panels.css', 'compare.css'],
      log: services.log,
      handlers: {
        'compare/load': async (first) => {
          await services.ready;
          const data = this.model.load(first);
          this.updateTitle();
          return data;
        },
        'compare/series': async (request) => {
          await services.ready;
          return this.model.series(request);
        },
        'compare/exportCsv': async ({ metric }) => {
          await services.ready;
          if (typeof metric !== 'string' || !metric) throw new Error('Choose a metric to export.');
          return services.saveFile({ suggestedName: `${safeName(metric)}.csv`, content: this.model.csv(metric), typeLabel: 'CSV' });
        },
        'compare/pickRuns': async () => {
          const picked = await pickRuns(this.model.runIds);
          if (picked) this.setRuns(picked);
        },
        'file/save': (params) => services.saveFile(params),
      },
    });
    this.updateTitle();
    // The first curves are computed while the panel's script loads, not after it asks.
    void services.ready.then(() => this.model.prepare()).catch((err: Error) => services.log(`Compare: preparing the first curves failed (${err.message}); the panel asks for them.`));
  }

  get panel(): vscode.WebviewPanel {
    return this.host.panel;
  }

  /** Shows other runs: the webview starts over with their data. */
  setRuns(runIds: string[]): void {
    this.model.setRuns(runIds);
    this.updateTitle();
    if (this.host.ready) this.host.notify('compare/reset', this.model.load());
  }

  /** Called (throttled) when the tracking index changed, with its run list. */
  trackingChanged(runs: RunSummary[]): void {
    if (!this.host.ready) return;
    const update = this.model.update(runs);
    if (!update) return;
    this.host.notify('compare/updated', update);
    if (update.removed.length) {
      this.updateTitle();
      const names = update.removed.map((r) => `"${r.name}"`).join(', ');
      this.services.log(`Compare: run${update.removed.length === 1 ? '' : 's'} ${names} deleted while shown; removed from the comparison.`);
    }
  }

  inspect(): Promise<CompareInspection> {
    return this.host.request('view/inspect', {});
  }

  show(params: CompareContract['webviewRequests']['compare/show']['params']): Promise<CompareInspection> {
    return this.host.request('compare/show', params);
  }

  /** Exports the shown tab as its PNG or CSV button does; resolves with where it was saved. */
  export(format: 'png' | 'csv'): Promise<SaveFileResult> {
    return this.host.request('view/export', { format });
  }

  hover(x: number): Promise<string[]> {
    return this.host.request('compare/hover', { x });
  }

  private updateTitle(): void {
    const n = this.model.runIds.length;
    this.host.panel.title = n === 1 ? 'Compare 1 Run' : `Compare ${n} Runs`;
  }
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80) || 'metric';
}
