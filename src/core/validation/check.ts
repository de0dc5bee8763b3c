import type { PersonalDataKind } from './personalData';
import { profileTable, type ColumnProfile, type ColumnViolations, type DataProfile } from './profile';
import { driftTest, type ColumnValues, type DriftTestResult } from './statistics';
import type { TableStream } from './table';

export type DataProblemKind = 'missing-column' | 'unexpected-column' | 'type' | 'range' | 'new-category' | 'missing-share' | 'skew' | 'personal-data';

export interface DataProblem {
  column: string;
  kind: DataProblemKind;
  message: string;
}

export interface DataCheckReport {
  ok: boolean;
  current: string;
  /** The profile checked against, when there was one. */
  reference?: string;
  rows: number;
  problems: DataProblem[];
  /** The distribution test of each column both sides share. */
  skew: { column: string; result: DriftTestResult }[];
  profile: DataProfile;
}

export interface DataCheckOptions {
  /** A rise in a column's missing share larger than this is a problem (default 0.1: ten points). */
  missingShareJump?: number;
}

const PERSONAL_DATA_NAMES: Record<PersonalDataKind, string> = { email: 'e-mail addresses', phone: 'phone numbers', card: 'card numbers (Luhn-valid)', iban: 'IBANs', ip: 'IP addresses' };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const list = (values: string[]) => values.map((v) => JSON.stringify(v)).join(', ');

/** A column's values as a distribution test wants them; undefined when it has none to compare (free text, empty). */
function testValues(c: ColumnProfile, numeric: boolean): ColumnValues | undefined {
  if (numeric) return c.sample.length ? { kind: 'numeric', values: Float64Array.from(c.sample as number[]) } : undefined;
  return c.categories ? { kind: 'categorical', counts: new Map(Object.entries(c.categories)) } : undefined;
}

const isNumeric = (c: ColumnProfile) => c.type === 'integer' || c.type === 'number';

function compareColumn(ref: ColumnProfile, cur: ColumnProfile, bad: ColumnViolations, referenceRows: number, options: DataCheckOptions, report: DataCheckReport): void {
  const add = (kind: DataProblemKind, message: string) => report.problems.push({ column: ref.name, kind, message });
  if (bad.type) add('type', `${bad.type} value(s) are not ${ref.type === 'integer' ? 'integers' : ref.type === 'number' ? 'numbers' : ref.type}, e.g. ${list(bad.examples.type)}.`);
  if (bad.range) add('range', `${bad.range} value(s) lie outside the reference range [${ref.min}, ${ref.max}], e.g. ${list(bad.examples.range)}.`);
  const fresh = Object.keys(bad.newCategories);
  if (fresh.length) add('new-category', `${fresh.length} categor${fresh.length > 1 ? 'ies' : 'y'} the reference never had: ${list(fresh.slice(0, 5))}${fresh.length > 5 ? ', …' : ''}.`);
  const jump = cur.missingShare - ref.missingShare;
  if (jump > (options.missingShareJump ?? 0.1)) add('missing-share', `missing values rose from ${pct(ref.missingShare)} to ${pct(cur.missingShare)}.`);
  const numeric = isNumeric(ref) && isNumeric(cur);
  const [r, c] = [testValues(ref, numeric), testValues(cur, numeric)];
  if (!r || !c || bad.type) return;
  const result = driftTest(r, c, { referenceRows });
  report.skew.push({ column: ref.name, result });
  if (result.drift) {
    const value = result.pValue !== undefined ? `p = ${result.pValue.toPrecision(3)}` : `${result.test} = ${result.statistic.toPrecision(3)}`;
    add('skew', `the distribution moved: ${value} (${result.test}, threshold ${result.threshold}).`);
  }
}

/**
 * Checks new data in one streamed pass: against a reference profile (the schema) for
 * missing or unexpected columns, type and range violations, new categories, missing-share
 * jumps and distribution skew; and on its own for personal data.
 */
export async function checkData(table: TableStream, reference?: DataProfile, options: DataCheckOptions = {}): Promise<DataCheckReport> {
  const { profile, violations } = await profileTable(table, reference);
  const report: DataCheckReport = { ok: true, current: table.label, reference: reference?.source, rows: profile.rows, problems: [], skew: [], profile };
  if (reference) {
    const current = new Map(profile.columns.map((c) => [c.name, c]));
    for (const ref of reference.columns) {
      const cur = current.get(ref.name);
      if (!cur) report.problems.push({ column: ref.name, kind: 'missing-column', message: 'the reference has this column; the new data does not.' });
      else compareColumn(ref, cur, violations.get(ref.name)!, reference.rows, options, report);
    }
    const known = new Set(reference.columns.map((c) => c.name));
    for (const c of profile.columns) if (!known.has(c.name)) report.problems.push({ column: c.name, kind: 'unexpected-column', message: 'the reference has no such column.' });
  }
  for (const c of profile.columns) {
    if (c.personalData) {
      report.problems.push({ column: c.name, kind: 'personal-data', message: `looks like ${PERSONAL_DATA_NAMES[c.personalData.kind]}: ${pct(c.personalData.share)} of the values, e.g. ${c.personalData.example}.` });
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}
