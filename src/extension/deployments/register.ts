import * as path from 'node:path';
import * as vscode from 'vscode';
import { readTargets } from '../../core/compute/targets';
import type { ModelVersion } from '../../core/registry/registry';
import { curlExample } from '../../core/serving/curl';
import { deploymentSpec, servedModel, type Deployments } from '../../core/serving/deployments';
import { exportDocker, exportKubernetes } from '../../core/serving/export';
import { NodeMissingError } from '../../core/serving/remoteDeployment';
import { predictionLogFiles } from '../../core/serving/predictionLog';
import { VARIANTS_VIEW_TYPE } from '../../protocol/variants';
import { registerCommand } from '../commandErrors';
import type { TrackingService } from '../trackingService';
import { LiveStatsPoller } from './liveStats';
import { resumeDeployments } from './resume';
import { DeploymentsTreeProvider, type DeploymentNode } from './tree';
import { VariantsPanels } from './variantsPanel';

type VersionArg = { kind: 'version'; version: ModelVersion } | vscode.Uri | undefined;
type DeploymentArg = DeploymentNode | string | undefined;

/**
 * The Deployments view and its commands: deploy a model version or an .onnx file, stop,
 * restart, switch version, load test, copy a curl example, open the server and prediction
 * logs. Deployments started here stop with the window and start again when it reopens (the
 * CLI's --detach outlives it).
 */
