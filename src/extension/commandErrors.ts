import * as vscode from 'vscode';

/**
 * Registers a command whose errors a user can cause become one clear message,
 * never an unhandled rejection; the command's result still reaches its caller.
 */
export function registerCommand(id: string, fn: (...args: never[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await fn(...(args as never[]));
    } catch (err) {
      void vscode.window.showErrorMessage(`MLOps: ${(err as Error).message}`);
      return undefined;
    }
  });
}
