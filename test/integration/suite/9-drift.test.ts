// Monitoring in the real extension host: a deployed model version receives shifted requests,
// "Check Deployment for Drift Now" records an alert (badge in the Deployments view), the
// drift panel shows every feature by severity with its histograms and the timeline, and
// opens from a model version and from two snapshots too. Under the code-server runner the
// rendered panel is checked inside its webview frame and a screenshot is saved.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MonitoringVerdict } from '../../../src/core/monitoring/monitor';
import { appendEvents, newRunId } from '../../../src/core/tracking/eventWriter';
import type { DeploymentNode } from '../../../src/extension/deployments/tree';
import type { DriftPanel } from '../../../src/extension/monitoring/driftPanel';
import { requestUi, skipUnlessUi } from './uiBridge';
import { api, waitFor, workspaceRoot } from './workbench';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const FEATURES = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, '0')}`);

function cancerRows(): number[][] {
  return fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'models', 'breast_cancer.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 30).map(Number));
}

const csv = (rows: number[][]) => [FEATURES.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
/** Two features in three 60% larger: dataset drift. */
const shifted = (r: number[]) => r.map((v, i) => (i % 3 ? v * 1.6 : v));

describe('drift monitoring', function () {
  this.timeout(240_000);
  const panels: DriftPanel[] = [];
  after(async () => {
    for (const p of panels) p.dispose();
    await vscode.commands.executeCommand('mlops.stopDeployment', 'drift-demo');
  });

  it('checks a deployment with shifted traffic: an alert, a badge, and the drift panel by severity', async () => {
    const mlops = await api();
    const project = await mlops.service.project();
    const root = workspaceRoot();
    const rows = cancerRows();
    fs.mkdirSync(path.join(root, 'drift'), { recursive: true });
    fs.writeFileSync(path.join(root, 'drift', 'train.csv'), csv(rows));
    const data = await project.snapshot(['drift/train.csv'], { message: 'drift training data' });
    // The training run as the launcher records it: its input is the data snapshot (the lineage the check follows).
    const runId = newRunId();
    fs.mkdirSync(project.layout.runDir(runId), { recursive: true });
    appendEvents(project.layout.eventsFile(runId), [
      { type: 'run_start', schema: 1, run_id: runId, name: 'drift-train', experiment: 'Default', source: 'script', time: Date.now() },
      { type: 'input', snapshot: data.id, paths: ['drift/train.csv'] },
    ]);
    const file = path.join(root, 'drift', 'model.onnx');
    fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'models', 'breast_cancer_mlp.onnx'), file);
    const version = await project.registry.register({ model: 'drift-demo', path: file, runId });

    const status = await vscode.commands.executeCommand<{ url: string }>('mlops.deployModel', { kind: 'version', version }, 'drift-demo');
    assert.ok(status?.url);
    for (let i = 0; i < 150; i++) {
      const res = await fetch(`${status.url}/v2/models/drift-demo/infer`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: shifted(rows[(i * 7) % rows.length]) }] }),
      });
      assert.strictEqual(res.status, 200);
    }
    const log = path.join(root, '.mlops', 'serving', 'drift-demo', 'predictions.jsonl');
    await waitFor('the prediction log', () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length >= 150);

    const verdict = await vscode.commands.executeCommand<MonitoringVerdict>('mlops.checkDeploymentDrift', 'drift-demo');
    assert.ok(verdict, 'the check answers its verdict');
    assert.strictEqual(verdict.reference.from, 'lineage');
    assert.strictEqual(verdict.drift.drift, true);
    assert.strictEqual(verdict.alert, true);
    assert.match(verdict.reasons[0], /^data drift: \d+ of 30 features drifted/);
    assert.ok(project.audit.entries().some((e) => e.action === 'monitor.alert' && e.subject.includes('deployment:drift-demo')), 'the alert is in the audit trail');

    const tree = mlops.deployments;
    const item = await waitFor('the badge in the Deployments view', async () => {
      const node = (await tree.getChildren()).find((n): n is Extract<DeploymentNode, { kind: 'deployment' }> => n.kind === 'deployment' && n.view.deployment.spec.name === 'drift-demo');
      const it = node && tree.getTreeItem(node);
      return it && String(it.description).includes('⚠ data drift') ? it : undefined;
    });
    assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'warning');

    const panel = await vscode.commands.executeCommand<DriftPanel>('mlops.openDriftPanel', 'drift-demo');
    panels.push(panel);
    const seen = await waitFor('the panel to draw', async () => {
      const i = await panel.inspect();
      return i.rows.length === 30 && i.canvases.some((c) => c.id === 'histogram' && c.drawnPixels > 500) && i.timelinePoints >= 1 ? i : undefined;
    }, 60_000);
    assert.strictEqual(seen.title, 'Drift: drift-demo');
    const severities = seen.rows.map((r) => r.severity);
    assert.deepStrictEqual(severities, [...severities].sort((a, b) => b - a), 'most severe first');
    assert.strictEqual(seen.rows[0].verdict, 'drift');
    assert.strictEqual(seen.selected, seen.rows[0].column, 'the most severe feature is shown first');
    assert.ok(seen.canvases.some((c) => c.id === 'timeline' && c.drawnPixels > 200), 'the timeline of checks is drawn');
    assert.ok(seen.notices.some((n) => n.startsWith('Alert: data drift')));
    const last = seen.rows[seen.rows.length - 1].column;
    assert.strictEqual((await panel.select(last)).selected, last);

    // Retrain hands the deployment to the retraining loop's command; without retrain: in
    // mlops.yaml the loop says what to add and trains nothing.
    const versions = project.registry.model('drift-demo').versions.length;
    assert.strictEqual(await mlops.monitoring.retrain('drift-demo'), true);
    assert.strictEqual(project.registry.model('drift-demo').versions.length, versions, 'no version trained without retrain:');
  });

  it('the rendered drift panel shows the features and charts; a screenshot is saved', async function () {
    skipUnlessUi(this);
    const found = await requestUi({ action: 'find', webview: true, selector: 'body[data-panel="drift"] *', texts: ['Dataset drift', 'Check Now', 'Retrain', 'Checks over time'], timeoutMs: 30_000 });
    assert.ok(found.ok && Object.values(found.found ?? {}).every(Boolean), `found: ${JSON.stringify(found.found)} ${found.error ?? ''}`);
    const pixels = await requestUi({ action: 'canvas-pixels', webview: true, selector: 'body[data-panel="drift"] canvas', minPixels: 500 });
    assert.ok(pixels.ok, pixels.error);
    const shot = await requestUi({ action: 'screenshot', webview: true, element: 'body[data-panel="drift"] #app', screenshot: 'panel-drift.png' });
    assert.ok(shot.ok && fs.statSync(shot.screenshot!).size > 5000, `screenshot: ${shot.error ?? shot.screenshot}`);
  });

  it('opens from a model version (its training data against the workspace now) and from two snapshots', async () => {
    const mlops = await api();
    const project = await mlops.service.project();
    const root = workspaceRoot();
    const version = project.registry.version('drift-demo', 1);
    const fromVersion = await vscode.commands.executeCommand<DriftPanel>('mlops.openDriftPanel', { kind: 'version', version });
    panels.push(fromVersion);
    const v = await waitFor('the version panel', async () => {
      const i = await fromVersion.inspect();
      return i.rows.length === 30 ? i : undefined;
    }, 60_000);
    assert.strictEqual(v.title, 'Drift: drift-demo version 1');
    assert.ok(v.rows.every((r) => r.verdict === 'ok'), 'the training data is unchanged in the workspace');
    assert.ok(v.notices.some((n) => n.startsWith('Training data of drift-demo version 1')));

    const before = (await project.snapshots.list()).find((s) => s.message.startsWith('drift training data'))!;
    fs.writeFileSync(path.join(root, 'drift', 'train.csv'), csv(cancerRows().map(shifted)));
    const after = await project.snapshot(['drift/train.csv'], { message: 'shifted drift data' });
    const fromSnapshots = await vscode.commands.executeCommand<DriftPanel>('mlops.compareSnapshotsDrift', { kind: 'snapshot', info: before }, [{ kind: 'snapshot', info: before }, { kind: 'snapshot', info: after }]);
    panels.push(fromSnapshots);
    const s = await waitFor('the snapshots panel', async () => {
      const i = await fromSnapshots.inspect();
      return i.rows.length === 30 ? i : undefined;
    }, 60_000);
    assert.strictEqual(s.rows.filter((r) => r.verdict === 'drift').length, 20, 'exactly the shifted features drift');
    assert.ok(s.canvases.some((c) => c.id === 'histogram' && c.drawnPixels > 500));
  });
});
