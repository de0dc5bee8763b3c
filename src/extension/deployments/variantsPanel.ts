// The variant comparison panel of one deployment: hosts the webview (webview/variants) and
// answers it from core's compareVariants (the prediction log) and the deployment's /metrics;
// sends fresh figures every few seconds while it is visible.

import * as vscode from 'vscode';
import type { Deployments } from '../../core/serving/deployments';
import { VARIANTS_PANEL, VARIANTS_VIEW_TYPE, type VariantsContract, type VariantsInspection, type VariantsRestoreState } from '../../protocol/variants';
import { HostedPanel, PanelHost } from '../panels/panelHost';
import { variantsData } from './variantsData';

const REFRESH_MS = 5000;

export class VariantsPanel extends HostedPanel<VariantsContract> {
  readonly host: PanelHost<VariantsContract>;
  private output: string | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly deployments: () => Promise<Deployments>, readonly deployment: string, log: (line: string) => void) {
    super();
    panel.title = `Variants: ${deployment}`;
    this.host = new PanelHost<VariantsContract>(panel, extensionUri, {
      panel: VARIANTS_PANEL,
      title: `Variants: ${deployment}`,
      script: 'variants',
      styles: ['panels.css', 'variants.css'],
      log,
      handlers: {
        'variants/load': async ({ output }) => {
          this.output = typeof output === 'string' && output ? output : undefined;
          return variantsData(await this.deployments(), this.deployment, this.output);
        },
      },
    });
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.host.onDidClose(() => clearInterval(this.timer));
  }

  get panel(): vscode.WebviewPanel {
    return this.host.panel;
  }

  /** Sends fresh figures while the panel is visible and listening. */
  async refresh(): Promise<void> {
    if (!this.host.ready || !this.panel.visible) return;
    try {
      this.host.notify('variants/updated', await variantsData(await this.deployments(), this.deployment, this.output));
    } catch {
      // The deployment was removed or the store is closing: the panel keeps what it shows.
    }
  }

  inspect(): Promise<VariantsInspection> {
    return this.host.request('view/inspect', {});
  }

  override dispose(): void {
    clearInterval(this.timer);
    super.dispose();
  }
}

/** One comparison panel per deployment: opened from the Deployments view, restored after a window reload. */
export class VariantsPanels implements vscode.Disposable {
  private readonly open = new Map<string, VariantsPanel>();

  constructor(private readonly extensionUri: vscode.Uri, private readonly deployments: () => Promise<Deployments>, private readonly log: (line: string) => void) {}

  /** Opens the deployment's panel, or shows the one open. */
  async show(name: string): Promise<VariantsPanel> {
    (await this.deployments()).get(name); // an unknown name fails here, with the fix
    const existing = this.open.get(name);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    return this.adopt(vscode.window.createWebviewPanel(VARIANTS_VIEW_TYPE, `Variants: ${name}`, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, {}), name);
  }

  /** After a window reload: the webview's saved state names its deployment. */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    const name = (state as Partial<VariantsRestoreState> | undefined)?.deployment;
    if (typeof name === 'string' && name) this.adopt(panel, name);
    else panel.dispose();
  }

  private adopt(panel: vscode.WebviewPanel, name: string): VariantsPanel {
    const p = new VariantsPanel(panel, this.extensionUri, this.deployments, name, this.log);
    this.open.set(name, p);
    p.onDidClose(() => {
      if (this.open.get(name) === p) this.open.delete(name);
    });
    return p;
  }

  dispose(): void {
    for (const p of [...this.open.values()]) p.dispose();
  }
}
