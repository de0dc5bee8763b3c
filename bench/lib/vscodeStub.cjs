// A minimal stand-in for the `vscode` module, so dist/extension.js can be loaded and
// activated in plain Node. It is NOT a VS Code host: registrations do nothing and
// return disposables, events never fire on their own, the tree view never asks for
// children. It exists to time the extension's own work during activation.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const disposable = () => ({ dispose() {} });
const event = () => () => disposable();

class EventEmitter {
  constructor() { this.listeners = new Set(); this.event = (fn) => { this.listeners.add(fn); return { dispose: () => this.listeners.delete(fn) }; }; }
  fire(value) { for (const fn of [...this.listeners]) fn(value); }
  dispose() { this.listeners.clear(); }
}
class Disposable { constructor(fn) { this.fn = fn; } dispose() { this.fn?.(); } static from(...ds) { return new Disposable(() => ds.forEach((d) => d.dispose())); } }
class ThemeIcon { constructor(id, color) { this.id = id; this.color = color; } }
ThemeIcon.File = new ThemeIcon('file');
ThemeIcon.Folder = new ThemeIcon('folder');
class ThemeColor { constructor(id) { this.id = id; } }
class TreeItem { constructor(label, collapsibleState) { this.label = label; this.collapsibleState = collapsibleState; } }
class MarkdownString { constructor(value = '', supportThemeIcons) { this.value = value; this.supportThemeIcons = supportThemeIcons; } appendMarkdown(v) { this.value += v; return this; } appendText(v) { this.value += v; return this; } }
class RelativePattern { constructor(base, pattern) { this.base = base; this.pattern = pattern; } }
// Classes the language client extends when it loads (its bundled copy reads them before activate).
class Plain { constructor(...args) { this.args = args; } }
const LANGUAGE_CLIENT_BASES = Object.fromEntries(
  ['CallHierarchyItem', 'CancellationError', 'CodeAction', 'CodeLens', 'CompletionItem', 'Diagnostic', 'DocumentLink', 'InlayHint', 'SymbolInformation', 'TypeHierarchyItem']
    .map((name) => [name, class extends Plain {}]),
);

const Uri = {
  file: (p) => ({ scheme: 'file', fsPath: p, path: p, toString: () => `file://${p}` }),
  parse: (s) => ({ scheme: s.split(':')[0], fsPath: s, path: s, toString: () => s }),
  from: (parts) => ({ scheme: parts.scheme, fsPath: parts.path ?? '', path: parts.path ?? '', query: parts.query ?? '', toString: () => `${parts.scheme}:${parts.path ?? ''}` }),
};

/**
 * Whatever the extension uses that this stub does not define explicitly: callable, constructible,
 * every property another such value. Names are collected so the benchmark can print them.
 */
const unknownUsed = new Set();
function anything(name) {
  const target = function () {};
  return new Proxy(target, {
    get: (_t, prop) => {
      if (prop === 'then' || typeof prop === 'symbol') return undefined;
      if (prop === 'dispose') return () => undefined;
      return anything(`${name}.${String(prop)}`);
    },
    apply: () => anything(`${name}()`),
    construct: () => anything(`new ${name}`),
  });
}
function lenient(name, obj) {
  return new Proxy(obj, {
    get: (t, prop) => {
      if (prop in t || typeof prop === 'symbol' || prop === 'then' || prop === '__esModule') return t[prop];
      unknownUsed.add(`${name}.${String(prop)}`);
      return anything(`${name}.${String(prop)}`);
    },
  });
}

function createStub(workspaceRoot) {
  const registered = [];
  const vscode = {
    EventEmitter, Disposable, ThemeIcon, ThemeColor, TreeItem, MarkdownString, RelativePattern, Uri, ...LANGUAGE_CLIENT_BASES,
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    UIKind: { Desktop: 1, Web: 2 },
    version: '1.96.4', // the language client checks the host's version
    env: { uiKind: 1, remoteName: undefined, clipboard: { writeText: async () => undefined } },
    extensions: { getExtension: () => undefined },
    commands: {
      registerCommand: (id) => { registered.push(id); return disposable(); },
      executeCommand: async () => undefined,
    },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    window: {
      withProgress: async (_options, task) => task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: event() }),
      showOpenDialog: async () => undefined,
      showTextDocument: async () => undefined,
      createOutputChannel: () => ({ append() {}, appendLine() {}, show() {}, clear() {}, dispose() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} }),
      createTreeView: () => ({ reveal: async () => undefined, onDidChangeVisibility: event(), onDidChangeSelection: event(), dispose() {} }),
      createStatusBarItem: () => ({ show() {}, hide() {}, dispose() {} }),
      createTerminal: () => ({ show() {}, dispose() {} }),
      showInformationMessage: async () => undefined,
      showWarningMessage: async () => undefined,
      showErrorMessage: async () => undefined,
      showInputBox: async () => undefined,
      showQuickPick: async () => undefined,
      setStatusBarMessage: () => disposable(),
      activeTextEditor: undefined,
    },
    workspace: {
      workspaceFolders: workspaceRoot ? [{ uri: Uri.file(workspaceRoot), name: 'bench', index: 0 }] : undefined,
      textDocuments: [],
      notebookDocuments: [],
      getConfiguration: () => ({ get: (_key, fallback) => fallback, has: () => false, update: async () => undefined }),
      onDidChangeConfiguration: event(),
      createFileSystemWatcher: () => ({ onDidCreate: event(), onDidChange: event(), onDidDelete: event(), dispose() {} }),
      registerTextDocumentContentProvider: () => disposable(),
      openTextDocument: async () => ({}),
    },
  };
  // The bundle copies the module's own properties once (esbuild's ESM interop), so a name the
  // lenient proxy would answer must exist up front: every vscode.<Name> the bundle reads.
  const bundle = fs.readFileSync(path.join(__dirname, '..', '..', 'dist', 'extension.js'), 'utf8');
  for (const m of bundle.matchAll(/\b(?:code|vscode)\d*(?:_\d+)?\.([A-Za-z]\w*)/g)) if (!(m[1] in vscode)) vscode[m[1]] = anything(`vscode.${m[1]}`);
  for (const ns of ['commands', 'window', 'workspace', 'env', 'extensions']) vscode[ns] = lenient(`vscode.${ns}`, vscode[ns]);
  return { vscode: lenient('vscode', vscode), registered };
}

/** Makes `require('vscode')` return the stub in this process. */
function installVscodeStub(workspaceRoot) {
  const stub = createStub(workspaceRoot);
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === 'vscode') return stub.vscode;
    return load.call(this, request, parent, isMain);
  };
  return stub;
}

function fakeContext(storageDir) {
  return {
    subscriptions: [],
    extensionPath: storageDir,
    asAbsolutePath: (relative) => require('node:path').join(storageDir, relative),
    globalStorageUri: Uri.file(storageDir),
    storageUri: Uri.file(storageDir),
    workspaceState: { get: () => undefined, update: async () => undefined, keys: () => [] },
    globalState: { get: () => undefined, update: async () => undefined, keys: () => [], setKeysForSync() {} },
    extensionMode: 1,
    // Terminals' environment (the MLflow endpoint sets its URI and token there).
    environmentVariableCollection: { description: '', persistent: false, replace() {}, append() {}, prepend() {}, get() {}, delete() {}, clear() {}, forEach() {} },
  };
}

module.exports = { installVscodeStub, fakeContext, unknownUsed };
