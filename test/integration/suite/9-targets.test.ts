// The Targets view in the real extension host: empty (the welcome view) without targets; with
// targets, each probed, an unreachable ssh host said so, and this machine's GPU with its process
// as nvidia-smi reports it. No GPU exists here: a STAND-IN nvidia-smi on the extension host's PATH
// prints the H200 host's real outputs (test/fixtures/nvidia-smi-stand-in).
import * as assert from 'assert';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TargetTreeNode } from '../../../src/core/compute/targetTree';
import type { NotebookRunOutcome } from '../../../src/core/notebooks/runNotebook';
import { startSshd } from '../../unit/sshd';
import { api, waitFor, workspaceRoot } from './workbench';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

describe('targets view (with a STAND-IN nvidia-smi: no GPU here)', () => {
  const yaml = () => path.join(workspaceRoot(), 'mlops.yaml');
  let original = '';
  const savedPath = process.env.PATH;
  before(() => {
    original = fs.readFileSync(yaml(), 'utf8');
    process.env.PATH = `${path.join(REPO, 'test', 'fixtures', 'nvidia-smi-stand-in')}${path.delimiter}${savedPath}`;
  });
  after(() => {
    fs.writeFileSync(yaml(), original);
    process.env.PATH = savedPath;
  });

  it('is empty without targets, then shows each target with reachability, GPUs and processes; Test Connection reaches one', async function () {
    this.timeout(120_000);
    const tree = (await api()).targets;
    assert.deepStrictEqual(tree.getChildren(), [], 'no targets: the welcome view shows');

    fs.writeFileSync(yaml(), `${original}\ntargets:\n  this-box:\n    type: local\n  nowhere:\n    host: nowhere.invalid\n`);
    await vscode.commands.executeCommand('mlops.refreshTargets');
    const find = (label: string, nodes: TargetTreeNode[]) => nodes.find((n) => n.label === label);
    const box = await waitFor('this-box probed', () => {
      const node = find('this-box', tree.getChildren());
      return node && !/checking/.test(node.description ?? '') && node;
    }, 60_000);
    const gpus = find('GPUs', tree.getChildren(box))!;
    const gpu = tree.getChildren(gpus)[0];
    assert.strictEqual(gpu.label, 'GPU 0: NVIDIA H200');
    assert.strictEqual(gpu.description, '0 / 143771 MiB · 0 %');
    assert.deepStrictEqual(tree.getChildren(gpu).map((p) => `${p.label} ${p.description}`), ['773 python3 966 MiB']);
    const item = tree.getTreeItem(box);
    assert.strictEqual(item.contextValue, 'target.local.terminal');
    assert.strictEqual(item.collapsibleState, vscode.TreeItemCollapsibleState.Expanded);

    const nowhere = await waitFor('the unreachable host probed', () => {
      const node = find('nowhere', tree.getChildren());
      return node?.state === 'error' && node;
    }, 60_000);
    assert.match(tree.getChildren(nowhere)[0].description!, /Cannot reach target "nowhere" \(nowhere\.invalid\)/);

    const status = await vscode.commands.executeCommand<{ reachable: boolean; gpus?: unknown[] }>('mlops.testTargetConnection', box);
    assert.strictEqual(status?.reachable, true);
    assert.strictEqual(status?.gpus?.length, 1);
  });

  it('shows a target from the user settings (mlops.targets) and hands it to the engine and the terminals as MLOPS_TARGETS', async function () {
    this.timeout(60_000);
    const tree = (await api()).targets;
    const settings = vscode.workspace.getConfiguration('mlops');
    await settings.update('targets', { 'my-own-box': { type: 'local' } }, vscode.ConfigurationTarget.Global);
    try {
      const mine = await waitFor('the user target in the view', () => tree.getChildren().find((n) => n.label === 'my-own-box'), 30_000);
      assert.ok(mine);
      assert.deepStrictEqual(JSON.parse(process.env.MLOPS_TARGETS ?? '{}'), { 'my-own-box': { type: 'local' } });
    } finally {
      await settings.update('targets', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('the user target gone with the setting', () => !tree.getChildren().some((n) => n.label === 'my-own-box'), 30_000);
    assert.strictEqual(process.env.MLOPS_TARGETS, undefined);
  });

  it('runs a Python file (and reruns it with changes) and a notebook on an ssh target (a real sshd) from the editor and the Targets view: output in their terminals, the runs and their metrics come home; Clean Up Target Disk removes their job folders there', async function () {
    this.timeout(300_000);
    const mlops = await api();
    const root = workspaceRoot();
    const sshd = await within('starting sshd', startSshd());
    // A remote run ships the files git tracks: the copied quickstart becomes a repository for this test only.
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env: { ...process.env, GIT_AUTHOR_NAME: 'it', GIT_AUTHOR_EMAIL: 'it@example.com', GIT_COMMITTER_NAME: 'it', GIT_COMMITTER_EMAIL: 'it@example.com' } });
    const script = path.join(root, 'remote_it.py');
    const notebook = path.join(root, 'remote_it.ipynb');
    try {
      fs.writeFileSync(yaml(), `${original}\ntargets:\n${sshd.entry('it-ssh')}`);
      fs.writeFileSync(script, 'import mlops_workbench as mw\nmw.log_metric("remote_loss", 0.25, step=1)\nprint("hello from the target", flush=True)\n');
      git('init', '-q');
      git('add', 'remote_it.py', 'mlops.yaml');
      git('commit', '-qm', 'remote run');
      const runId = await within('Run Python File on Target to start the run', vscode.commands.executeCommand<string>('mlops.runPythonFileOnTarget', vscode.Uri.file(script), 'it-ssh'));
      assert.ok(runId, 'the command answers with the run id');
      const run = await waitFor('the run to finish and come home', () => {
        const r = mlops.service.current!.getRun(runId);
        return r?.status === 'FINISHED' && r;
      }, 60_000);
      assert.strictEqual(run.tags['mlops.target'], 'it-ssh');
      assert.strictEqual(run.metrics.find((m) => m.key === 'remote_loss')?.latest, 0.25);
      assert.match(fs.readFileSync(path.join(mlops.service.current!.layout.artifactsDir(runId), 'output.log'), 'utf8'), /hello from the target/);
      const terminal = vscode.window.terminals.find((t) => t.name === 'MLOps: remote_it @ it-ssh');
      assert.ok(terminal, 'the output went to the script\'s terminal for that target');

      // Rerun with Changes… of a run on a target reruns it there, with the new arguments.
      const rerunId = await within('Rerun with Changes to start the rerun', vscode.commands.executeCommand<string>('mlops.rerunWithChanges', runId, ['--epochs', '2']));
      assert.ok(rerunId && rerunId !== runId, 'a new run');
      const rerun = await waitFor('the rerun to finish on the target', () => {
        const r = mlops.service.current!.getRun(rerunId);
        return r?.status === 'FINISHED' && r;
      }, 60_000);
      assert.strictEqual(rerun.tags['mlops.target'], 'it-ssh');
      assert.deepStrictEqual(rerun.capture.argv, ['python3', 'remote_it.py', '--epochs', '2']);

      // A notebook the same way: its code cells with python3 there, no Jupyter.
      const cell = { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['import mlops_workbench as mw\n', 'mw.log_metric("nb_acc", 0.75)\n', 'print("cells ran there")\n'] };
      fs.writeFileSync(notebook, JSON.stringify({ cells: [cell], metadata: {}, nbformat: 4, nbformat_minor: 5 }));
      const outcome = await within('Run Notebook on Target to run the notebook', vscode.commands.executeCommand<NotebookRunOutcome>('mlops.runNotebookOnTarget', vscode.Uri.file(notebook), { target: 'it-ssh', parameters: {}, notify: false }));
      assert.ok(outcome?.ok, `the notebook ran: ${outcome?.message}`);
      const nbRun = mlops.service.current!.getRun(outcome.runId)!;
      assert.strictEqual(nbRun.status, 'FINISHED');
      assert.strictEqual(nbRun.tags['mlops.target'], 'it-ssh');
      assert.strictEqual(nbRun.metrics.find((m) => m.key === 'nb_acc')?.latest, 0.75);

      // Run Python File Here on the target's row: the file open in the editor runs there.
      const node = await waitFor('it-ssh in the Targets view', () => mlops.targets.getChildren().find((n) => n.label === 'it-ssh'), 30_000);
      assert.strictEqual(mlops.targets.getTreeItem(node).contextValue, 'target.ssh.terminal', 'a row that offers Run Python File Here and Clean Up Target Disk');
      await vscode.window.showTextDocument(vscode.Uri.file(script));
      const hereId = await within('Run Python File Here to start the run', vscode.commands.executeCommand<string>('mlops.runPythonFileHere', node));
      const here = await waitFor('the run from the Targets view to finish', () => {
        const r = mlops.service.current!.getRun(hereId);
        return r?.status === 'FINISHED' && r;
      }, 60_000);
      assert.strictEqual(here.tags['mlops.target'], 'it-ssh');
      assert.deepStrictEqual(here.capture.argv, ['python3', 'remote_it.py']);

      // Delete Run on the notebook's run: gone here, its job folder is still known as this workspace's.
      await within('Delete Run', vscode.commands.executeCommand('mlops.deleteRun', outcome.runId, { confirmed: true }));
      assert.strictEqual(mlops.service.current!.getRun(outcome.runId), undefined, 'the run is gone here');
      assert.ok(fs.existsSync(path.join(sshd.workdir, outcome.runId)), 'its job folder is still on the host');

      // Clean Up Target Disk: with the setting at 0 days, the four ended runs' job folders leave the host, the deleted one's too.
      const settings = vscode.workspace.getConfiguration('mlops.runs');
      await settings.update('keepTargetJobFoldersDays', 0, vscode.ConfigurationTarget.Global);
      try {
        const cleaned = await within('Clean Up Target Disk', vscode.commands.executeCommand<{ removed: string[] }>('mlops.cleanUpTarget', node, { confirmed: true }));
        assert.deepStrictEqual([...cleaned.removed].sort(), [runId, rerunId, outcome.runId, hereId].sort());
        for (const id of cleaned.removed) assert.ok(!fs.existsSync(path.join(sshd.workdir, id)), `${id}'s job folder is gone from the host`);
        assert.strictEqual(mlops.service.current!.getRun(runId)?.status, 'FINISHED', 'the runs themselves stay, here');
      } finally {
        await settings.update('keepTargetJobFoldersDays', undefined, vscode.ConfigurationTarget.Global);
      }
    } finally {
      await within('stopping sshd', sshd.stop());
      fs.rmSync(path.join(root, '.git'), { recursive: true, force: true });
      fs.rmSync(script, { force: true });
      fs.rmSync(notebook, { force: true });
    }
  });

  it('Stop Run on a run on a target cancels it there, never signalling a process here that has the host\'s pid', async function () {
    this.timeout(60_000);
    const mlops = await api();
    const layout = mlops.service.current!.layout;
    // A process here whose group id is the pid the host reported: what a signal by that number would hit.
    const decoy = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const runId = 'feedc0de'.repeat(4);
    try {
      fs.writeFileSync(yaml(), `${original}\ntargets:\n  far-box:\n    host: nowhere.invalid\n`);
      fs.mkdirSync(layout.runDir(runId), { recursive: true });
      fs.writeFileSync(path.join(layout.runDir(runId), 'remote.json'), JSON.stringify({ target: 'far-box', host: 'far-box', dir: '/srv/runs/x', pid: decoy.pid }));
      fs.writeFileSync(layout.eventsFile(runId), [
        { type: 'run_start', schema: 1, run_id: runId, name: 'far-run', experiment: 'Default', source: 'command', time: Date.now() },
        { type: 'capture', time: Date.now(), capture: { argv: ['python3', 'train.py'], cwd: '/srv/runs/x/code', host: 'far-box', target: 'far-box', pid: decoy.pid } },
      ].map((e) => JSON.stringify(e)).join('\n') + '\n');
      mlops.service.refresh();
      const indexed = await waitFor('the run in the index', () => mlops.service.current!.getRun(runId));
      assert.strictEqual(indexed.capture.pid, decoy.pid, 'the run carries the host\'s pid, which is a live process here');
      await vscode.commands.executeCommand('mlops.stopRun', runId); // the host cannot be reached: an error message, nothing else
      await new Promise((r) => setTimeout(r, 500)); // time for a signal's exit to be seen
      assert.strictEqual(decoy.exitCode, null, 'the local process with that pid is untouched');
      assert.strictEqual(decoy.signalCode, null);
    } finally {
      decoy.kill('SIGKILL');
      fs.rmSync(layout.runDir(runId), { recursive: true, force: true });
    }
  });
});

/** `step`, or an error naming it when it takes longer than `ms`: a hang says where it is. */
async function within<T>(step: string, promise: Thenable<T>, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${step} took over ${ms / 1000} s`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
