import type { Model } from '../core/registry/registry';
import { Project } from '../core/project';

/** A run's value of a parameter or metric, for hovers. */
export interface RunValue {
  run: string;
  runId: string;
  value: string | number;
}

/** How long what was read stays fresh: typing in mlops.yaml asks many times a second. */
const FRESH_MS = 2000;
const RECENT_RUNS = 8;

/**
 * What the workspace's runs and registry know (metric and param names, values, models), read
 * from the tracking index opened read-only: the language server never takes the index's lock
 * nor saves it, so the extension and the CLI own it as before. Empty where there is no `.mlops/`.
 */
export class WorkspaceFacts {
  private project: Project | undefined;
  private opening: Promise<Project | undefined> | undefined;
  private readAt = 0;

  constructor(readonly root: string, private readonly onMessage: (message: string) => void) {}

  private async open(): Promise<Project | undefined> {
    if (this.project) {
      if (Date.now() - this.readAt > FRESH_MS) {
        this.project.tracking.refresh();
        this.readAt = Date.now();
      }
      return this.project;
    }
    // One opening at a time; a failure (no .mlops/ yet) is tried again once the answer is stale.
    if (!this.opening) {
      this.opening = Project.open(this.root, { mustExist: true, readOnly: true, onMessage: this.onMessage }).then(
        (p) => ((this.project = p), (this.readAt = Date.now()), p),
        () => undefined,
      );
      setTimeout(() => (this.opening = undefined), FRESH_MS).unref();
    }
    return this.opening;
  }

  async metricNames(): Promise<string[]> {
    return this.column("SELECT DISTINCT m.key AS k FROM metrics m JOIN runs r ON r.id = m.run_id AND r.lifecycle = 'active' ORDER BY m.key");
  }

  async paramNames(): Promise<string[]> {
    return this.column("SELECT DISTINCT p.key AS k FROM params p JOIN runs r ON r.id = p.run_id AND r.lifecycle = 'active' ORDER BY p.key");
  }

  /** True once at least one run logged a metric: before that, an unknown metric name is no news. */
  async hasMetrics(): Promise<boolean> {
    return (await this.metricNames()).length > 0;
  }

  /** The parameter's values in the most recent runs that set it, newest first. */
  async paramValues(key: string): Promise<RunValue[]> {
    const p = await this.open();
    if (!p) return [];
    return p.tracking.query(
      `SELECT r.id, r.name, p.value FROM params p JOIN runs r ON r.id = p.run_id AND r.lifecycle = 'active'
       WHERE p.key = ? ORDER BY r.start_time DESC LIMIT ${RECENT_RUNS}`,
      [key],
    ).map((row) => ({ runId: row.id as string, run: row.name as string, value: row.value as string }));
  }

  /** The run with the best latest value of a metric in the goal's direction, and how many runs logged it. */
  async bestRun(metric: string, goal: 'maximize' | 'minimize'): Promise<{ best?: RunValue; runs: number }> {
    const p = await this.open();
    if (!p) return { runs: 0 };
    const rows = p.tracking.query(
      `SELECT r.id, r.name, m.latest FROM metrics m JOIN runs r ON r.id = m.run_id AND r.lifecycle = 'active'
       WHERE m.key = ? AND m.latest IS NOT NULL ORDER BY m.latest ${goal === 'maximize' ? 'DESC' : 'ASC'}`,
      [metric],
    );
    const top = rows[0];
    return { runs: rows.length, ...(top ? { best: { runId: top.id as string, run: top.name as string, value: top.latest as number } } : {}) };
  }

  async models(): Promise<Model[]> {
    return (await this.open())?.registry.models() ?? [];
  }

  close(): void {
    this.project?.close();
    this.project = undefined;
  }

  private async column(sql: string): Promise<string[]> {
    const p = await this.open();
    return p ? p.tracking.query(sql).map((row) => row.k as string) : [];
  }
}
