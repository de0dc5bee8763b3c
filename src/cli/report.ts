import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatBytes } from '../core/format';
import type { Project } from '../core/project';
import { writeReport } from '../core/reports';
import { print, printJson } from './output';
import { wrongArguments } from './usage';

/** `mlops report <runs… | model:version | deployment> -o report.html [--json]` */
export async function reportCommand(project: Project, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { output: { type: 'string', short: 'o' }, json: { type: 'boolean' } }, allowPositionals: true });
  if (!positionals.length) throw wrongArguments();
  const file = path.resolve(values.output ?? 'report.html');
  const bytes = await writeReport(project, positionals, file);
  if (values.json) printJson({ file, bytes });
  else print(`Wrote ${file} (${formatBytes(bytes)}): one HTML file, no network needed; open it in any browser or send it on.\n`);
  return 0;
}