export function registerDeployments(context: vscode.ExtensionContext, service: TrackingService, log: vscode.OutputChannel): DeploymentsTreeProvider {
  const deployments = async (): Promise<Deployments> => (await service.project()).deployments;
  const poller = new LiveStatsPoller(deployments, () => tree.refresh());
  const tree = new DeploymentsTreeProvider(service, (name) => poller.stats(name));
  const view = vscode.window.createTreeView<DeploymentNode>('mlops.deployments', { treeDataProvider: tree });
  poller.follow(view);
  const nameOf = (arg: DeploymentArg): string => {
    if (typeof arg === 'string') return arg;
    if (arg?.kind === 'deployment') return arg.view.deployment.spec.name;
    if (arg?.kind === 'detail') return arg.name;
    const selected = view.selection[0];
    if (selected) return nameOf(selected);
    throw new Error('Select a deployment in the Deployments view first.');
  };
  const onStatus = (name: string) => (s: { state: string; lastError?: string }) => {
    if (s.lastError) log.appendLine(`${name}: ${s.state}: ${s.lastError}`);
    tree.refresh();
  };

  /** Where to deploy: this machine first, then the ssh targets of mlops.yaml; no question when there are none. */
  const pickPlace = async (target: string): Promise<string | undefined> => {
    const ssh = readTargets(service.root).filter((t) => t.type === 'ssh');
    if (!ssh.length) return 'local';
    const items = [
      { label: 'local', description: 'this machine' },
      ...ssh.map((t) => ({ label: t.name, description: `ssh ${t.host}: the server runs there, forwarded to 127.0.0.1 here` })),
    ];
    return (await vscode.window.showQuickPick(items, { title: `Deploy ${target} on…` }))?.label;
  };
  /** A host without node: offer the container exports the error names, written under deploy/<name>/. */
  const offerExports = async (err: NodeMissingError, name: string, model: string) => {
    const docker = 'Export for Docker';
    const k8s = 'Export for Kubernetes';
    const choice = await vscode.window.showErrorMessage(`MLOps: ${err.message}`, docker, k8s);
    if (!choice) return;
    const out = path.join(service.root, 'deploy', name, choice === docker ? 'docker' : 'k8s');
    const files = choice === docker ? await exportDocker(await deployments(), name, out, { model }) : exportKubernetes(await deployments(), name, out, { model });
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(out, files.includes('Dockerfile') ? 'Dockerfile' : files[0])), { preview: true });
  };
  /** `on`: "local" or an ssh target's name; asked when not given. */
  const deploy = async (arg: VersionArg, name?: string, on?: string) => {
    const target = arg instanceof vscode.Uri ? arg.fsPath : arg?.kind === 'version' ? `${arg.version.model}:${arg.version.version}` : undefined;
    if (!target) throw new Error('Deploy a model version from the Data & Models view, or an .onnx file from the Explorer.');
    const place = on ?? (await pickPlace(target));
    if (!place) return undefined;
    const d = await deployments();
    const deploymentName = name ?? (arg instanceof vscode.Uri ? path.basename(arg.fsPath, '.onnx') : (arg as { version: ModelVersion }).version.model);
    const spec = deploymentSpec(deploymentName, target, place === 'local' ? {} : { remote: place });
    const running = await Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: deploying ${target}${place === 'local' ? '' : ` on ${place}`}…` }, () =>
      d.deploy(spec, { owner: 'editor', onStatus: onStatus(target) }))).catch((err: Error) => {
      if (!(err instanceof NodeMissingError)) throw err;
      void offerExports(err, deploymentName, target);
      return undefined;
    });
    if (!running) return undefined;
    tree.refresh();
    const remote = running.status.remote;
    void vscode.window.showInformationMessage(`MLOps: ${running.name} serves ${target} at ${running.status.url}${remote ? ` (on ${remote.target}, ${remote.host})` : ''}`);
    return running.status;
  };
  const restart = async (arg: DeploymentArg) => {
    const d = await deployments();
    const name = nameOf(arg);
    const { deployment, live } = d.get(name);
    if (live) await d.stop(name);
    const running = await d.deploy({ ...deployment.spec, target: deployment.target }, { owner: 'editor', onStatus: onStatus(name) });
    tree.refresh();
    return running.status;
  };
  const switchTo = async (arg: DeploymentArg, target?: string) => {
    const d = await deployments();
    const name = nameOf(arg);
    if (!target) {
      const served = d.get(name).deployment.target;
      const model = servedModel(served);
      if (!model) throw new Error(`${name} serves the file ${served}, not a registered model: deploy it again with the new file, or register it (mlops models register) to switch between versions.`);
      const versions = (await service.project()).registry.model(model).versions;
      const pick = await vscode.window.showQuickPick(versions.map((v) => ({ label: `${model}:${v.version}`, description: new Date(v.created).toLocaleString() })), { title: `Switch ${name} to…` });
      if (!pick) return undefined;
      target = pick.label;
    }
    const to = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: switching ${name} to ${target}…` }, () => d.switch(name, target!));
    tree.refresh();
    return to;
  };
  const copyCurl = async (arg: DeploymentArg) => {
    const d = await deployments();
    const { status, live, deployment } = d.get(nameOf(arg));
    if (!live || !status?.url) throw new Error(`${deployment.spec.name} is not running.`);
    const meta = (await (await fetch(`${status.url}/v2/models/${encodeURIComponent(deployment.spec.name)}`, { headers: status.token ? { Authorization: `Bearer ${status.token}` } : {} })).json()) as { name: string; inputs: { name: string; datatype: string; shape: number[] }[] };
    const curl = curlExample(status.url, meta.name, meta.inputs[0], deployment.spec.token);
    await vscode.env.clipboard.writeText(curl);
    return curl;
  };
  const openFile = async (file: string | undefined, what: string) => {
    if (!file) throw new Error(`No ${what} yet.`);
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  };
  /** From the palette: the deployments with a split or a shadow first. */
  const pickSplitDeployment = async (): Promise<string | undefined> => {
    const all = (await deployments()).list().map((v) => v.deployment);
    if (!all.length) throw new Error('There are no deployments yet; deploy a model version first.');
    const items = all
      .map((d) => ({ label: d.spec.name, description: [d.split ? `split with ${d.split.target}` : '', d.shadow ? `shadow ${d.shadow}` : ''].filter(Boolean).join(' · ') || `serves ${d.target} only` }))
      .sort((a, b) => Number(a.description.startsWith('serves')) - Number(b.description.startsWith('serves')) || a.label.localeCompare(b.label));
    return (await vscode.window.showQuickPick(items, { title: 'Compare the variants of…' }))?.label;
  };
  const variants = new VariantsPanels(context.extensionUri, deployments, (line) => log.appendLine(line));
  const cmd = registerCommand;
  const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(service.root, '.mlops/{deployments.jsonl,serving/*/status.json,serving/*/capacity.json}'));
  const refresh = () => tree.refresh();
  context.subscriptions.push(
    tree, view, poller, watcher, watcher.onDidChange(refresh), watcher.onDidCreate(refresh), watcher.onDidDelete(refresh),
    cmd('mlops.deployModel', (arg: VersionArg, name?: string, on?: string) => deploy(arg, name, on)),
    cmd('mlops.refreshDeployments', refresh),
    cmd('mlops.stopDeployment', async (arg: DeploymentArg) => { await (await deployments()).stop(nameOf(arg)); refresh(); }),
    cmd('mlops.restartDeployment', restart),
    cmd('mlops.switchDeployment', switchTo),
    cmd('mlops.loadTestDeployment', async (arg: DeploymentArg) => {
      const name = nameOf(arg);
      const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: load testing ${name}…` }, async () => (await deployments()).loadTest(name));
      void vscode.window.showInformationMessage(`MLOps: ${name} answers ${Math.round(report.maxRps)} req/s with p99 ${report.p99Ms.toFixed(1)} ms (target ${report.p99TargetMs} ms).`);
      return report;
    }),
    cmd('mlops.copyDeploymentCurl', copyCurl),
    variants,
    cmd('mlops.compareVariants', async (arg: DeploymentArg) => {
      const name = arg || view.selection[0] ? nameOf(arg) : await pickSplitDeployment();
      return name ? variants.show(name) : undefined;
    }),
    vscode.window.registerWebviewPanelSerializer(VARIANTS_VIEW_TYPE, { deserializeWebviewPanel: async (panel, state: unknown) => variants.restore(panel, state) }),
    cmd('mlops.openDeploymentLog', async (arg: DeploymentArg) => openFile(path.join((await deployments()).dir(nameOf(arg)), 'server.log'), 'server log')),
    cmd('mlops.openPredictionLog', async (arg: DeploymentArg) => openFile(predictionLogFiles((await deployments()).dir(nameOf(arg))).pop(), 'prediction log')),
    // Deployments started in this window stop with it, and come back when it reopens.
    { dispose: () => void service.project().then((p) => p.deployments.stopAll(), () => {}) },
  );
  if (vscode.workspace.getConfiguration('mlops').get<boolean>('deployments.restartOnOpen', true)) void resumeDeployments(deployments, onStatus, log).finally(refresh);
  return tree;
}
