import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { CodeLens, CompletionItem, CompletionList, Diagnostic, Hover, Location, Position, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { repoRoot } from './helpers';

/**
 * A language client for tests: starts the built dist/languageServer.js over stdio, as an
 * editor other than VS Code would, and speaks LSP to it through vscode-jsonrpc.
 */
export class LspClient {
  private readonly diagnostics = new Map<string, { version?: number; list: Diagnostic[] }>();
  private readonly waiting = new Set<() => void>();
  private version = 1;

  private constructor(private readonly child: ChildProcess, private readonly connection: MessageConnection) {
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, { version: p.version, list: p.diagnostics });
      for (const wake of this.waiting) wake();
    });
    connection.onNotification('window/logMessage', () => undefined);
  }

  static async start(root: string, env: NodeJS.ProcessEnv = {}): Promise<LspClient> {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'languageServer.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
    const client = new LspClient(child, connection);
    await connection.sendRequest('initialize', { processId: process.pid, rootUri: pathToFileURL(root).toString(), capabilities: {}, workspaceFolders: null });
    await connection.sendNotification('initialized', {});
    return client;
  }

  uri(file: string): string {
    return pathToFileURL(file).toString();
  }

  /** Opens `file` with its text on disk (or `text`) and waits for the diagnostics of that version. */
  async open(file: string, text = fs.readFileSync(file, 'utf8')): Promise<Diagnostic[]> {
    const version = this.version++;
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: this.uri(file), languageId: 'yaml', version, text } });
    return this.diagnosticsOf(file, version);
  }

  async change(file: string, text: string): Promise<Diagnostic[]> {
    const version = this.version++;
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri: this.uri(file), version }, contentChanges: [{ text }] });
    return this.diagnosticsOf(file, version);
  }

  private diagnosticsOf(file: string, version: number): Promise<Diagnostic[]> {
    const uri = this.uri(file);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for version ${version} of ${file} within 20 s`)), 20_000);
      const check = () => {
        const got = this.diagnostics.get(uri);
        if (got?.version !== version) return;
        clearTimeout(timer);
        this.waiting.delete(check);
        resolve(got.list);
      };
      this.waiting.add(check);
      check();
    });
  }

  async completion(file: string, position: Position): Promise<CompletionItem[]> {
    const r = await this.connection.sendRequest<CompletionItem[] | CompletionList | null>('textDocument/completion', { textDocument: { uri: this.uri(file) }, position });
    return Array.isArray(r) ? r : r?.items ?? [];
  }

  hover(file: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest('textDocument/hover', { textDocument: { uri: this.uri(file) }, position });
  }

  async definition(file: string, position: Position): Promise<Location[]> {
    const r = await this.connection.sendRequest<Location | Location[] | null>('textDocument/definition', { textDocument: { uri: this.uri(file) }, position });
    return r ? [r].flat() : [];
  }

  async codeLenses(file: string): Promise<CodeLens[]> {
    return (await this.connection.sendRequest<CodeLens[] | null>('textDocument/codeLens', { textDocument: { uri: this.uri(file) } })) ?? [];
  }

  async stop(): Promise<void> {
    await this.connection.sendRequest('shutdown').catch(() => undefined);
    await this.connection.sendNotification('exit').catch(() => undefined);
    this.connection.dispose();
    if (this.child.exitCode === null) await new Promise((r) => this.child.once('exit', r));
  }
}

/** The position of the `nth` occurrence of `needle` in `text` (plus `shift` characters): tests point at words, not numbers. */
export function positionOf(text: string, needle: string, shift = 0, nth = 0): Position {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" is not in the text`);
  }
  const before = text.slice(0, at + shift).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}
