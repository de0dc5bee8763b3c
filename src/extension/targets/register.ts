import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cancelRemoteRun } from '../../core/compute/cancelRun';
import { resumeRemoteRuns, type RemoteRun } from '../../core/compute/remoteRun';
import { cleanTarget, cleanupSummary, surveyTarget } from '../../core/compute/targetCleanup';
import type { TargetTreeNode } from '../../core/compute/targetTree';
import { findTarget, type Target } from '../../core/compute/targets';
import { formatBytes } from '../../core/format';
import { DEFAULT_GPU_SAMPLE_SECONDS, GPU_SAMPLE_ENV } from '../../core/tracking/gpuSampler';
import { MlopsLayout } from '../../core/workspace/layout';
import { registerCommand } from '../commandErrors';
import type { TrackingService } from '../trackingService';
import { TargetsTreeProvider } from './tree';
import { shareUserTargets } from './userTargets';

const RESUME_EVERY_MS = 60_000;

const EXAMPLE = `targets:
  gpu-box:
    type: ssh
    host: gpu-box            # a Host in ~/.ssh/config
  # cluster:
  #   type: slurm
  #   host: login1
  #   partition: gpu
  #   gpus: "a100:1"
  # k8s:
  #   type: kubernetes
  #   context: my-cluster
  #   image: python:3.12-slim
  #   gpus: 1
`;

/**
 * The Targets view and its commands (Refresh, Test Connection, Open Terminal, Cancel a run, Add a
 * Target, Run Python File Here, Clean Up Disk), the GPU sampling setting, and following remote runs that lost their follower.
 */
