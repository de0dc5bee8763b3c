import { parseArgs } from 'node:util';
import type { Project } from '../core/project';
import { checkDataSource, profileData } from '../core/validation/profiles';
import type { DataCheckReport } from '../core/validation/check';
import { print, printJson, table } from './output';
import { UsageError, wrongArguments } from './usage';

const num = (v: number | undefined) => (v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toPrecision(4));

export function printCheckReport(report: DataCheckReport): void {
  const against = report.reference ? ` against ${report.reference}` : '';
  if (report.ok) {
    print(`✓ ${report.current}${against}: ${report.rows} rows, no problems found.\n`);
    return;
  }
  print(`✗ ${report.current}${against}: ${report.rows} rows, ${report.problems.length} problem(s):\n`);
  print(table(['COLUMN', 'PROBLEM', 'DETAIL'], report.problems.map((p) => [p.column, p.kind, p.message])));
}

/** `mlops data profile <data>` and `mlops data check <data> [--against <profile|data|snapshot>]`. */
export async function dataCommand(project: Project, sub: string | undefined, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, options: { json: { type: 'boolean' }, against: { type: 'string' }, 'missing-jump': { type: 'string' } }, allowPositionals: true,
  });
  if (positionals.length !== 1) throw wrongArguments();
  switch (sub) {
    case 'profile': {
      const { profile, file } = await profileData(project.layout, project.snapshots, positionals[0]);
      if (values.json) printJson({ file, profile });
      else {
        print(table(['COLUMN', 'TYPE', 'MISSING', 'MIN', 'MEDIAN', 'MAX', 'DISTINCT', 'NOTE'], profile.columns.map((c) => [
          c.name, c.type, `${(c.missingShare * 100).toFixed(1)}%`, num(c.min), num(c.quantiles?.['0.5']), num(c.max),
          c.distinctCapped ? `>${c.distinct - 1}` : String(c.distinct), c.personalData ? `personal data? (${c.personalData.kind})` : '',
        ])));
        print(`${profile.rows} rows. Profile saved to ${file}\n`);
      }
      return 0;
    }
    case 'check': {
      const jump = values['missing-jump'] === undefined ? undefined : Number(values['missing-jump']);
      if (jump !== undefined && !(jump >= 0 && jump <= 1)) throw new UsageError('--missing-jump takes a share between 0 and 1, e.g. 0.1');
      const report = await checkDataSource(project.layout, project.snapshots, positionals[0], values.against, { missingShareJump: jump });
      if (values.json) printJson({ ...report, profile: undefined });
      else printCheckReport(report);
      return report.ok ? 0 : 1;
    }
    default:
      throw new UsageError(`Unknown "data ${sub ?? ''}": use "data profile <data>" or "data check <data> [--against <reference>]".`);
  }
}
