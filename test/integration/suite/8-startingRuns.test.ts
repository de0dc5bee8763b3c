// Starting runs the way data scientists do, in the real extension host: numbered
// default names, one reused terminal per script, Run with Arguments and Rerun
// with Changes, `mlops` on the integrated terminals' PATH, and lineage as a
// read-only document.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../../src/extension/extension';
import { requestUi, skipUnlessUi } from './uiBridge';
import { api, waitFor, workspaceRoot } from './workbench';

const SCRIPT = [
  'import argparse',
  'import mlops_workbench as mlops',
  'parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)',
  'parser.add_argument("--lr", type=float, default=0.1, help="learning rate")',
  'args = parser.parse_args()',
  'mlops.log_param("lr", args.lr)',
  'print("trained with", args.lr)',
].join('\n');

async function finished(mlops: MlopsApi, runId: string) {
  return waitFor(`run ${runId} to end`, () => {
    mlops.service.refresh();
    const run = mlops.service.current!.getRun(runId);
    return run && run.status !== 'RUNNING' ? run : undefined;
  }, 60_000);
}

describe('starting runs', function () {
  this.timeout(120_000);
  const script = () => path.join(workspaceRoot(), 'tune.py');
  const runIds: string[] = [];

  before(() => fs.writeFileSync(script(), SCRIPT + '\n'));

  it('names each run of a script apart and shows them all in one reused terminal', async () => {
    const mlops = await api();
    const terminalsBefore = vscode.window.terminals.length;
    for (let i = 0; i < 2; i++) {
      const id = (await vscode.commands.executeCommand<string>('mlops.runPythonFile', vscode.Uri.file(script())))!;
      assert.strictEqual((await finished(mlops, id)).status, 'FINISHED');
      runIds.push(id);
    }
    const names = runIds.map((id) => mlops.service.current!.getRun(id)!.name);
    assert.deepStrictEqual(names, ['tune-1', 'tune-2']);
    const mine = vscode.window.terminals.filter((t) => t.name === 'MLOps: tune');
    assert.strictEqual(mine.length, 1, `terminals: ${vscode.window.terminals.map((t) => t.name).join(', ')}`);
    assert.strictEqual(vscode.window.terminals.length, terminalsBefore + 1);
  });

  it('"Run with Arguments…" and "Rerun with Changes…" run the script with the new arguments, in the same terminal', async () => {
    const mlops = await api();
    const withArgs = (await vscode.commands.executeCommand<string>('mlops.runPythonFileWithArguments', vscode.Uri.file(script()), ['--lr', '0.2']))!;
    const first = await finished(mlops, withArgs);
    assert.strictEqual(first.params.lr, '0.2');
    assert.deepStrictEqual(first.capture.argv?.slice(1), [script(), '--lr', '0.2']);
    const rerun = (await vscode.commands.executeCommand<string>('mlops.rerunWithChanges', withArgs, ['--lr', '0.5']))!;
    const second = await finished(mlops, rerun);
    assert.strictEqual(second.status, 'FINISHED');
    assert.strictEqual(second.params.lr, '0.5');
    assert.strictEqual(second.name, 'tune-4');
    assert.strictEqual(second.experiment, first.experiment);
    assert.strictEqual(vscode.window.terminals.filter((t) => t.name === 'MLOps: tune').length, 1);
  });

  it('"Run with Arguments…" offers the script\'s argparse options and fills in the arguments it last ran with', async function () {
    skipUnlessUi(this);
    const mlops = await api();
    const started = vscode.commands.executeCommand<string | undefined>('mlops.runPythonFileWithArguments', vscode.Uri.file(script()));
    const options = await requestUi({ action: 'find', selector: '.quick-input-widget .monaco-list-row', texts: ['--lr', 'learning rate (default: 0.1)'], screenshot: 'run-with-arguments-options.png', timeoutMs: 30_000 });
    assert.ok(options.ok, `options: ${JSON.stringify(options.rowTexts)} ${options.error ?? ''}`);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const box = await requestUi({ action: 'find', selector: '.quick-input-widget', texts: ['Arguments for tune.py'], screenshot: 'run-with-arguments-box.png' });
    assert.ok(box.ok, `input box: ${JSON.stringify(box.rowTexts)} ${box.error ?? ''}`);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const runId = await started;
    assert.ok(runId, 'the command ran the script');
    const run = await finished(mlops, runId);
    // The last arguments of tune.py were Rerun with Changes' --lr 0.5: ticked in the list and filled in the box.
    assert.deepStrictEqual(run.capture.argv?.slice(1), [script(), '--lr', '0.5']);
  });

  it('puts `mlops` first on the PATH of integrated terminals, so the printed commands work', async () => {
    const out = path.join(workspaceRoot(), 'mlops-on-path.json');
    const terminal = vscode.window.createTerminal({ name: 'mlops on PATH', cwd: workspaceRoot() });
    try {
      terminal.sendText(`mlops runs list --json > ${out}.tmp && mv ${out}.tmp ${out}`);
      const listed = await waitFor('mlops runs list in an integrated terminal', () => {
        const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
        return text ? (JSON.parse(text) as { id: string; name: string }[]) : undefined;
      }, 60_000);
      for (const id of runIds) assert.ok(listed.some((r) => r.id === id), `mlops runs list shows run ${id}`);
    } finally {
      terminal.dispose();
      fs.rmSync(out, { force: true });
    }
  });

  it('opens lineage as a read-only document that closes without asking to save', async () => {
    const mlops = await api();
    const project = await mlops.service.project();
    const version = project.registry.models()[0]?.versions[0];
    assert.ok(version, 'the data and models suite registered a model');
    const text = await vscode.commands.executeCommand<string>('mlops.showLineage', { model: version.model, version: version.version });
    const doc = vscode.window.activeTextEditor!.document;
    assert.strictEqual(doc.uri.scheme, 'mlops-lineage');
    assert.ok(!doc.isUntitled && !doc.isDirty, 'nothing to save');
    assert.match(text!, new RegExp(`^Lineage of ${version.model} v${version.version}`));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('opens the model card\'s Markdown preview beside its source', async () => {
    const mlops = await api();
    const version = (await mlops.service.project()).registry.models()[0].versions[0];
    const card = await vscode.commands.executeCommand<string>('mlops.showModelCard', { model: version.model, version: version.version });
    const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => ({ column: g.viewColumn, input: t.input })));
    const source = tabs().find((t) => t.input instanceof vscode.TabInputText && t.input.uri.fsPath === card);
    assert.ok(source, 'the card\'s Markdown is open');
    await waitFor('the Markdown preview beside it', () => tabs().some((t) => t.column !== source.column && t.input instanceof vscode.TabInputWebview && /markdown/i.test(t.input.viewType)));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a notebook whose interpreter lacks Jupyter is refused before any run exists', async () => {
    const mlops = await api();
    const venv = path.join(workspaceRoot(), '.bare-venv');
    const made = spawnSync('python3', ['-m', 'venv', '--without-pip', venv], { encoding: 'utf8' });
    assert.strictEqual(made.status, 0, made.stderr);
    try {
      mlops.service.refresh();
      const before = mlops.service.current!.listRuns().length;
      const outcome = await vscode.commands.executeCommand('mlops.runNotebookAsExperiment', vscode.Uri.file(path.join(workspaceRoot(), 'explore.ipynb')), { parameters: {}, python: path.join(venv, 'bin', 'python') });
      assert.strictEqual(outcome, undefined, 'the error is shown as a message');
      mlops.service.refresh();
      assert.strictEqual(mlops.service.current!.listRuns().length, before, 'no FAILED run is left behind');
    } finally {
      fs.rmSync(venv, { recursive: true, force: true });
    }
  });
});
