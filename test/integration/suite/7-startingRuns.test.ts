// Starting runs the way data scientists do, in the real extension host: numbered
// default names, one reused terminal per script, Run with Arguments and Rerun
// with Changes, `mlops` on the integrated terminals' PATH, and lineage as a
// read-only document.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../../src/extension/extension';
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
});
