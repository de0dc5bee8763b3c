// What every integration test needs from the workbench: the extension's API,
// the test workspace, and waiting for something to become true.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../../src/extension/extension';

export const EXTENSION_ID = 'mlops-workbench.mlops-workbench';

/** The activated extension's API, once its engine is open. */
export async function api(): Promise<MlopsApi> {
  const ext = vscode.extensions.getExtension<MlopsApi | undefined>(EXTENSION_ID)!;
  const exported = await ext.activate();
  assert.ok(exported, 'the extension exposes its API when a folder is open');
  await exported.service.ready;
  return exported;
}

/** The copied quickstart folder the suite runs in. */
export function workspaceRoot(): string {
  return vscode.workspace.workspaceFolders![0].uri.fsPath;
}

/** Polls `probe` until it returns something other than undefined/false; errors it throws count as "not yet". */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
