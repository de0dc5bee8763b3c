import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findCli } from '../core/tracking/bundledFiles';
import { joinArguments } from '../core/tracking/scriptArguments';

/**
 * Puts `mlops` on the PATH of the editor's integrated terminals: a small launcher
 * of the bundled CLI, written into the extension's global storage, whose folder
 * goes first on PATH through the terminals' environment. So the commands the
 * welcome view and the quickstart print work as printed, without `npm link`.
 * Returns the launcher's folder, or undefined (said in the log) when it cannot be written.
 */
export function putCliOnPath(context: vscode.ExtensionContext, log: (line: string) => void): string | undefined {
  const bin = path.join(context.globalStorageUri.fsPath, 'bin');
  try {
    const cli = findCli();
    // Under desktop VS Code the extension host's executable is Electron, which runs as Node with this variable.
    writeIfChanged(path.join(bin, 'mlops'), `#!/bin/sh\n# The mlops command of the MLOps Workbench extension.\nELECTRON_RUN_AS_NODE=1 exec ${joinArguments([process.execPath, cli])} "$@"\n`);
    writeIfChanged(path.join(bin, 'mlops.cmd'), `@echo off\r\nset ELECTRON_RUN_AS_NODE=1\r\n"${process.execPath}" "${cli}" %*\r\n`);
  } catch (err) {
    log(`Putting mlops on the terminals' PATH failed: ${(err as Error).message}`);
    return undefined;
  }
  context.environmentVariableCollection.prepend('PATH', bin + path.delimiter);
  return bin;
}

function writeIfChanged(file: string, text: string): void {
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    // Not written yet.
  }
  if (current !== text) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: 0o755 });
  }
  fs.chmodSync(file, 0o755);
}
