import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendRecord, isSettled } from '../workspace/appendLog';
import type { MlopsLayout } from '../workspace/layout';

/**
 * MLflow experiments that the run event logs cannot express: stable ids, creation time,
 * artifact location, tags and lifecycle. They live in `.mlops/experiments.jsonl`, an
 * append-only log like a run's (docs/mlflow.md): one JSON object per line, written through
 * appendLog.ts, unknown types skipped, bad lines skipped with a warning. Runs still name their experiment in
 * `run_start`; this log only gives those names ids and metadata, so `tracking.db` stays
 * rebuildable from the run logs and a reindex never loses an experiment.
 *
 *   {"type":"experiment","time":…,"id":"1","name":"mnist","artifact_location":"…"}
 *   {"type":"experiment_tag","time":…,"id":"1","key":"team","value":"vision"}
 *   {"type":"experiment_lifecycle","time":…,"id":"1","stage":"deleted"}
 *   {"type":"experiment_rename","time":…,"id":"1","name":"digits"}
 *
 * Experiment "0" is "Default" and always exists, whether or not the log names it.
 */
export interface ExperimentRecord {
  id: string;
  name: string;
  artifactLocation?: string;
  lifecycle: 'active' | 'deleted';
  creationTime: number;
  lastUpdateTime: number;
  tags: Map<string, string>;
}

export type ExperimentLogEvent =
  | { type: 'experiment'; time: number; id: string; name: string; artifact_location?: string }
  | { type: 'experiment_tag'; time: number; id: string; key: string; value: string }
  | { type: 'experiment_lifecycle'; time: number; id: string; stage: 'active' | 'deleted' }
  | { type: 'experiment_rename'; time: number; id: string; name: string };

export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';

export function experimentsFile(layout: MlopsLayout): string {
  return path.join(layout.dir, 'experiments.jsonl');
}

export class ExperimentLog {
  private readonly byIdMap = new Map<string, ExperimentRecord>();
  private readonly byNameMap = new Map<string, ExperimentRecord>();
  private nextId = 1;
  /** Lines that could not be read when the log was loaded: "line N: why". */
  readonly warnings: string[] = [];

  constructor(readonly file: string, private readonly now: () => number = Date.now) {
    this.add({ id: DEFAULT_EXPERIMENT_ID, name: DEFAULT_EXPERIMENT_NAME, lifecycle: 'active', creationTime: 0, lastUpdateTime: 0, tags: new Map() });
    this.load();
  }

