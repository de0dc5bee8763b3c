import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeLenses } from './codeLens';
import { complete } from './completion';
import { definition } from './definition';
import { diagnose } from './diagnostics';
import { hover } from './hover';
import { MlopsSchema } from './schema';
import { stageState } from './stageState';
import { WorkspaceFacts } from './workspaceFacts';
import { YamlDocument } from './yamlDocument';

/**
 * The language server for mlops.yaml (dist/languageServer.js), started by the extension's
 * language client over IPC, or by anything else over --stdio. Wiring only: each feature is its
 * own module over a YamlDocument; what runs and the registry know comes from WorkspaceFacts.
 */
const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const schema = new MlopsSchema();
const factsByRoot = new Map<string, WorkspaceFacts>();
const parsed = new WeakMap<TextDocument, { version: number; yaml: YamlDocument }>();
const DEBOUNCE_MS = 200;
const pending = new Map<string, NodeJS.Timeout>();

/** The project is the folder mlops.yaml sits in. */
function rootOf(doc: TextDocument): string {
  return path.dirname(fileURLToPath(doc.uri));
}

function factsFor(root: string): WorkspaceFacts {
  let facts = factsByRoot.get(root);
  if (!facts) factsByRoot.set(root, (facts = new WorkspaceFacts(root, (m) => connection.console.info(m))));
  return facts;
}

function yamlOf(doc: TextDocument): YamlDocument {
  const cached = parsed.get(doc);
  if (cached?.version === doc.version) return cached.yaml;
  const yaml = new YamlDocument(doc.getText());
  parsed.set(doc, { version: doc.version, yaml });
  return yaml;
}

/** Runs a request on an open mlops.yaml; a failure is logged and answered with `empty`, never a crash. */
async function onDocument<T>(uri: string, empty: T, fn: (yaml: YamlDocument, root: string, facts: WorkspaceFacts) => T | Promise<T>): Promise<T> {
  const doc = documents.get(uri);
  if (!doc || !uri.startsWith('file:')) return empty;
  const root = rootOf(doc);
  try {
    return await fn(yamlOf(doc), root, factsFor(root));
  } catch (err) {
    connection.console.error(`mlops.yaml language server: ${(err as Error).stack ?? err}`);
    return empty;
  }
}

function validateSoon(doc: TextDocument): void {
  clearTimeout(pending.get(doc.uri));
  pending.set(doc.uri, setTimeout(() => {
    pending.delete(doc.uri);
    void onDocument(doc.uri, undefined, async (yaml, root, facts) => {
      const diagnostics = await diagnose(yaml, root, schema, facts);
      await connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
    });
  }, DEBOUNCE_MS));
}

connection.onInitialize(() => ({
  capabilities: {
    textDocumentSync: TextDocumentSyncKind.Incremental,
    completionProvider: { triggerCharacters: [' ', '-', '[', ',', '@'] },
    hoverProvider: true,
    definitionProvider: true,
    codeLensProvider: { resolveProvider: false },
  },
  serverInfo: { name: 'mlops.yaml' },
}));

documents.onDidChangeContent((e) => validateSoon(e.document));
documents.onDidClose((e) => {
  clearTimeout(pending.get(e.document.uri));
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});
// Files appearing or going (a dep created, runs logged) can change what is wrong: judge the open files again.
connection.onDidChangeWatchedFiles(() => documents.all().forEach(validateSoon));

connection.onCompletion((p) => onDocument(p.textDocument.uri, [], (yaml, _root, facts) => complete(yaml, p.position, schema, facts)));
connection.onHover((p) => onDocument(p.textDocument.uri, null, (yaml, root, facts) => hover(yaml, p.position, schema, facts, (stage) => stageState(root, stage))));
connection.onDefinition((p) => onDocument(p.textDocument.uri, null, (yaml, root) => definition(yaml, p.position, root)));
connection.onCodeLens((p) => onDocument(p.textDocument.uri, [], (yaml, _root, facts) => codeLenses(yaml, facts)));
connection.onShutdown(() => {
  for (const facts of factsByRoot.values()) facts.close();
  factsByRoot.clear();
});

documents.listen(connection);
connection.listen();
