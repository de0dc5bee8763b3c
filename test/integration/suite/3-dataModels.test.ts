// Snapshots, the model registry, model cards, lineage and reproduce in the real
// extension host, on the quickstart workspace after its training run.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SnapshotDiff, SnapshotInfo } from '../../../src/core/snapshots';
import type { DataNode } from '../../../src/extension/data/dataModelsTree';
import type { MlopsApi } from '../../../src/extension/extension';
import type { ModelVersion } from '../../../src/core/registry/registry';
import { requestUi, skipUnlessUi } from './uiBridge';
import { api, workspaceRoot } from './workbench';

const root = workspaceRoot;

async function finishedTrainRun(mlops: MlopsApi): Promise<string> {
  const tracking = mlops.service.current!;
  tracking.refresh();
  const run = tracking.listRuns().find((r) => /^train-\d+$/.test(r.name) && r.status === 'FINISHED');
  assert.ok(run, 'the tracking suite ran train.py first');
  return run.id;
}

describe('data and models', () => {
  let trainRunId: string;
  let first: SnapshotInfo;

  before(async () => {
    const mlops = await api();
    trainRunId = await finishedTrainRun(mlops);
  });

  it('the training run recorded the data snapshot of mlops.yaml\'s data paths', async () => {
    const mlops = await api();
    const run = mlops.service.current!.getRun(trainRunId)!;
    assert.deepStrictEqual(run.inputs.map((i) => i.paths), [['data']]);
  });

  it('"Snapshot Data or Models" snapshots the data and the view lists it with its files', async () => {
    const mlops = await api();
    first = (await vscode.commands.executeCommand<SnapshotInfo>('mlops.snapshot', ['data/'], 'breast cancer data'))!;
    assert.match(first.id, /^[0-9a-f]{40}$/);
    assert.strictEqual(first.fileCount, 1);
    const groups = await mlops.dataTree.getChildren();
    const snapshots = await mlops.dataTree.getChildren(groups.find((g) => g.kind === 'group' && g.group === 'snapshots'));
    const node = snapshots.find((n) => n.kind === 'snapshot' && n.info.id === first.id)!;
    assert.ok(node, 'the snapshot is listed');
    const files = await mlops.dataTree.getChildren(node);
    assert.deepStrictEqual(files.map((f) => f.kind === 'file' && f.file.path), ['data/breast_cancer.csv']);
    execFileSync('git', ['--git-dir', path.join(root(), '.mlops', 'snapshots.git'), 'fsck', '--strict']);
  });

  it('compares two snapshots: the changed file appears, with a readable summary', async () => {
    const csv = path.join(root(), 'data', 'breast_cancer.csv');
    const original = fs.readFileSync(csv);
    fs.appendFileSync(csv, '1,2,3\n');
    try {
      const second = (await vscode.commands.executeCommand<SnapshotInfo>('mlops.snapshot', ['data/'], 'one more row'))!;
      const diff = (await vscode.commands.executeCommand<SnapshotDiff>('mlops.diffSnapshots', first.id, second.id))!;
      assert.deepStrictEqual(diff.changed.map((c) => c.path), ['data/breast_cancer.csv']);
      assert.strictEqual(diff.changed[0].after.size - diff.changed[0].before.size, 6);
      const summary = vscode.workspace.textDocuments.find((d) => d.getText().startsWith(`# Snapshot ${first.id.slice(0, 10)}`));
      assert.ok(summary, 'a summary document is open');
      assert.ok(summary.uri.scheme === 'mlops-report' && !summary.isDirty, 'the summary closes without asking to save');
      assert.match(summary.getText(), /## Changed \(1\)\n\n- `data\/breast_cancer\.csv`/);
    } finally {
      fs.writeFileSync(csv, original);
    }
  });

  it('restores a snapshot into a new folder', async () => {
    const target = path.join(root(), '..', `restored-${Date.now()}`);
    const result = await vscode.commands.executeCommand<{ written: string[] }>('mlops.restoreSnapshot', first.id, target);
    assert.deepStrictEqual(result?.written, ['data/breast_cancer.csv']);
    assert.deepStrictEqual(fs.readFileSync(path.join(target, 'data', 'breast_cancer.csv')), fs.readFileSync(path.join(root(), 'data', 'breast_cancer.csv')));
    fs.rmSync(target, { recursive: true, force: true });
  });

  it('registers the run\'s model artifact, sets an alias, and writes the model card', async () => {
    const mlops = await api();
    const artifact = path.join(root(), '.mlops', 'runs', trainRunId, 'artifacts', 'model.json');
    const entry = { kind: 'entry', runId: trainRunId, section: 'artifacts', label: 'model.json', description: '', file: artifact };
    const version = (await vscode.commands.executeCommand<ModelVersion>('mlops.registerModel', entry, 'cancer-clf'))!;
    assert.strictEqual(version.version, 1);
    assert.strictEqual(version.run_id, trainRunId);
    assert.ok(Number(version.metrics.val_accuracy) > 0.9);
    await vscode.commands.executeCommand('mlops.setModelAlias', { model: 'cancer-clf', version: 1 }, 'champion');

    const groups = await mlops.dataTree.getChildren();
    const models = await mlops.dataTree.getChildren(groups.find((g) => g.kind === 'group' && g.group === 'models'));
    const versions = await mlops.dataTree.getChildren(models[0]);
    const v1 = versions[0] as DataNode & { kind: 'version' };
    assert.match(String(mlops.dataTree.getTreeItem(v1).description), /^@champion · custom · loss=/);
    const lineage = await mlops.dataTree.getChildren(v1);
    assert.strictEqual(lineage[0].kind === 'lineage' && lineage[0].node.id, trainRunId, 'lineage starts at the training run');

    const card = (await vscode.commands.executeCommand<string>('mlops.showModelCard', { model: 'cancer-clf', version: 1 }))!;
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, card);
    assert.match(fs.readFileSync(card, 'utf8'), /# Model card: cancer-clf v1[\s\S]*\| Version \| 1 \(`champion`\) \|/);

    const runNode = mlops.tree.runNode(trainRunId)!;
    const sections = mlops.tree.getChildren(runNode).map((s) => mlops.tree.getTreeItem(s).label);
    assert.ok(sections.includes('Data Snapshots') && sections.includes('Registered Models'), `run sections: ${sections.join(', ')}`);
  });

  it('shows snapshots and models in the Data & Models view of the workbench', async function () {
    skipUnlessUi(this);
    const shown = await requestUi({ action: 'find', texts: ['Snapshots', 'Models', 'breast cancer data'], revealViewContainer: 'mlops', screenshot: 'data-models-view.png' });
    assert.ok(shown.ok, `rows: ${JSON.stringify(shown.rowTexts)} ${shown.error ?? ''}`);
    const clicked = await requestUi({ action: 'click-text', text: '1 version' });
    assert.ok(clicked.ok, clicked.error);
    const version = await requestUi({ action: 'find', texts: ['v1', '@champion'], screenshot: 'data-models-version.png' });
    assert.ok(version.ok, `rows: ${JSON.stringify(version.rowTexts)}`);
  });

  it('reproduces the training run from its commit and data snapshot, as a new run tagged reproduces', async function () {
    this.timeout(120_000);
    const mlops = await api();
    const newRunId = (await vscode.commands.executeCommand<string>('mlops.reproduceRun', trainRunId))!;
    assert.match(newRunId, /^[0-9a-f]{32}$/);
    const run = mlops.service.current!.getRun(newRunId)!;
    assert.strictEqual(run.status, 'FINISHED');
    assert.strictEqual(run.tags.reproduces, trainRunId);
    const original = mlops.service.current!.getRun(trainRunId)!;
    const val = (r: typeof run) => r.metrics.find((m) => m.key === 'val_accuracy')!.latest;
    assert.strictEqual(val(run), val(original), 'same code, data and params give the same result');
    const comparison = vscode.workspace.textDocuments.find((d) => d.getText().startsWith('# Reproduction of train'));
    assert.match(comparison!.getText(), /\| val_accuracy \| 0\.958\d* \| 0\.958\d* \|/);
    assert.ok(comparison!.uri.scheme === 'mlops-report' && !comparison!.isDirty, 'the comparison closes without asking to save');
    assert.strictEqual(mlops.service.current && (await mlops.service.project()).audit.verify().ok, true);
  });
});
