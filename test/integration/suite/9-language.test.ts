// The mlops.yaml language server in the real extension host: a mistake in mlops.yaml shows
// as a diagnostic on its line, and the "Run stage" CodeLens over a stage runs that stage.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, waitFor, workspaceRoot } from './workbench';

const STAGES = `
gates:
  - accuracy => 0.9
stages:
  hello:
    cmd: python3 hello.py
    deps: [hello.py]
    outs: [out/hello.txt]
`;

describe('the mlops.yaml language server', () => {
  let original: string | undefined;
  const file = () => path.join(workspaceRoot(), 'mlops.yaml');

  before(() => {
    original = fs.existsSync(file()) ? fs.readFileSync(file(), 'utf8') : undefined;
    fs.writeFileSync(path.join(workspaceRoot(), 'hello.py'), "import os\nos.makedirs('out', exist_ok=True)\nopen('out/hello.txt', 'w').write('hello from a stage')\n");
    fs.writeFileSync(file(), `${original ?? ''}${STAGES}`);
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (original === undefined) fs.rmSync(file(), { force: true });
    else fs.writeFileSync(file(), original);
    for (const p of ['hello.py', 'out']) fs.rmSync(path.join(workspaceRoot(), p), { recursive: true, force: true });
  });

  it('shows a bad gate expression as an error on its line', async function () {
    this.timeout(90_000);
    await api();
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file()));
    await vscode.window.showTextDocument(doc);
    const line = doc.getText().split('\n').findIndex((l) => l.includes('accuracy => 0.9'));
    const diagnostic = await waitFor('the diagnostic of the bad gate', () =>
      vscode.languages.getDiagnostics(doc.uri).find((d) => /is not a gate/.test(d.message)), 60_000);
    assert.strictEqual(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    assert.strictEqual(diagnostic.range.start.line, line);
    assert.strictEqual(doc.getText(diagnostic.range), 'accuracy => 0.9');
  });

  it('runs a stage from its "Run stage" CodeLens', async function () {
    this.timeout(120_000);
    const uri = vscode.Uri.file(file());
    const lens = await waitFor('the Run stage lens over the hello stage', async () =>
      (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri))?.find((l) => l.command?.command === 'mlops.pipelines.runStage'));
    assert.deepStrictEqual(lens.command!.arguments, ['hello']);
    assert.match(lens.command!.title, /Run stage/);
    const record = await vscode.commands.executeCommand<{ status: string }>(lens.command!.command, ...lens.command!.arguments!);
    assert.strictEqual(record?.status, 'succeeded', JSON.stringify(record));
    assert.strictEqual(fs.readFileSync(path.join(workspaceRoot(), 'out', 'hello.txt'), 'utf8'), 'hello from a stage');
  });
});
