// The drift panel: hosts the webview (webview/drift) for one subject (a deployment, a model
// version, two snapshots) and answers it from driftModel; a deployment's new checks are
// pushed to it as they come.

import * as vscode from 'vscode';
import { DRIFT_PANEL, type DriftContract, type DriftData, type DriftInspection, type DriftSubject } from '../../protocol/drift';
import { HostedPanel, PanelHost } from '../panels/panelHost';
import { loadDriftData, type DriftSources } from './driftModel';

export class DriftPanel extends HostedPanel<DriftContract> {
  readonly host: PanelHost<DriftContract>;

  constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, readonly subject: DriftSubject, private readonly sources: DriftSources, retrain: (deployment: string) => Promise<void>, log: (line: string) => void) {
    super();
    this.host = new PanelHost<DriftContract>(panel, extensionUri, {
      panel: DRIFT_PANEL,
      title: 'Drift',
      script: 'drift',
      styles: ['panels.css', 'drift.css'],
      log,
      handlers: {
        'drift/load': () => this.load(false),
        'drift/check': () => this.load(true),
        'drift/retrain': async () => {
          if (subject.kind !== 'deployment') throw new Error('Retraining starts from a deployment.');
          await retrain(subject.deployment);
        },
      },
    });
  }

  private async load(check: boolean): Promise<DriftData> {
    const data = check
      ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: checking ${describe(this.subject)} for drift…` }, () => loadDriftData(this.sources, this.subject, true))
      : await loadDriftData(this.sources, this.subject);
    this.host.panel.title = data.title;
    return data;
  }

  /** A new check of this deployment was recorded: the webview shows it. */
  async refresh(): Promise<void> {
    if (!this.host.ready) return;
    this.host.notify('drift/updated', await this.load(false));
  }

  inspect(): Promise<DriftInspection> {
    return this.host.request('view/inspect', {});
  }

  select(column: string): Promise<DriftInspection> {
    return this.host.request('drift/select', { column });
  }
}

export function describe(subject: DriftSubject): string {
  if (subject.kind === 'deployment') return subject.deployment;
  if (subject.kind === 'version') return `${subject.model} version ${subject.version}`;
  return `${subject.reference.slice(0, 10)} → ${subject.current.slice(0, 10)}`;
}

/** The same subject (a panel per subject is reused). */
export function sameSubject(a: DriftSubject, b: DriftSubject): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
