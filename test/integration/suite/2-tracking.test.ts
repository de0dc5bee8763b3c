// Run tracking end to end in the real extension host: the command runs the
// quickstart example, the Runs view shows it, the status bar follows an active
// run, and stopping a sleeping script kills it and marks it KILLED.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../../src/extension/extension';
import type { RunsNode } from '../../../src/extension/runs/runsTree';
import { findRevealedRun, requestUi, skipUnlessUi } from './uiBridge';
import { api, waitFor } from './workbench';

function workspaceFile(...parts: string[]): vscode.Uri {
  return vscode.Uri.file(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, ...parts));
}

function children(mlops: MlopsApi, node?: RunsNode): RunsNode[] {
  return mlops.tree.getChildren(node);
}

describe('run tracking', () => {
  let trainRunId: string;

  it('shows a welcome view with the run button while the workspace has no runs', async function () {
    skipUnlessUi(this);
    const mlops = await api();
    assert.deepStrictEqual(mlops.service.current!.listRuns(), [], 'the test workspace starts without runs');
    const welcome = await requestUi({
      action: 'find', selector: '.welcome-view-content', texts: ['No tracked runs yet', 'Run Python File with Tracking'],
      revealViewContainer: 'mlops', screenshot: 'runs-welcome.png',
    });
    assert.ok(welcome.ok, `welcome view: ${JSON.stringify(welcome.rowTexts)} ${welcome.error ?? ''}`);
  });

  it('"Run Python File with Tracking" runs the quickstart example to FINISHED', async () => {
    const mlops = await api();
    const train = workspaceFile('train.py');
    await vscode.window.showTextDocument(train);
    trainRunId = (await vscode.commands.executeCommand<string>('mlops.runPythonFile', train))!;
    assert.match(trainRunId, /^[0-9a-f]{32}$/);
    const run = await waitFor('the run to finish', () => {
      mlops.service.refresh();
      const r = mlops.service.current!.getRun(trainRunId);
      return r && r.status !== 'RUNNING' ? r : undefined;
    });
    assert.strictEqual(run.status, 'FINISHED', `output: ${readOutput(mlops, trainRunId)}`);
    assert.strictEqual(run.params.lr, '0.1');
    assert.strictEqual(run.params.epochs, '30');
    const valAccuracy = run.metrics.find((m) => m.key === 'val_accuracy')!;
    assert.strictEqual(valAccuracy.count, 30);
    assert.ok(valAccuracy.latest > 0.9, `val_accuracy ${valAccuracy.latest}`);
    assert.ok(run.artifacts.some((a) => a.path === 'model.json'), 'the model is logged as an artifact');
    assert.ok(run.capture.python?.version, 'the interpreter is captured');
  });

  it('the Runs view lists the run under its experiment with params and final metrics', async () => {
    const mlops = await api();
    const experiment = children(mlops).find((n) => n.kind === 'experiment' && n.name === 'Default');
    assert.ok(experiment, 'experiment "Default" is shown');
    const runNode = children(mlops, experiment).find((n) => n.kind === 'run' && n.run.id === trainRunId);
    assert.ok(runNode && runNode.kind === 'run');
    const runItem = mlops.tree.getTreeItem(runNode);
    assert.match(String(runItem.label), /^train-\d+$/, 'a default name tells the runs of train.py apart');
    assert.match(String(runItem.description), /^loss=0\.0\d+ · /, 'the key metric is in the description');
    const sections = children(mlops, runNode);
    // The quickstart's mlops.yaml names data/, so the run also records its data snapshot.
    assert.deepStrictEqual(sections.map((s) => mlops.tree.getTreeItem(s).label), ['Params', 'Metrics', 'Artifacts', 'Data Snapshots']);
    const metrics = children(mlops, sections[1]).map((n) => mlops.tree.getTreeItem(n));
    const val = metrics.find((m) => m.label === 'val_accuracy')!;
    assert.match(String(val.description), /^0\.9\d*/);
    assert.match(String(val.tooltip), /min 0\.\d+ · max 0\.9\d+\n30 points/);
    const params = children(mlops, sections[0]).map((n) => mlops.tree.getTreeItem(n));
    assert.ok(params.some((p) => p.label === 'lr' && p.description === '0.1'));
  });

  it('shows the run, its params and metrics as rows of the Runs view in the workbench', async function () {
    skipUnlessUi(this);
    const runs = await findRevealedRun(trainRunId, ['train', 'loss='], 'runs-view.png');
    assert.ok(runs.ok, `rows: ${JSON.stringify(runs.rowTexts)} ${runs.error ?? ''}`);
    const clicked = await requestUi({ action: 'click-text', text: 'Metrics' });
    assert.ok(clicked.ok, clicked.error);
    const metrics = await requestUi({ action: 'find', texts: ['val_accuracy', 'train_accuracy'], screenshot: 'runs-view-metrics.png' });
    assert.ok(metrics.ok, `rows: ${JSON.stringify(metrics.rowTexts)} ${metrics.error ?? ''}`);
  });

  it('copies a run id to the clipboard', async () => {
    await api();
    await vscode.commands.executeCommand('mlops.copyRunId', trainRunId);
    assert.strictEqual(await vscode.env.clipboard.readText(), trainRunId);
  });

  it('shows an active run in the status bar, and Stop kills the sleeping script and marks it KILLED', async function () {
    const mlops = await api();
    const script = workspaceFile('sleep_train.py');
    const runId = (await vscode.commands.executeCommand<string>('mlops.runPythonFile', script))!;
    const pid = await waitFor('the script to log its first tick', () => {
      mlops.service.refresh();
      const r = mlops.service.current!.getRun(runId);
      return r?.metrics.some((m) => m.key === 'tick') ? r.capture.pid : undefined;
    });
    assert.ok(isRunning(pid), 'the script is running');

    if (process.env.MLOPS_TEST_UI_DIR) {
      const shown = await requestUi({ action: 'status-bar' });
      assert.ok(shown.rowTexts?.some((t) => t.includes('sleep_train') && /tick=\d/.test(t)), `status bar: ${JSON.stringify(shown.rowTexts)}`);
    }

    await vscode.commands.executeCommand('mlops.stopRun', runId);
    const stopped = await waitFor('the run to end', () => {
      mlops.service.refresh();
      const r = mlops.service.current!.getRun(runId);
      return r && r.status !== 'RUNNING' ? r : undefined;
    });
    assert.strictEqual(stopped.status, 'KILLED');
    assert.ok(!isRunning(pid), 'the script process is gone');

    if (process.env.MLOPS_TEST_UI_DIR) {
      const gone = await waitForUi(async () => {
        const bar = await requestUi({ action: 'status-bar' });
        return !bar.rowTexts?.some((t) => t.includes('sleep_train'));
      });
      assert.ok(gone, 'the status bar item goes when no run is active');
    }
  });
});

function readOutput(mlops: MlopsApi, runId: string): string {
  try {
    return fs.readFileSync(path.join(mlops.service.current!.layout.artifactsDir(runId), 'output.log'), 'utf8');
  } catch {
    return '(no output.log)';
  }
}

function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitForUi(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
