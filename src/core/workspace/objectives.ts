import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, readConfigDocument } from './config';

/** A project KPI from `objectives:` in mlops.yaml, e.g. `val_accuracy: {goal: maximize, target: 0.95}`. */
export interface Objective {
  metric: string;
  goal: 'maximize' | 'minimize';
  target?: number;
}

/** Objectives by metric name; none when mlops.yaml declares none. */
export function readObjectives(root: string): Map<string, Objective> {
  const { file, doc } = readConfigDocument(root);
  return parseObjectives(doc.objectives, file);
}

/** `objectives:`'s value (of `file`, for messages) by metric name; a ConfigError naming the objective and the fix when one is wrong. */
export function parseObjectives(objectives: unknown, file: string): Map<string, Objective> {
  const out = new Map<string, Objective>();
  if (objectives === undefined || objectives === null) return out;
  const example = 'objectives:\n  val_accuracy: {goal: maximize, target: 0.95}';
  if (typeof objectives !== 'object' || Array.isArray(objectives)) throw new ConfigError(`${file}: "objectives" must map metric names to a goal, e.g.\n${example}`);
  for (const [metric, value] of Object.entries(objectives as Record<string, unknown>)) {
    const o = (value ?? {}) as Record<string, unknown>;
    if (typeof value !== 'object' || (o.goal !== 'maximize' && o.goal !== 'minimize')) {
      throw new ConfigError(`${file}: objective "${metric}" needs goal: maximize or goal: minimize, e.g.\n${example}`);
    }
    if (o.target !== undefined && typeof o.target !== 'number') throw new ConfigError(`${file}: the target of objective "${metric}" must be a number, not ${JSON.stringify(o.target)}.`);
    out.set(metric, { metric, goal: o.goal, ...(o.target !== undefined ? { target: o.target as number } : {}) });
  }
  return out;
}

/** Whether a value meets the objective's target; undefined without a target or a finite value. */
export function meetsTarget(objective: Objective, value: number | undefined): boolean | undefined {
  if (objective.target === undefined || value === undefined || !Number.isFinite(value)) return undefined;
  return objective.goal === 'maximize' ? value >= objective.target : value <= objective.target;
}

/** A run's standing against every objective that has a target and a value in the run. */
export interface ObjectivesVerdict {
  met: boolean;
  /** Metrics whose target the run misses, in declaration order. */
  missed: string[];
  /** How many objectives were judged. */
  judged: number;
}

/** Judges a run's latest metric values; undefined when no objective applies to it. */
export function judgeObjectives(objectives: Map<string, Objective>, latest: (metric: string) => number | undefined): ObjectivesVerdict | undefined {
  const missed: string[] = [];
  let judged = 0;
  for (const objective of objectives.values()) {
    const ok = meetsTarget(objective, latest(objective.metric));
    if (ok === undefined) continue;
    judged++;
    if (!ok) missed.push(objective.metric);
  }
  return judged ? { met: missed.length === 0, missed, judged } : undefined;
}

/** "✓" when every judged target is met, else "✗ " and the missed metrics. */
export function verdictText(verdict: ObjectivesVerdict): string {
  return verdict.met ? '✓' : `✗ ${verdict.missed.join(', ')}`;
}

/** The last read per workspace, by mlops.yaml's size and mtime: the views ask on every refresh. */
const shown = new Map<string, { size: number; mtimeMs: number; objectives: Map<string, Objective> }>();

/** Objectives for display: a broken mlops.yaml shows none (the language server and the CLI name the problem). */
export function readObjectivesOrNone(root: string): Map<string, Objective> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path.join(root, 'mlops.yaml'));
  } catch {
    return new Map();
  }
  const last = shown.get(root);
  if (last && last.size === stat.size && last.mtimeMs === stat.mtimeMs) return last.objectives;
  let objectives: Map<string, Objective>;
  try {
    objectives = readObjectives(root);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    objectives = new Map();
  }
  shown.set(root, { size: stat.size, mtimeMs: stat.mtimeMs, objectives });
  return objectives;
}
