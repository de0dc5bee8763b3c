// Scheduled checks: every running deployment is checked when its last check (from any
// process) is older than the schedule: the setting mlops.monitoring.schedule, else
// monitoring.schedule in mlops.yaml. One check at a time; problems go to the output, once each.

import * as vscode from 'vscode';
import { durationMs, readMonitoringConfig } from '../../core/monitoring/config';
import { checkDeployment, latestVerdict, type CheckOptions, type CheckResult } from '../../core/monitoring/monitor';
import type { TrackingService } from '../trackingService';

/** How often the scheduler looks whether a check is due. */
const TICK_MS = 30_000;

export class MonitoringScheduler implements vscode.Disposable {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<unknown> = Promise.resolve();
  private readonly reported = new Set<string>();

  constructor(private readonly service: TrackingService, private readonly options: () => Promise<CheckOptions>, private readonly log: (line: string) => void) {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  /** The schedule in ms; undefined when checks run only by hand. */
  interval(): number | undefined {
    const setting = vscode.workspace.getConfiguration('mlops.monitoring').get<string>('schedule', '').trim();
    if (setting === 'off') return undefined;
    const text = setting || this.configured();
    if (!text) return undefined;
    const ms = durationMs(text);
    if (ms === undefined) this.once(`Monitoring: the schedule "${text}" is not a duration (30s, 15m, 6h, 1d); no scheduled checks.`);
    return ms;
  }

  private configured(): string | undefined {
    try {
      return readMonitoringConfig(this.service.root).schedule;
    } catch (err) {
      this.once(`Monitoring: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Checks one deployment, after any check under way. */
  check(deployment: string): Promise<CheckResult> {
    const next = this.running.then(async () => checkDeployment(this.service.root, deployment, await this.options()));
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Checks every running deployment whose last check is older than the schedule. */
  async tick(now = Date.now()): Promise<string[]> {
    const every = this.interval();
    if (every === undefined) return [];
    const checked: string[] = [];
    for (const view of (await this.service.project()).deployments.list()) {
      const name = view.deployment.spec.name;
      if (!view.live || now - (latestVerdict(this.service.root, name)?.time ?? 0) < every) continue;
      try {
        await this.check(name);
        checked.push(name);
      } catch (err) {
        this.once(`Monitoring: ${name} was not checked: ${(err as Error).message}`);
      }
    }
    return checked;
  }

  private once(line: string): void {
    if (this.reported.has(line)) return;
    this.reported.add(line);
    this.log(line);
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
