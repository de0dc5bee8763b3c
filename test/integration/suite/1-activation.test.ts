// Smoke test: the extension loads in a real VS Code host, activates, registers
// its commands and contributes the MLOps view container to the workbench.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { requestUi, skipUnlessUi } from './uiBridge';
import { EXTENSION_ID } from './workbench';


describe('activation', () => {
  it('finds and activates the extension', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not loaded`);
    await extension.activate();
    assert.strictEqual(extension.isActive, true);
  });

  it('registers its commands', async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const command of ['mlops.runPythonFile', 'mlops.refreshRuns']) {
      assert.ok(commands.has(command), `command ${command} is not registered`);
    }
  });

  it('shows the MLOps container in the activity bar', async function () {
    skipUnlessUi(this);
    const result = await requestUi({
      action: 'find',
      selector: '.activitybar .action-item .action-label',
      texts: ['MLOps'],
      screenshot: 'activation.png',
    });
    assert.ok(result.ok, `MLOps not in the activity bar; items: ${JSON.stringify(result.rowTexts)} ${result.error ?? ''}`);
  });
});
