// The Deployments view in the real extension host: deploy a registered ONNX model version,
// see it running in the view, switch it to another version, copy its curl, stop it; live
// req/s and latency in the view; the variant comparison panel of a deployment with a shadow.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { DeploymentNode } from '../../../src/extension/deployments/tree';
import type { VariantsPanel } from '../../../src/extension/deployments/variantsPanel';
import { api, waitFor, workspaceRoot } from './workbench';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

async function infer(url: string, model = 'serving-demo'): Promise<{ model_version: string }> {
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
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

  it('shows live traffic in the view and compares a shadow with the served version in a panel', async function () {
    this.timeout(180_000);
    const mlops = await api();
    const project = await mlops.service.project();
    const file = path.join(workspaceRoot(), 'variants-demo.onnx');
    fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'models', 'breast_cancer_mlp.onnx'), file);
    const v1 = await project.registerModel('variants-demo', file);
    await project.registerModel('variants-demo', file);
    const status = await vscode.commands.executeCommand<{ url: string }>('mlops.deployModel', { kind: 'version', version: v1 });
    await project.deployments.shadow('variants-demo', 'variants-demo:2');
    await vscode.commands.executeCommand('mlops.deployments.focus');
    const tree = mlops.deployments;
    // Requests keep coming while the view scrapes, as a deployment in use would.
    let sending = true;
    const load = (async () => { while (sending) await infer(status!.url, 'variants-demo'); })();
    try {
      const description = await waitFor('live req/s and latency in the Deployments view', async () => {
        const node = (await tree.getChildren()).find((n) => n.kind === 'deployment' && n.view.deployment.spec.name === 'variants-demo');
        const text = node ? String(tree.getTreeItem(node).description) : '';
        return /running · http:\/\/127\.0\.0\.1:\d+ · [\d.]+ req\/s · p50 [\d.]+ ms · p99 [\d.]+ ms · 0\.0% errors/.test(text) && text;
      }, 60_000);
      assert.ok(description);
    } finally {
      sending = false;
      await load;
    }

    const panel = await vscode.commands.executeCommand<VariantsPanel>('mlops.compareVariants', 'variants-demo');
    try {
      const shown = await waitFor('the comparison with agreement and drawn charts', async () => {
        const i = await panel.inspect();
        return i.agreement?.includes('The shadow agreed with the served answer on 100.0%') && i.canvases.some((c) => c.drawnPixels > 0) && i;
      }, 60_000);
      assert.strictEqual(shown.deployment, 'variants-demo');
      assert.deepStrictEqual(shown.traffic.map((r) => r[0]), ['primary · variants-demo 1', 'shadow · variants-demo 2']);
      assert.deepStrictEqual(shown.predictions.map((r) => r[0]), ['primary · variants-demo 1', 'shadow · variants-demo 2']);
      assert.ok(shown.canvases.length === 2, 'class shares and score histogram');
      assert.deepStrictEqual(shown.notices, []);
    } finally {
      panel.dispose();
      await vscode.commands.executeCommand('mlops.stopDeployment', 'variants-demo');
    }
  });
});
