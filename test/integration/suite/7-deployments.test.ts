// The Deployments view in the real extension host: deploy a registered ONNX model version,
// see it running in the view, switch it to another version, copy its curl, stop it.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { DeploymentNode } from '../../../src/extension/deployments/tree';
import { api, waitFor, workspaceRoot } from './workbench';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

async function infer(url: string): Promise<{ model_version: string }> {
  const res = await fetch(`${url}/v2/models/serving-demo/infer`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: Array(30).fill(0.5) }] }),
  });
  assert.strictEqual(res.status, 200);
  return (await res.json()) as { model_version: string };
}

describe('deployments', () => {
  it('deploys a model version, shows it in the Deployments view, switches it and stops it', async function () {
    this.timeout(180_000);
    const mlops = await api();
    const project = await mlops.service.project();
    const file = path.join(workspaceRoot(), 'serving-demo.onnx');
    fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'models', 'breast_cancer_mlp.onnx'), file);
    const v1 = await project.registerModel('serving-demo', file);
    await project.registerModel('serving-demo', file);

    const status = await vscode.commands.executeCommand<{ url: string }>('mlops.deployModel', { kind: 'version', version: v1 });
    assert.ok(status?.url, 'Deploy Model answers with the running server');
    const tree = mlops.deployments;
    const node = await waitFor('the deployment in the Deployments view', async () =>
      (await tree.getChildren()).find((n): n is Extract<DeploymentNode, { kind: 'deployment' }> => n.kind === 'deployment' && n.view.deployment.spec.name === 'serving-demo'));
    const item = tree.getTreeItem(node);
    assert.strictEqual(item.contextValue, 'deployment.running');
    assert.match(String(item.description), /running · http:\/\/127\.0\.0\.1:\d+/);
    assert.strictEqual((await infer(status.url)).model_version, '1');

    await vscode.commands.executeCommand('mlops.switchDeployment', 'serving-demo', 'serving-demo:2');
    assert.strictEqual((await infer(status.url)).model_version, '2');
    const serving = await waitFor('the view to show version 2', async () => {
      const current = (await tree.getChildren()).find((n) => n.kind === 'deployment' && n.view.deployment.spec.name === 'serving-demo');
      const details = current ? await tree.getChildren(current) : [];
      return details.find((d) => d.kind === 'detail' && d.label === 'serving' && d.description === 'serving-demo:2');
    });
    assert.ok(serving);
    const curl = await vscode.commands.executeCommand<string>('mlops.copyDeploymentCurl', 'serving-demo');
    assert.match(curl, /^curl -s http:\/\/127\.0\.0\.1:\d+\/v2\/models\/serving-demo\/infer/);

    await vscode.commands.executeCommand('mlops.stopDeployment', 'serving-demo');
    await waitFor('the view to show it stopped', async () => {
      const current = (await tree.getChildren()).find((n) => n.kind === 'deployment' && n.view.deployment.spec.name === 'serving-demo');
      return current && tree.getTreeItem(current).contextValue === 'deployment.stopped';
    });
  });
});
