import * as vscode from 'vscode';
import type { Deployments, ResumedDeployment } from '../../core/serving/deployments';
import type { DeploymentStatus } from '../../core/serving/supervisor';

/**
 * On activation: the deployments this editor started that were running when it closed start
 * again; detached ones still alive are attached to. Says what happened in the output, and
 * shows an error for a deployment that could not come back.
 */
export async function resumeDeployments(
  deployments: () => Promise<Deployments>, onStatus: (name: string) => (s: DeploymentStatus) => void, log: vscode.OutputChannel,
): Promise<ResumedDeployment[]> {
  let resumed: ResumedDeployment[];
  try {
    resumed = await (await deployments()).resume('editor', { onStatus });
  } catch (err) {
    log.appendLine(`Deployments could not be resumed: ${(err as Error).message}`);
    return [];
  }
  for (const r of resumed) {
    if (r.action === 'restarted') log.appendLine(`${r.name}: started again at ${r.url} (it was running when the window closed).`);
    else if (r.action === 'attached') log.appendLine(`${r.name}: running at ${r.url}, supervised by another process.`);
    else if (r.action === 'failed') {
      log.appendLine(`${r.name}: could not start again: ${r.error}`);
      void vscode.window.showErrorMessage(`MLOps: deployment ${r.name} was running when the window closed and could not start again: ${r.error}`);
    }
  }
  return resumed;
}
