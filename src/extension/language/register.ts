import * as path from 'node:path';
import * as vscode from 'vscode';

/** The documents the language server serves (its client's document selector says the same). */
function isMlopsYaml(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && path.basename(doc.uri.fsPath) === 'mlops.yaml';
}

/**
 * Starts the mlops.yaml language server (dist/languageServer.js, src/language/) when the first
 * mlops.yaml is open in an editor: the server only ever looks at open documents, and loading
 * the client and forking the server at activation would hold up every extension in the window
 * (the fork alone blocks the extension host's thread for tens of milliseconds).
 */
export function registerLanguageServer(context: vscode.ExtensionContext, log: vscode.OutputChannel): void {
  let started = false;
  const startFor = (doc: vscode.TextDocument): void => {
    if (started || !isMlopsYaml(doc)) return;
    started = true;
    opened.dispose();
    startClient(context).catch((err: Error) => log.appendLine(`The mlops.yaml language server did not start: ${err.message}`));
  };
  const opened = vscode.workspace.onDidOpenTextDocument(startFor);
  context.subscriptions.push(opened);
  for (const doc of vscode.workspace.textDocuments) startFor(doc);
}

/** Connects the server, and tells it when files come or go (a missing dep created) and when models are registered. */
async function startClient(context: vscode.ExtensionContext): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { LanguageClient, TransportKind } = require(context.asAbsolutePath(path.join('dist', 'languageClient.js'))) as typeof import('./client');
  const module = context.asAbsolutePath(path.join('dist', 'languageServer.js'));
  const watchers = [
    vscode.workspace.createFileSystemWatcher('**/*', false, true, false),
    vscode.workspace.createFileSystemWatcher('**/.mlops/registry.jsonl'),
  ];
  const client = new LanguageClient('mlops.yaml', 'MLOps: mlops.yaml', { module, transport: TransportKind.ipc }, {
    documentSelector: [{ scheme: 'file', pattern: '**/mlops.yaml' }],
    synchronize: { fileEvents: watchers },
  });
  context.subscriptions.push(...watchers, client);
  await client.start();
}
