// A sweep's search space: what each hyperparameter may take, how to draw it at
// random, how to enumerate it for a grid, and how to map it onto [0, 1] for TPE.

import { formatNumber } from '../../format';

export type ParamValue = string | number | boolean;

export type Dimension =
  | { name: string; kind: 'choice'; values: ParamValue[] }
  | { name: string; kind: 'uniform'; low: number; high: number; steps?: number }
  | { name: string; kind: 'loguniform'; low: number; high: number; steps?: number }
  | { name: string; kind: 'int'; low: number; high: number };

export type Params = Record<string, ParamValue>;

export class SpaceError extends Error {}

const EXAMPLE = 'space:\n  lr: {loguniform: [0.0001, 0.1]}\n  batch: {choice: [16, 32, 64]}\n  dropout: {uniform: [0, 0.5]}\n  layers: {int: [1, 4]}';

/** Reads `space:` (a mapping of names to a list of choices or `{choice|uniform|loguniform|int: …}`). */
export function parseSpace(value: unknown, where: string): Dimension[] {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.keys(value).length) {
    throw new SpaceError(`${where}: "space" must map each hyperparameter to its range, e.g.\n${EXAMPLE}`);
  }
  return Object.entries(value as Record<string, unknown>).map(([name, spec]) => parseDimension(name, spec, `${where}, "${name}"`));
}

function parseDimension(name: string, spec: unknown, where: string): Dimension {
  if (Array.isArray(spec)) return choice(name, spec, where);
  const s = (spec ?? {}) as Record<string, unknown>;
  const kinds = ['choice', 'uniform', 'loguniform', 'int'].filter((k) => k in s);
  if (typeof spec !== 'object' || kinds.length !== 1) {
    throw new SpaceError(`${where}: give exactly one of choice, uniform, loguniform or int, e.g. {uniform: [0, 0.5]}`);
  }
  const kind = kinds[0];
  if (kind === 'choice') return choice(name, s.choice, where);
  const range = s[kind];
  if (!Array.isArray(range) || range.length !== 2 || !range.every((x) => typeof x === 'number' && Number.isFinite(x)) || range[0] >= range[1]) {
    throw new SpaceError(`${where}: ${kind} needs [low, high] with low < high, e.g. {${kind}: [${kind === 'loguniform' ? '0.0001, 0.1' : kind === 'int' ? '1, 4' : '0, 0.5'}]}`);
  }
  const [low, high] = range as number[];
  if (kind === 'int') {
    if (!Number.isInteger(low) || !Number.isInteger(high)) throw new SpaceError(`${where}: int needs whole numbers, e.g. {int: [1, 4]}`);
    return { name, kind, low, high };
  }
  if (kind === 'loguniform' && low <= 0) throw new SpaceError(`${where}: loguniform needs low > 0 (it draws on a log scale)`);
  const steps = s.steps;
  if (steps !== undefined && (!Number.isInteger(steps) || (steps as number) < 2)) throw new SpaceError(`${where}: steps (the grid's points) must be a whole number ≥ 2`);
  return { name, kind: kind as 'uniform' | 'loguniform', low, high, ...(steps !== undefined ? { steps: steps as number } : {}) };
}

function choice(name: string, values: unknown, where: string): Dimension {
  if (!Array.isArray(values) || !values.length || !values.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
    throw new SpaceError(`${where}: choice needs a list of values, e.g. {choice: [16, 32, 64]}`);
  }
  return { name, kind: 'choice', values: values as ParamValue[] };
}

/** One draw per dimension. */
export function sampleRandom(space: Dimension[], random: () => number): Params {
  return Object.fromEntries(space.map((d) => [d.name, fromUnit(d, random())]));
}

/** A value's position in [0, 1] (choices: their index scaled; TPE treats them apart). */
export function toUnit(d: Dimension, value: ParamValue): number {
  switch (d.kind) {
    case 'choice': return d.values.length === 1 ? 0 : d.values.indexOf(value) / (d.values.length - 1);
    case 'uniform': return ((value as number) - d.low) / (d.high - d.low);
    case 'loguniform': return Math.log((value as number) / d.low) / Math.log(d.high / d.low);
    case 'int': return ((value as number) - d.low + 0.5) / (d.high - d.low + 1);
  }
}

/** The value at u in [0, 1). */
export function fromUnit(d: Dimension, u: number): ParamValue {
  const x = Math.min(Math.max(u, 0), 1 - 1e-12);
  switch (d.kind) {
    case 'choice': return d.values[Math.floor(x * d.values.length)];
    case 'uniform': return d.low + x * (d.high - d.low);
    case 'loguniform': return d.low * Math.exp(x * Math.log(d.high / d.low));
    case 'int': return d.low + Math.floor(x * (d.high - d.low + 1));
  }
}

const DEFAULT_GRID_STEPS = 5;

/** Every combination, first dimension slowest; continuous ranges at `steps` evenly spaced points (default 5). */
export function gridPoints(space: Dimension[]): Params[] {
  const axes = space.map((d): ParamValue[] => {
    switch (d.kind) {
      case 'choice': return d.values;
      case 'int': return Array.from({ length: d.high - d.low + 1 }, (_, i) => d.low + i);
      default: {
        const n = d.steps ?? DEFAULT_GRID_STEPS;
        return Array.from({ length: n }, (_, i) => (d.kind === 'uniform' ? d.low + ((d.high - d.low) * i) / (n - 1) : d.low * Math.pow(d.high / d.low, i / (n - 1))));
      }
    }
  });
  let out: Params[] = [{}];
  space.forEach((d, i) => {
    out = out.flatMap((p) => axes[i].map((v) => ({ ...p, [d.name]: v })));
  });
  return out;
}

/** Params as a person reads them: `lr=0.01 batch=32` (numbers to 4 significant digits). */
export function paramsText(params: Params): string {
  return Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v, 4) : String(v)}`).join(' ');
}

/** Params as command-line options, the way argparse reads them: `--lr 0.01 --batch 32`. */
export function asArguments(params: Params): string[] {
  return Object.entries(params).flatMap(([k, v]) => [`--${k}`, String(v)]);
}
