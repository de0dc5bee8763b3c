import * as vscode from 'vscode';
import { formatDuration, formatNumber } from '../../core/format';
import type { TrackingService } from '../trackingService';

/** While a run is active: its name, elapsed time and its first metric's latest value; click reveals it. */
export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mlops.activeRun', vscode.StatusBarAlignment.Left, 50);
  private readonly ticker: NodeJS.Timeout;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly service: TrackingService) {
    this.item.name = 'MLOps Active Run';
    this.subscription = service.onDidChange(() => this.update());
    this.ticker = setInterval(() => this.update(), 1000);
  }

  private update(): void {
    const tracking = this.service.current;
    const active = tracking?.listRuns({ status: 'RUNNING' }) ?? [];
    if (!tracking || active.length === 0) {
      this.item.hide();
      return;
    }
    const run = active[0];
    const metric = tracking.metricsOf([run.id]).get(run.id)?.[0];
    const more = active.length > 1 ? ` (+${active.length - 1})` : '';
    this.item.text = `$(sync~spin) ${run.name} ${formatDuration(run.start_time, null)}${metric ? ` ${metric.key}=${formatNumber(metric.latest, 4)}` : ''}${more}`;
    this.item.tooltip = `MLOps run "${run.name}" is running${more ? `, with ${active.length - 1} more` : ''}. Click to show it in the Runs view.`;
    this.item.command = { command: 'mlops.revealRun', title: 'Reveal Run', arguments: [run.id] };
    this.item.show();
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.subscription.dispose();
    this.item.dispose();
  }
}
