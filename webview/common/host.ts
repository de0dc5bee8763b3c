// The webview side of a panel's channel: VS Code's webview API, the typed
// endpoint from src/protocol/rpc.ts, the ready handshake and saved state.

import { Endpoint, type NotificationHandlers, type PanelContract, type RequestHandlers } from '../../src/protocol/rpc';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

/** VS Code's API object; it may be acquired only once per page. */
export function vscodeApi(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

export type WebviewEndpoint<C extends PanelContract> = Endpoint<C['hostRequests'], C['webviewNotifications'], C['webviewRequests'], C['hostNotifications']>;

/**
 * Connects to the host: installs the handlers, then says ready. Call once the
 * page can render what arrives.
 */
export function connect<C extends PanelContract>(
  panel: string,
  requests: RequestHandlers<C['webviewRequests']>,
  notifications: NotificationHandlers<C['hostNotifications']>,
): WebviewEndpoint<C> {
  const vscode = vscodeApi();
  const endpoint = new Endpoint({
    post: (message) => vscode.postMessage(message),
    requests,
    notifications,
    onProblem: (problem) => console.warn(`[${panel}] ${problem}`),
  }) as WebviewEndpoint<C>;
  window.addEventListener('message', (event: MessageEvent) => endpoint.receive(event.data));
  endpoint.ready(panel);
  return endpoint;
}

/** The panel's saved state (kept by VS Code across hide/show and window reloads). */
export function loadState<T extends { v: number }>(version: number): Partial<T> {
  const state = vscodeApi().getState() as Partial<T> | undefined;
  return state && typeof state === 'object' && state.v === version ? state : {};
}

export function saveState<T extends { v: number }>(state: T): void {
  vscodeApi().setState(state);
}
