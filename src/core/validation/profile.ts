import { PersonalDataScan, type PersonalDataKind } from './personalData';
import { seededRandom } from './random';
import type { TableStream } from './table';

/**
 * Profiles a table in one streamed pass with bounded memory: per column its
 * inferred type, missing share, range, mean and spread, quantiles and
 * categories, a uniform sample for distribution tests, and whether it looks
 * like personal data. A profile doubles as the schema new data is checked against.
 */

export type ColumnType = 'integer' | 'number' | 'boolean' | 'string' | 'empty';
type ValueKind = Exclude<ColumnType, 'empty'>;

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  /** Values of each kind seen: a column is the narrowest type holding all of them. */
  kinds: Record<ValueKind, number>;
  missing: number;
  missingShare: number;
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  /** Quantiles 1, 5, 25, 50, 75, 95, 99 % (of a uniform sample of up to 10,000 values: exact below that). */
  quantiles?: Record<string, number>;
  /** Distinct values, counted up to CATEGORY_LIMIT. */
  distinct: number;
  distinctCapped: boolean;
  /** Value → count, when the column has at most CATEGORY_LIMIT distinct values. */
  categories?: Record<string, number>;
  /** A uniform sample (up to 1,000 values) that distribution tests compare against. */
  sample: (number | string)[];
  personalData?: { kind: PersonalDataKind; share: number; example: string };
}

export interface DataProfile {
  schema: 1;
  source: string;
  rows: number;
  created: number;
  columns: ColumnProfile[];
}

/** What new data does that its reference profile does not allow, counted while profiling it. */
export interface ColumnViolations {
  type: number;
  range: number;
  newCategories: Record<string, number>;
  examples: { type: string[]; range: string[] };
}

export const CATEGORY_LIMIT = 50;
const STORED_SAMPLE = 1000;
const QUANTILE_SAMPLE = 10_000;
const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);
/** A number as readValue reads it (after trimming). */
export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

interface Value { kind: ValueKind; num?: number; text: string }

/** One cell as a typed value; undefined when missing. */
export function readValue(raw: unknown): Value | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'number') {
    if (Number.isNaN(raw)) return undefined;
    return { kind: Number.isInteger(raw) ? 'integer' : 'number', num: raw, text: String(raw) };
  }
  if (typeof raw === 'boolean') return { kind: 'boolean', text: String(raw) };
  const text = typeof raw === 'string' ? raw.trim() : JSON.stringify(raw);
  const lower = text.toLowerCase();
  if (MISSING.has(lower)) return undefined;
  if (NUMBER.test(text)) {
    const num = Number(text);
    return { kind: INTEGER.test(text) && Number.isSafeInteger(num) ? 'integer' : 'number', num, text: String(num) };
  }
  if (lower === 'true' || lower === 'false') return { kind: 'boolean', text: lower };
  return { kind: 'string', text };
}

function columnType(kinds: Record<ValueKind, number>): ColumnType {
  if (kinds.string || (kinds.boolean && (kinds.integer || kinds.number))) return 'string';
  if (kinds.boolean) return 'boolean';
  if (kinds.number) return 'number';
  return kinds.integer ? 'integer' : 'empty';
}

/** Whether a value fits a column of the reference's type. */
function fits(type: ColumnType, kind: ValueKind): boolean {
  if (type === 'string' || type === 'empty') return true;
  if (type === 'number') return kind === 'number' || kind === 'integer';
  return kind === type;
}