  private load(): void {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.file);
    } catch {
      return;
    }
    const end = bytes.lastIndexOf(10);
    const lines = end < 0 ? [] : bytes.subarray(0, end).toString('utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const why = this.apply(JSON.parse(line) as unknown);
        if (why) this.warnings.push(`line ${i + 1}: ${why}`);
      } catch {
        this.warnings.push(`line ${i + 1}: not valid JSON`);
      }
    });
    // No newline after the last line: a write a crash cut off (or one still under way); the next append moves it aside.
    if (end < bytes.length - 1 && isSettled(this.file)) this.warnings.push(`line ${lines.length + 1}: cut off (no newline)`);
  }

  /** Applies one parsed line; returns why it was skipped, if it was. */
  private apply(raw: unknown): string | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
    const e = raw as Record<string, unknown>;
    if (typeof e.id !== 'string' || typeof e.time !== 'number') return 'no "id" or "time"';
    const time = e.time;
    if (e.type === 'experiment') {
      if (typeof e.name !== 'string' || !e.name) return 'experiment without a "name"';
      if (this.byIdMap.has(e.id) && e.id !== DEFAULT_EXPERIMENT_ID) return `experiment id ${e.id} is defined twice`;
      const clash = this.byNameMap.get(e.name);
      if (clash && clash.id !== e.id) return `experiment name "${e.name}" already belongs to id ${clash.id}`;
      const existing = this.byIdMap.get(e.id);
      if (existing) {
        existing.creationTime = time;
        existing.lastUpdateTime = Math.max(existing.lastUpdateTime, time);
        if (typeof e.artifact_location === 'string') existing.artifactLocation = e.artifact_location;
        return undefined;
      }
      this.add({
        id: e.id, name: e.name, lifecycle: 'active', creationTime: time, lastUpdateTime: time, tags: new Map(),
        ...(typeof e.artifact_location === 'string' ? { artifactLocation: e.artifact_location } : {}),
      });
      return undefined;
    }
    const record = this.byIdMap.get(e.id);
    if (e.type === 'experiment_tag') {
      if (!record) return `tag for unknown experiment ${e.id}`;
      if (typeof e.key !== 'string' || typeof e.value !== 'string') return 'experiment_tag without a string "key" and "value"';
      record.tags.set(e.key, e.value);
      record.lastUpdateTime = Math.max(record.lastUpdateTime, time);
      return undefined;
    }
    if (e.type === 'experiment_lifecycle') {
      if (!record) return `lifecycle of unknown experiment ${e.id}`;
      if (e.stage !== 'active' && e.stage !== 'deleted') return `unknown stage ${JSON.stringify(e.stage)}`;
      record.lifecycle = e.stage;
      record.lastUpdateTime = Math.max(record.lastUpdateTime, time);
      return undefined;
    }
    if (e.type === 'experiment_rename') {
      if (!record) return `rename of unknown experiment ${e.id}`;
      if (typeof e.name !== 'string' || !e.name) return 'experiment_rename without a "name"';
      const clash = this.byNameMap.get(e.name);
      if (clash && clash !== record) return `experiment name "${e.name}" already belongs to id ${clash.id}`;
      this.byNameMap.delete(record.name);
      record.name = e.name;
      this.byNameMap.set(record.name, record);
      record.lastUpdateTime = Math.max(record.lastUpdateTime, time);
      return undefined;
    }
    return undefined; // a later version's event type: ignored
  }

  private add(record: ExperimentRecord): void {
    this.byIdMap.set(record.id, record);
    this.byNameMap.set(record.name, record);
    if (/^\d{1,15}$/.test(record.id)) this.nextId = Math.max(this.nextId, Number(record.id) + 1);
  }

  private append(event: ExperimentLogEvent): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    appendRecord(this.file, JSON.stringify(event) + '\n', { sync: true });
    this.apply(event);
  }

  get(id: string): ExperimentRecord | undefined {
    return this.byIdMap.get(id);
  }

  byName(name: string): ExperimentRecord | undefined {
    return this.byNameMap.get(name);
  }

  list(): ExperimentRecord[] {
    return [...this.byIdMap.values()];
  }

  /** An id nobody uses: `preferred` when it is free and well-formed (an import keeps MLflow's ids), else the next number. */
  private freeId(preferred?: string): string {
    if (preferred && /^[a-zA-Z0-9][\w-]{0,63}$/.test(preferred) && !this.byIdMap.has(preferred)) return preferred;
    while (this.byIdMap.has(String(this.nextId))) this.nextId++;
    return String(this.nextId);
  }

  /** Creates an experiment; the caller has checked that the name is free. */
  create(name: string, options: { artifactLocation?: string; time?: number; preferredId?: string } = {}): ExperimentRecord {
    if (this.byNameMap.has(name)) throw new Error(`Experiment "${name}" already exists.`);
    const id = this.freeId(options.preferredId);
    this.append({
      type: 'experiment', time: options.time ?? this.now(), id, name,
      ...(options.artifactLocation !== undefined ? { artifact_location: options.artifactLocation } : {}),
    });
    return this.byIdMap.get(id)!;
  }

  /** The experiment a run names in its run_start, given an id on first sight (runs of `mlops run --experiment`, the Python client). */
  forRunExperiment(name: string, created: number): ExperimentRecord {
    return this.byNameMap.get(name) ?? this.create(name, { time: created });
  }

  setTag(id: string, key: string, value: string): void {
    this.append({ type: 'experiment_tag', time: this.now(), id, key, value });
  }

  /** Renames an experiment; the caller has checked that the new name is free and moves its runs. */
  rename(id: string, name: string): void {
    this.append({ type: 'experiment_rename', time: this.now(), id, name });
  }

  setLifecycle(id: string, stage: 'active' | 'deleted'): void {
    this.append({ type: 'experiment_lifecycle', time: this.now(), id, stage });
  }
}
