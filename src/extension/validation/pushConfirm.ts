import * as vscode from 'vscode';
import type { Project } from '../../core/project';
import { PersonalDataError } from '../../core/validation/pushCheck';

/** Pushes snapshots; when they look like they hold personal data, shows what and pushes only if the user says so. */
export async function pushAskingAboutPersonalData(project: Project, remote: string): Promise<void> {
  try {
    await project.push(remote);
  } catch (err) {
    if (!(err instanceof PersonalDataError)) throw err;
    const lines = err.findings.slice(0, 8).map((f) => `${f.file} · ${f.column}: ${f.kind} (${Math.round(f.share * 100)}%, e.g. ${f.example})`);
    const push = 'Push Anyway';
    const answer = await vscode.window.showWarningMessage(
      'The snapshots hold what looks like personal data. Push them anyway?',
      { modal: true, detail: `${lines.join('\n')}${err.findings.length > 8 ? `\n… and ${err.findings.length - 8} more` : ''}\n\nPushing anyway is recorded in the audit trail.` },
      push,
    );
    if (answer === push) await project.push(remote, undefined, { allowPersonalData: true });
  }
}
