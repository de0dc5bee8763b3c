import { ConfigError, readConfigDocument } from '../workspace/config';
import type { Objective } from '../workspace/objectives';

/**
 * Gates from `gates:` in mlops.yaml, one expression each:
 *   accuracy >= 0.9                     a threshold on any metric
 *   roc_auc >= champion + 0.01          better than the current champion by at least δ
 *   log_loss <= champion                no worse than the champion
 *   accuracy meets objective            the objective's target, in its goal's direction
 */
export type Comparison = '>=' | '>' | '<=' | '<';

export interface Gate {
  text: string;
  metric: string;
  op: Comparison;
  against: { kind: 'number'; value: number } | { kind: 'champion'; delta: number } | { kind: 'objective' };
}

export interface GateResult {
  gate: string;
  metric: string;
  /** The candidate's value; undefined when it was not measured. */
  value?: number;
  /** The bound it had to meet, when one applied. */
  bound?: number;
  passed: boolean;
  note?: string;
}

const NUMBER = '[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?';
const GATE = new RegExp(`^([A-Za-z_][\\w./-]*)\\s*(>=|>|<=|<)\\s*(?:(${NUMBER})|champion(?:\\s*([+-])\\s*(${NUMBER}))?)$`);
const OBJECTIVE = /^([A-Za-z_][\w./-]*)\s+meets\s+(?:its\s+)?objective$/;

export function parseGate(text: string): Gate {
  const t = text.trim();
  const o = OBJECTIVE.exec(t);
  if (o) return { text: t, metric: o[1], op: '>=', against: { kind: 'objective' } };
  const m = GATE.exec(t);
  if (!m) throw new ConfigError(`"${text}" is not a gate. Write "<metric> <op> <number>" (accuracy >= 0.9), "<metric> <op> champion + <δ>" (roc_auc >= champion + 0.01) or "<metric> meets objective"; op is >=, >, <= or <.`);
  const op = m[2] as Comparison;
  if (m[3] !== undefined) return { text: t, metric: m[1], op, against: { kind: 'number', value: Number(m[3]) } };
  const delta = m[5] === undefined ? 0 : Number(m[5]) * (m[4] === '-' ? -1 : 1);
  return { text: t, metric: m[1], op, against: { kind: 'champion', delta } };
}

/** The gates of mlops.yaml (none when it declares none); objectives must exist for "meets objective" gates. */
export function readGates(root: string, objectives: Map<string, Objective>): Gate[] {
  const { file, doc } = readConfigDocument(root);
  if (doc.gates === undefined || doc.gates === null) return [];
  if (!Array.isArray(doc.gates) || !doc.gates.every((g) => typeof g === 'string')) {
    throw new ConfigError(`${file}: "gates" must be a list of expressions, e.g.\ngates:\n  - accuracy >= 0.9\n  - roc_auc >= champion + 0.01`);
  }
  return doc.gates.map((text: string) => {
    let gate: Gate;
    try {
      gate = parseGate(text);
    } catch (err) {
      throw new ConfigError(`${file}: ${(err as Error).message}`);
    }
    const objective = objectives.get(gate.metric);
    if (gate.against.kind === 'objective' && objective?.target === undefined) {
      throw new ConfigError(`${file}: gate "${text}" needs an objective with a target, e.g.\nobjectives:\n  ${gate.metric}: {goal: maximize, target: 0.9}`);
    }
    return gate;
  });
}

const holds = (value: number, op: Comparison, bound: number) =>
  op === '>=' ? value >= bound : op === '>' ? value > bound : op === '<=' ? value <= bound : value < bound;

/**
 * Judges each gate on a candidate's metrics. A champion gate passes when there is no
 * champion yet (nothing to beat) and says so.
 */
export function judgeGates(gates: Gate[], metrics: Record<string, number>, champion: { version: number; metrics: Record<string, number> } | undefined, objectives: Map<string, Objective>): GateResult[] {
  return gates.map((gate) => {
    const value = metrics[gate.metric];
    const result = (passed: boolean, bound?: number, note?: string): GateResult => ({
      gate: gate.text, metric: gate.metric, ...(value !== undefined ? { value } : {}), ...(bound !== undefined ? { bound } : {}), passed, ...(note ? { note } : {}),
    });
    if (gate.against.kind === 'champion' && !champion) return result(true, undefined, 'no champion yet: nothing to beat');
    if (value === undefined || !Number.isFinite(value)) return result(false, undefined, `${gate.metric} was not measured for this version`);
    switch (gate.against.kind) {
      case 'number':
        return result(holds(value, gate.op, gate.against.value), gate.against.value);
      case 'objective': {
        const o = objectives.get(gate.metric)!;
        return result(holds(value, o.goal === 'maximize' ? '>=' : '<=', o.target!), o.target, `objective: ${o.goal} to ${o.target}`);
      }
      case 'champion': {
        const theirs = champion!.metrics[gate.metric];
        if (theirs === undefined || !Number.isFinite(theirs)) return result(false, undefined, `the champion (v${champion!.version}) has no ${gate.metric} to compare with; evaluate it on the same data`);
        const bound = theirs + gate.against.delta;
        return result(holds(value, gate.op, bound), bound, `champion v${champion!.version}: ${theirs}`);
      }
    }
  });
}
