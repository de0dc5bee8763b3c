// `sweeps:` in mlops.yaml: per sweep, the command a trial runs, the search space,
// the method, the objective (from `objectives:` unless given), the budget, how many
// trials run at once, where, and when weak trials stop early.

import { splitArguments } from '../../tracking/scriptArguments';
import { ConfigError, readConfigDocument } from '../../workspace/config';
import { readObjectives } from '../../workspace/objectives';
import type { EarlyStoppingRule } from './earlyStopping';
import { gridPoints, parseSpace, SpaceError, type Dimension } from './space';

export type SweepMethod = 'grid' | 'random' | 'tpe';

export interface Sweep {
  name: string;
  /** The trial's command; each trial appends its params as `--name value`. */
  command: string[];
  space: Dimension[];
  method: SweepMethod;
  objective: string;
  goal: 'maximize' | 'minimize';
  budget: number;
  parallel: number;
  target: string;
  seed: number;
  earlyStopping?: EarlyStoppingRule;
}

const EXAMPLE = `sweeps:
  lr-search:
    cmd: python3 train.py        # each trial gets --lr … --batch …
    method: tpe                  # grid, random or tpe
    objective: val_accuracy      # default: the first of objectives:
    budget: 12
    parallel: 3
    early_stopping: {rule: median, min_steps: 5}
    space:
      lr: {loguniform: [0.0001, 0.1]}
      batch: {choice: [16, 32, 64]}`;

const KEYS = new Set(['cmd', 'method', 'objective', 'goal', 'budget', 'parallel', 'target', 'seed', 'early_stopping', 'space']);

export function readSweeps(root: string): Sweep[] {
  const { file, doc } = readConfigDocument(root);
  if (doc.sweeps === undefined || doc.sweeps === null) return [];
  if (typeof doc.sweeps !== 'object' || Array.isArray(doc.sweeps)) throw new ConfigError(`${file}: "sweeps" must map sweep names to their settings, e.g.\n${EXAMPLE}`);
  const objectives = readObjectives(root);
  return Object.entries(doc.sweeps as Record<string, unknown>).map(([name, value]) => parseSweep(name, value, `${file}: sweep "${name}"`, objectives));
}

export function findSweep(root: string, name: string): Sweep {
  const sweeps = readSweeps(root);
  const sweep = sweeps.find((s) => s.name === name);
  if (!sweep) throw new ConfigError(sweeps.length ? `No sweep "${name}": mlops.yaml declares ${sweeps.map((s) => s.name).join(', ')}.` : `No sweep "${name}": mlops.yaml declares no sweeps. Add one under "sweeps:", e.g.\n${EXAMPLE}`);
  return sweep;
}

function parseSweep(name: string, value: unknown, where: string, objectives: ReturnType<typeof readObjectives>): Sweep {
  if (!/^[\w.-]+$/.test(name)) throw new ConfigError(`${where}: a sweep name may hold letters, digits, "_", "." and "-" only.`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where} must be a mapping, e.g.\n${EXAMPLE}`);
  const s = value as Record<string, unknown>;
  const unknown = Object.keys(s).filter((k) => !KEYS.has(k));
  if (unknown.length) throw new ConfigError(`${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; a sweep takes ${[...KEYS].join(', ')}.`);
  const command = typeof s.cmd === 'string' ? splitArguments(s.cmd) : Array.isArray(s.cmd) && s.cmd.every((w) => typeof w === 'string') ? (s.cmd as string[]) : [];
  if (!command.length) throw new ConfigError(`${where}: "cmd" must be the trial's command, e.g. cmd: python3 train.py`);
  let space: Dimension[];
  try {
    space = parseSpace(s.space, where);
  } catch (err) {
    if (err instanceof SpaceError) throw new ConfigError(err.message);
    throw err;
  }
  const method = (s.method ?? 'tpe') as SweepMethod;
  if (!['grid', 'random', 'tpe'].includes(method)) throw new ConfigError(`${where}: method must be grid, random or tpe, not ${JSON.stringify(s.method)}.`);
  const objective = s.objective ?? [...objectives.keys()][0];
  if (typeof objective !== 'string' || !objective) throw new ConfigError(`${where}: name the metric to optimise with objective: <metric>, or declare objectives: in mlops.yaml.`);
  const goal = s.goal ?? objectives.get(objective)?.goal;
  if (goal !== 'maximize' && goal !== 'minimize') throw new ConfigError(`${where}: say whether to maximize or minimize "${objective}": goal: maximize (or declare it under objectives:).`);
  const gridSize = method === 'grid' ? gridPoints(space).length : Infinity;
  const budget = s.budget ?? (method === 'grid' ? gridSize : undefined);
  if (!Number.isInteger(budget) || (budget as number) < 1) throw new ConfigError(`${where}: budget (how many trials) must be a whole number ≥ 1.`);
  const parallel = s.parallel ?? 2;
  if (!Number.isInteger(parallel) || (parallel as number) < 1) throw new ConfigError(`${where}: parallel (trials at once) must be a whole number ≥ 1.`);
  const seed = s.seed ?? 1;
  if (!Number.isInteger(seed)) throw new ConfigError(`${where}: seed must be a whole number.`);
  const target = s.target ?? 'local';
  if (typeof target !== 'string') throw new ConfigError(`${where}: target must name a target of targets:.`);
  return {
    name, command, space, method, objective, goal, budget: Math.min(budget as number, gridSize), parallel: parallel as number, target, seed: seed as number,
    ...(s.early_stopping !== undefined ? { earlyStopping: parseEarlyStopping(s.early_stopping, where) } : {}),
  };
}

function parseEarlyStopping(value: unknown, where: string): EarlyStoppingRule {
  const e = (value ?? {}) as Record<string, unknown>;
  const minSteps = e.min_steps ?? 5;
  if (!Number.isInteger(minSteps) || (minSteps as number) < 1) throw new ConfigError(`${where}: early_stopping.min_steps must be a whole number ≥ 1.`);
  if (e.rule === 'median') {
    const minTrials = e.min_trials ?? 3;
    if (!Number.isInteger(minTrials) || (minTrials as number) < 1) throw new ConfigError(`${where}: early_stopping.min_trials must be a whole number ≥ 1.`);
    return { rule: 'median', minSteps: minSteps as number, minTrials: minTrials as number };
  }
  if (e.rule === 'asha') {
    const eta = e.eta ?? 3;
    if (!Number.isInteger(eta) || (eta as number) < 2) throw new ConfigError(`${where}: early_stopping.eta must be a whole number ≥ 2.`);
    return { rule: 'asha', minSteps: minSteps as number, eta: eta as number };
  }
  throw new ConfigError(`${where}: early_stopping needs rule: median or rule: asha, e.g. early_stopping: {rule: median, min_steps: 5}`);
}
