import { parseArgs } from 'node:util';
import { driftBetween, parseColumnTest, type DriftReport } from '../core/monitoring';
import type { ColumnTest } from '../core/monitoring/drift';
import { Project } from '../core/project';
import { printJson, table } from './output';
import { UsageError } from './usage';

function columnTests(specs: string[] = []): Record<string, ColumnTest> {
  return Object.fromEntries(specs.map((spec) => {
    const at = spec.indexOf('=');
    if (at <= 0) throw new UsageError(`--column-test takes column=test, e.g. --column-test age=psi, not "${spec}".`);
    return [spec.slice(0, at), parseColumnTest(spec.slice(at + 1), `--column-test ${spec}`)];
  }));
}

const fmt = (v: number | undefined) => (v === undefined ? '–' : Math.abs(v) >= 1e-3 || v === 0 ? v.toPrecision(4) : v.toExponential(2));

function printReport(r: DriftReport): void {
  process.stdout.write(`Reference: ${r.reference.label} (${r.reference.rows} rows)\nCurrent:   ${r.current.label} (${r.current.rows} rows)\n\n`);
  process.stdout.write(table(['COLUMN', 'ROLE', 'TEST', 'STATISTIC', 'P-VALUE', 'THRESHOLD', 'MISSING REF→CUR', 'DRIFT'], r.columns.map((c) => [
    c.column, c.role, c.test, fmt(c.statistic), fmt(c.pValue), fmt(c.threshold),
    `${(c.missing.reference * 100).toFixed(1)}%→${(c.missing.current * 100).toFixed(1)}%`, c.drift ? '✗ drift' : '✓',
  ])));
  for (const c of r.columns) if (c.newCategories) process.stdout.write(`\n${c.column}: ${c.newCategories.rows} rows with categories the reference never had: ${c.newCategories.values.join(', ')}`);
  const only = [...r.onlyIn.reference.map((c) => `${c} (reference only)`), ...r.onlyIn.current.map((c) => `${c} (current only)`)];
  if (only.length) process.stdout.write(`\nNot compared: ${only.join(', ')}`);
  const d = r.dataset;
  process.stdout.write(`\n\n${d.drift ? 'Dataset drift' : 'No dataset drift'}: ${d.drifted} of ${d.features} features drifted (${(d.share * 100).toFixed(0)}%, threshold ${(d.threshold * 100).toFixed(0)}%).`);
  if (r.predictionDrift !== undefined) process.stdout.write(`\nPrediction drift: ${r.predictionDrift ? 'yes' : 'no'}.`);
  process.stdout.write('\n');
}

/**
 * `mlops drift <reference> <current>`: each side a csv/jsonl file or folder, a snapshot, or
 * `deployment:<name>` (a window of its prediction log). Exit 0 no dataset drift, 1 dataset
 * drift (for CI), 2 when the comparison could not be made.
 */
export async function driftCommand(root: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { json: { type: 'boolean' }, 'column-test': { type: 'string', multiple: true }, window: { type: 'string' } },
  });
  if (positionals.length !== 2) throw new UsageError('drift needs a reference and a current: a file, a snapshot id or deployment:<name> each.');
  let project: Project | undefined;
  try {
    const report = await driftBetween(root, { reference: positionals[0], current: positionals[1], columnTests: columnTests(values['column-test']), window: values.window },
      async () => (project ??= await Project.open(root, { mustExist: true })).snapshots);
    if (values.json) printJson(report);
    else printReport(report);
    return report.dataset.drift ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    process.stderr.write(`mlops drift: ${(err as Error).message}\n`);
    return 2;
  } finally {
    project?.close();
  }
}
