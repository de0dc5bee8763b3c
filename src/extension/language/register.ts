import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type ServerOptions } from 'vscode-languageclient/node';

/**
 * Starts the mlops.yaml language server (dist/languageServer.js, src/language/) for every
 * mlops.yaml of the workspace. The server does the work; this only connects it, and tells it
 * when files come or go (a missing dep created) and when models are registered.
 */
export function registerLanguageServer(context: vscode.ExtensionContext, log: vscode.OutputChannel): void {
  const module = context.asAbsolutePath(path.join('dist', 'languageServer.js'));
  const server: ServerOptions = { module, transport: TransportKind.ipc };
  const watchers = [
    vscode.workspace.createFileSystemWatcher('**/*', false, true, false),
    vscode.workspace.createFileSystemWatcher('**/.mlops/registry.jsonl'),
  ];
  const client = new LanguageClient('mlops.yaml', 'MLOps: mlops.yaml', server, {
    documentSelector: [{ scheme: 'file', pattern: '**/mlops.yaml' }],
    synchronize: { fileEvents: watchers },
  });
  context.subscriptions.push(...watchers, client);
  client.start().catch((err: Error) => log.appendLine(`The mlops.yaml language server did not start: ${err.message}`));
}