export function registerTargets(context: vscode.ExtensionContext, service: TrackingService): TargetsTreeProvider {
  const tree = new TargetsTreeProvider(service);
  shareUserTargets(context, () => tree.refresh(true));
  const view = vscode.window.createTreeView<TargetTreeNode>('mlops.targets', { treeDataProvider: tree, showCollapseAll: true });
  const pick = async (node: TargetTreeNode | undefined, why: string, filter: (t: Target) => boolean = () => true): Promise<Target | undefined> => {
    const chosen = node ?? view.selection[0];
    if (chosen?.target) return findTarget(service.root, chosen.target);
    const targets = tree.targets().filter(filter);
    const picked = await vscode.window.showQuickPick(targets.map((t) => ({ label: t.name, description: t.type })), { title: why });
    return picked && targets.find((t) => t.name === picked.label);
  };

  const testConnection = async (node?: TargetTreeNode) => {
    const target = await pick(node, 'Test the connection to…');
    if (!target) return undefined;
    const status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: reaching ${target.name}…` }, () => tree.probe(target));
    if (!status.reachable) void vscode.window.showErrorMessage(`MLOps: ${status.detail}`);
    else if (status.problems.length) void vscode.window.showWarningMessage(`MLOps: ${target.name} (${status.detail}) answers, but: ${status.problems.join(' ')}`);
    else void vscode.window.showInformationMessage(`MLOps: ${target.name} answers (${status.detail})${status.gpus ? `, ${status.gpus.length} GPU(s)` : ''}.`);
    return status;
  };

  const openTerminal = async (node?: TargetTreeNode) => {
    const target = await pick(node, 'Open a terminal on…', (t) => t.type !== 'kubernetes');
    if (!target) return undefined;
    if (target.type === 'kubernetes') throw new Error(`${target.name} is a Kubernetes target: open a shell in a run's pod with "kubectl exec -it <pod> -- sh".`);
    const host = target.type === 'local' ? undefined : target.host;
    if (target.type === 'slurm' && !host) throw new Error(`${target.name} submits from this machine: use an ordinary terminal.`);
    const config = target.type !== 'local' && target.config ? ['-F', target.config] : [];
    const terminal = host
      ? vscode.window.createTerminal({ name: `MLOps: ${target.name}`, shellPath: 'ssh', shellArgs: [...config, '--', host] })
      : vscode.window.createTerminal({ name: `MLOps: ${target.name}`, cwd: service.root });
    terminal.show();
    return terminal;
  };

  const cancel = async (node?: TargetTreeNode) => {
    const runId = node?.runId ?? view.selection[0]?.runId;
    if (!runId) throw new Error('Select a running run under a target in the Targets view first.');
    const { job } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: cancelling run ${runId.slice(0, 8)}…` },
      () => cancelRemoteRun(new MlopsLayout(service.root), runId));
    service.queueRefresh();
    void vscode.window.showInformationMessage(`MLOps: cancelled run ${runId.slice(0, 8)} on ${job.target} (${job.host}).`);
  };

  // The editor's Python file when one is open, else one picked from the workspace: run there as Run Python File on Target does.
  const runFileHere = async (node?: TargetTreeNode) => {
    const target = await pick(node, 'Run a Python file on…');
    if (!target) return undefined;
    const open = vscode.window.activeTextEditor?.document.uri;
    let file = open?.scheme === 'file' && open.fsPath.endsWith('.py') && !path.relative(service.root, open.fsPath).startsWith('..') ? open : undefined;
    if (!file) {
      const found = await vscode.workspace.findFiles(new vscode.RelativePattern(service.root, '**/*.py'), '{**/.mlops/**,**/node_modules/**,**/.venv/**,**/venv/**,**/__pycache__/**}', 2000);
      const picked = await vscode.window.showQuickPick(found.map((uri) => ({ label: path.relative(service.root, uri.fsPath), uri })).sort((a, b) => a.label.localeCompare(b.label)), { title: `Run which Python file on ${target.name}?` });
      file = picked?.uri;
    }
    return file && vscode.commands.executeCommand<string | undefined>('mlops.runPythonFileOnTarget', file, target.name);
  };

  // What goes is shown before anything is removed (unless a caller passes confirmed); the survey and the clean each take one connection.
  const cleanUp = async (node?: TargetTreeNode, options: { confirmed?: boolean } = {}) => {
    const target = await pick(node, 'Clean up the disk of…', (t) => t.type === 'ssh' || t.type === 'slurm');
    if (!target) return undefined;
    const layout = new MlopsLayout(service.root);
    const days = vscode.workspace.getConfiguration('mlops.runs').get<number>('keepTargetJobFoldersDays', 7);
    const survey = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: looking at ${target.name}'s job folders…` }, () => surveyTarget(layout, target, days));
    const going = survey.jobs.filter((j) => !j.keep);
    if (!going.length && !survey.cache.unused) {
      void vscode.window.showInformationMessage(`MLOps: nothing to clean up on ${target.name}: ${survey.jobs.length} job folder(s) of this workspace's runs, none ended ${days}+ days ago with its artifacts home.`);
      return undefined;
    }
    const deleted = going.filter((j) => j.deleted).length;
    const detail = [
      `${going.length - deleted} job folder(s) of runs that ended ${days}+ days ago, with their artifacts home${deleted ? `, and ${deleted} of runs deleted here` : ''} (${formatBytes(going.reduce((n, j) => n + j.bytes, 0))} of their own files), then the cached files no job folder uses any more.`,
      `${survey.jobs.length - going.length} stay (running, newer, or artifacts not home); ${survey.others} other workspaces' folders are never touched.`,
    ].join('\n');
    const choice = options.confirmed ? 'Clean Up' : await vscode.window.showWarningMessage(`Clean up the disk of ${target.name}?`, { modal: true, detail }, 'Clean Up');
    if (choice !== 'Clean Up') return undefined;
    const done = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: cleaning up ${target.name}…` }, () => cleanTarget(layout, target, days, survey));
    void vscode.window.showInformationMessage(`MLOps: ${cleanupSummary(done)}`);
    return done;
  };

  const openConfig = async () => {
    const file = path.join(service.root, 'mlops.yaml');
    if (!fs.existsSync(file)) fs.writeFileSync(file, EXAMPLE);
    else if (!/^targets:/m.test(fs.readFileSync(file, 'utf8'))) fs.appendFileSync(file, `\n${EXAMPLE}`);
    await vscode.window.showTextDocument(vscode.Uri.file(file));
  };

  // Tracked runs started here sample their GPUs as often as the setting says (runner.py and the launcher read the variable).
  const launchEnv = service.launchEnv;
  service.launchEnv = () => ({ ...launchEnv(), [GPU_SAMPLE_ENV]: String(vscode.workspace.getConfiguration('mlops.runs').get<number>('gpuSampleSeconds', DEFAULT_GPU_SAMPLE_SECONDS)) });

  // Remote runs whose follower ended (an editor closed, an `mlops run` killed) are picked up here.
  const followed: RemoteRun[] = [];
  const resume = () => void service.project().then((project) => {
    for (const run of resumeRemoteRuns({ layout: project.layout }, (m) => void vscode.window.showWarningMessage(`MLOps: ${m}`))) {
      followed.push(run);
      void run.finished.then(() => {
        const i = followed.indexOf(run);
        if (i >= 0) followed.splice(i, 1);
      });
    }
  }, () => undefined);
  resume();
  const resumeTimer = setInterval(resume, RESUME_EVERY_MS);

  const config = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(service.root, 'mlops.yaml'));
  const reprobe = () => tree.refresh(true);
  context.subscriptions.push(
    tree, view, config, config.onDidChange(reprobe), config.onDidCreate(reprobe), config.onDidDelete(reprobe),
    service.onDidChange(() => tree.refresh()),
    registerCommand('mlops.refreshTargets', reprobe),
    registerCommand('mlops.testTargetConnection', testConnection),
    registerCommand('mlops.openTargetTerminal', openTerminal),
    registerCommand('mlops.cancelTargetRun', cancel),
    registerCommand('mlops.cleanUpTarget', cleanUp),
    registerCommand('mlops.runPythonFileHere', runFileHere),
    registerCommand('mlops.addTarget', openConfig),
    // Closing the window leaves remote jobs running; the next window resumes following them.
    { dispose: () => { clearInterval(resumeTimer); for (const run of [...followed]) void run.detach(); } },
  );
  return tree;
}
