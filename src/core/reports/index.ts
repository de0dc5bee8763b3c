import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Project } from '../project';
import { writeFileAtomic } from '../workspace/atomicFile';
import { collectReport } from './reportData';
import { renderReport } from './reportHtml';

export { ReportError, type ReportData } from './reportData';
export { renderReport } from './reportHtml';

/** Writes the shareable HTML report on `subjects` (runs, model versions, deployments) to `file`; returns its size in bytes. */
export async function writeReport(project: Project, subjects: string[], file: string): Promise<number> {
  const html = renderReport(await collectReport(project, subjects));
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(path.resolve(file), html);
  project.audit.append('report', subjects, { file: path.resolve(file), bytes: Buffer.byteLength(html) });
  return Buffer.byteLength(html);
}
