import * as vscode from 'vscode';
import type { Deployments } from '../../core/serving/deployments';
import { readLiveStats, scrapeMetrics, type LiveStats, type MetricsScrape } from '../../core/serving/liveStats';

/** How often the view's live figures are refreshed while it is visible. */
const POLL_MS = 3000;

/**
 * Live req/s, p50/p99 and error rate of the running deployments, for the Deployments view:
 * each deployment's /metrics is scraped every few seconds while the view is visible (never
 * when hidden), and the figures of the last interval kept.
 */
export class LiveStatsPoller implements vscode.Disposable {
  private readonly last = new Map<string, { url: string; scrape: MetricsScrape; stats?: LiveStats }>();
  private timer: NodeJS.Timeout | undefined;
  private visibility: vscode.Disposable | undefined;
  private polling = false;

  constructor(private readonly deployments: () => Promise<Deployments>, private readonly onUpdate: () => void) {}

  /** Polls while `view` is visible. */
  follow(view: vscode.TreeView<unknown>): void {
    this.visibility = view.onDidChangeVisibility((e) => (e.visible ? this.start() : this.pause()));
    if (view.visible) this.start();
  }

  /** The figures of the last interval, once two scrapes of the running server exist. */
  stats(name: string): LiveStats | undefined {
    return this.last.get(name)?.stats;
  }

  dispose(): void {
    this.pause();
    this.visibility?.dispose();
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    void this.poll();
  }

  private pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // a slow server never stacks scrapes up
    this.polling = true;
    try {
      const running = (await this.deployments()).list().filter((v) => v.live && v.status?.url);
      const names = new Set(running.map((v) => v.deployment.spec.name));
      for (const name of this.last.keys()) if (!names.has(name)) this.last.delete(name);
      await Promise.all(running.map(async (v) => {
        const name = v.deployment.spec.name;
        const url = v.status!.url!;
        const before = this.last.get(name);
        // A restart on another port starts over: the old scrape is of another server.
        const previous = before?.url === url ? before.scrape : undefined;
        try {
          const { stats, scrape } = previous ? await readLiveStats(url, { previous }) : { stats: undefined, scrape: await scrapeMetrics(url) };
          this.last.set(name, { url, scrape, stats });
        } catch {
          this.last.delete(name); // not answering now: the view shows its state, not stale figures
        }
      }));
      this.onUpdate();
    } catch {
      // No project yet (the store still opening): the next tick tries again.
    } finally {
      this.polling = false;
    }
  }
}
