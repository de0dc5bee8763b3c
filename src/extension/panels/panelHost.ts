// The extension side of one webview panel: its HTML shell (nonce CSP, local
// resources only), its message endpoint (requests matched by id, a ready
// handshake), and its lifetime. Notifications go out only while the webview is
// ready: a webview that was hidden and reloads asks for fresh data on ready.

import * as vscode from 'vscode';
import { Endpoint, type Envelope, type PanelContract } from '../../protocol/rpc';
import { makeNonce, panelHtml } from './html';

const READY_TIMEOUT_MS = 30_000;

type HostEndpoint<C extends PanelContract> = Endpoint<C['webviewRequests'], C['hostNotifications'], C['hostRequests'], C['webviewNotifications']>;

export interface PanelHostOptions<C extends PanelContract> {
  /** Contract name the webview announces in its ready message. */
  panel: string;
  title: string;
  /** Bundle name under dist/webview/ (without .js). */
  script: string;
  /** Style sheets under media/. */
  styles: string[];
  handlers: { [K in keyof C['hostRequests']]: (params: C['hostRequests'][K]['params']) => C['hostRequests'][K]['result'] | Promise<C['hostRequests'][K]['result']> };
  log?: (line: string) => void;
}

/** The webview options every panel uses: scripts on, resources from dist/webview and media only. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** One line per message in or out, the last few hundred, for tests and the output channel. */
export interface MessageRecord {
  direction: 'in' | 'out';
  kind: Envelope['kind'];
  method?: string;
  id?: number;
  time: number;
}

export class PanelHost<C extends PanelContract> implements vscode.Disposable {
  readonly endpoint: HostEndpoint<C>;
  readonly messages: MessageRecord[] = [];
  private isReady = false;
  private readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private readonly closed = new vscode.EventEmitter<void>();
  /** Fires once when the panel is closed or disposed. */
  readonly onDidClose = this.closed.event;

  constructor(readonly panel: vscode.WebviewPanel, private readonly extensionUri: vscode.Uri, private readonly options: PanelHostOptions<C>) {
    const webview = panel.webview;
    webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'mlops.svg');
    this.endpoint = new Endpoint({
      post: (message) => {
        this.record('out', message);
        void webview.postMessage(message).then(undefined, (err: Error) => this.options.log?.(`${options.panel}: could not post: ${err.message}`));
      },
      requests: options.handlers,
      onReady: (panelName) => this.markReady(panelName),
      onProblem: (problem) => this.options.log?.(`${options.panel}: ${problem}`),
    }) as HostEndpoint<C>;
    this.disposables.push(
      webview.onDidReceiveMessage((message: unknown) => {
        if (message && typeof message === 'object') this.record('in', message as Envelope);
        this.endpoint.receive(message);
      }),
      panel.onDidChangeViewState(() => {
        // A hidden webview is torn down (retainContextWhenHidden is off); it says ready again when shown.
        if (!panel.visible) this.notReady('the panel was hidden');
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    webview.html = this.html();
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Resolves once the webview has said it is ready (now, if it has). */
  whenReady(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    if (this.disposed) return Promise.reject(new Error(`${this.options.panel} panel is closed`));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Sends a notification if the webview is listening; otherwise it will load fresh data when it is. */
  notify<K extends keyof C['hostNotifications'] & string>(method: K, params: C['hostNotifications'][K]): boolean {
    if (!this.isReady || this.disposed) return false;
    this.endpoint.notify(method, params);
    return true;
  }

  /** Asks the webview something, once it is ready (a hidden panel loads when shown; nothing waits for ever). */
  async request<K extends keyof C['webviewRequests'] & string>(method: K, params: C['webviewRequests'][K]['params']): Promise<C['webviewRequests'][K]['result']> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.options.panel} panel did not load within ${READY_TIMEOUT_MS / 1000} s (is it hidden?)`)), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.whenReady(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.endpoint.request(method, params);
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  private html(): string {
    const webview = this.panel.webview;
    const uri = (...parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...parts)).toString();
    return panelHtml({
      title: this.options.title,
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: uri('dist', 'webview', `${this.options.script}.js`),
      styleUris: this.options.styles.map((s) => uri('media', s)),
      panel: this.options.panel,
    });
  }

  private markReady(panelName: string): void {
    if (panelName !== this.options.panel) {
      this.options.log?.(`${this.options.panel}: a "${panelName}" webview said ready; ignored`);
      return;
    }
    this.isReady = true;
    for (const w of this.readyWaiters.splice(0)) w.resolve();
  }

  private notReady(reason: string): void {
    this.isReady = false;
    this.endpoint.cancelPending(reason);
  }

  private record(direction: 'in' | 'out', message: Envelope): void {
    const m = message as Partial<Envelope & { method: string; id: number }>;
    this.messages.push({ direction, kind: m.kind as Envelope['kind'], method: m.method, id: m.id, time: Date.now() });
    if (this.messages.length > 500) this.messages.splice(0, this.messages.length - 500);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.isReady = false;
    this.endpoint.close();
    for (const w of this.readyWaiters.splice(0)) w.reject(new Error(`${this.options.panel} panel is closed`));
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.closed.fire();
    this.closed.dispose();
  }
}

/** What every panel class hands to its host: showing, closing and disposing the panel. */
export abstract class HostedPanel<C extends PanelContract> implements vscode.Disposable {
  abstract readonly host: PanelHost<C>;

  reveal(): void {
    this.host.reveal();
  }

  get onDidClose(): vscode.Event<void> {
    return this.host.onDidClose;
  }

  dispose(): void {
    this.host.dispose();
  }
}