function quantile(sortedValues: Float64Array, q: number): number {
  // numpy's default (linear interpolation between closest ranks).
  const pos = (sortedValues.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sortedValues[lo] + (sortedValues[hi] - sortedValues[lo]) * (pos - lo);
}

class ColumnProfiler {
  private readonly kinds: Record<ValueKind, number> = { integer: 0, number: 0, boolean: 0, string: 0 };
  private missing = 0;
  private seen = 0;
  private min = Infinity;
  private max = -Infinity;
  private numbers = 0;
  private mean = 0;
  private m2 = 0;
  private categories: Map<string, number> | undefined = new Map();
  /** Numbers as numbers, anything else as its text: primitives keep 10,000 per column cheap. */
  private readonly reservoir: (number | string)[] = [];
  private readonly random: () => number;
  private readonly personal = new PersonalDataScan();
  readonly violations: ColumnViolations = { type: 0, range: 0, newCategories: {}, examples: { type: [], range: [] } };

  constructor(readonly name: string, seed: number, private readonly reference?: ColumnProfile) {
    this.random = seededRandom(seed);
  }

  add(raw: unknown): void {
    const v = readValue(raw);
    if (!v) {
      this.missing++;
      return;
    }
    this.kinds[v.kind]++;
    this.personal.add(typeof raw === 'string' ? raw : v.text);
    if (v.num !== undefined) {
      this.numbers++;
      const d = v.num - this.mean;
      this.mean += d / this.numbers;
      this.m2 += d * (v.num - this.mean);
      if (v.num < this.min) this.min = v.num;
      if (v.num > this.max) this.max = v.num;
    }
    if (this.categories) {
      this.categories.set(v.text, (this.categories.get(v.text) ?? 0) + 1);
      if (this.categories.size > CATEGORY_LIMIT) this.categories = undefined;
    }
    // Reservoir sampling (algorithm R): every value has the same chance to be kept.
    const kept = v.num ?? v.text;
    if (this.seen < QUANTILE_SAMPLE) this.reservoir.push(kept);
    else {
      const j = Math.floor(this.random() * (this.seen + 1));
      if (j < QUANTILE_SAMPLE) this.reservoir[j] = kept;
    }
    this.seen++;
    if (this.reference) this.check(this.reference, v);
  }

  private check(ref: ColumnProfile, v: Value): void {
    const bad = this.violations;
    if (!fits(ref.type, v.kind)) {
      bad.type++;
      if (bad.examples.type.length < 3) bad.examples.type.push(v.text);
      return;
    }
    if (v.num !== undefined && ref.min !== undefined && ref.max !== undefined && (v.num < ref.min || v.num > ref.max)) {
      bad.range++;
      if (bad.examples.range.length < 3) bad.examples.range.push(v.text);
    }
    if ((ref.type === 'string' || ref.type === 'boolean') && ref.categories && !(v.text in ref.categories)) {
      if (v.text in bad.newCategories || Object.keys(bad.newCategories).length < CATEGORY_LIMIT) bad.newCategories[v.text] = (bad.newCategories[v.text] ?? 0) + 1;
    }
  }

  result(rows: number): ColumnProfile {
    const type = columnType(this.kinds);
    const numeric = type === 'integer' || type === 'number';
    const profile: ColumnProfile = {
      name: this.name, type, kinds: this.kinds, missing: this.missing, missingShare: rows ? this.missing / rows : 0,
      distinct: this.categories?.size ?? CATEGORY_LIMIT + 1, distinctCapped: !this.categories, sample: [],
    };
    if (numeric && this.numbers) {
      const values = Float64Array.from(this.reservoir as number[]).sort();
      Object.assign(profile, {
        min: this.min, max: this.max, mean: this.mean, std: Math.sqrt(this.m2 / this.numbers),
        quantiles: Object.fromEntries(QUANTILES.map((q) => [String(q), quantile(values, q)])),
      });
    }
    if (this.categories) profile.categories = Object.fromEntries([...this.categories].sort((a, b) => b[1] - a[1]));
    // The reservoir is itself a uniform sample; its first entries are a smaller one.
    profile.sample = this.reservoir.slice(0, STORED_SAMPLE).map((v) => (numeric ? v : String(v)));
    const personal = this.personal.finding();
    if (personal) profile.personalData = personal;
    return profile;
  }
}

/**
 * Streams a table once into its profile; with a reference profile, also counts the
 * values that break its types, ranges and categories.
 */
export async function profileTable(table: TableStream, reference?: DataProfile): Promise<{ profile: DataProfile; violations: Map<string, ColumnViolations> }> {
  const refs = new Map(reference?.columns.map((c) => [c.name, c]));
  const profilers = table.columns.map((name, i) => new ColumnProfiler(name, 0x5eed + i, refs.get(name)));
  let rows = 0;
  for await (const row of table.rows) {
    rows++;
    for (let i = 0; i < profilers.length; i++) profilers[i].add(row[i]);
  }
  return {
    profile: { schema: 1, source: table.label, rows, created: Date.now(), columns: profilers.map((p) => p.result(rows)) },
    violations: new Map(profilers.map((p) => [p.name, p.violations])),
  };
}
