// The message layer shared by the extension host and every webview: typed
// requests matched to their replies by id, one-way notifications, and a ready
// handshake. Plain TypeScript with no `vscode` and no DOM, so both sides (and
// unit tests) use the same code. Panel contracts (runsTable.ts, compare.ts)
// name their methods and payloads; this module moves them.

/** One request's parameters and result. */
export interface RequestSpec {
  params: unknown;
  result: unknown;
}

/** Requests one side handles, by method name. */
export type RequestMap = { [method: string]: RequestSpec };
/** Notifications one side receives, by method name, with their payload. */
export type NotificationMap = { [method: string]: unknown };

/**
 * One panel's messages, by direction. The webview sends `hostRequests` and
 * `webviewNotifications`; the extension sends `webviewRequests` and `hostNotifications`.
 */
export interface PanelContract {
  hostRequests: RequestMap;
  hostNotifications: NotificationMap;
  webviewRequests: RequestMap;
  webviewNotifications: NotificationMap;
}

export interface ReadyMessage {
  kind: 'ready';
  /** The contract's name (e.g. "runsTable"), so a host can refuse a webview of another panel. */
  panel: string;
}
export interface RequestMessage {
  kind: 'request';
  id: number;
  method: string;
  params: unknown;
}
export type ReplyMessage =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string };
export interface NotificationMessage {
  kind: 'notify';
  method: string;
  params: unknown;
}

/** Everything that crosses between a panel and its host. */
export type Envelope = ReadyMessage | RequestMessage | ReplyMessage | NotificationMessage;

/** Checks the envelope's shape (the payload is each handler's business). */
export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m.kind) {
    case 'ready':
      return typeof m.panel === 'string';
    case 'request':
      return Number.isSafeInteger(m.id) && typeof m.method === 'string';
    case 'reply':
      return Number.isSafeInteger(m.id) && (m.ok === true || (m.ok === false && typeof m.error === 'string'));
    case 'notify':
      return typeof m.method === 'string';
    default:
      return false;
  }
}

/** Handlers for the requests a side receives: each may answer synchronously or with a promise. */
export type RequestHandlers<M extends RequestMap> = {
  [K in keyof M]: (params: M[K]['params']) => M[K]['result'] | Promise<M[K]['result']>;
};
export type NotificationHandlers<M extends NotificationMap> = {
  [K in keyof M]?: (params: M[K]) => void;
};

export interface EndpointOptions<In extends RequestMap, InN extends NotificationMap> {
  /** Sends one message to the other side (webview.postMessage / vscode.postMessage). */
  post: (message: Envelope) => void;
  requests: RequestHandlers<In>;
  notifications?: NotificationHandlers<InN>;
  /** Called when the other side says it is ready (hosts only). */
  onReady?: (panel: string) => void;
  /** Called for messages that are not envelopes, unknown methods and handler errors of notifications. */
  onProblem?: (problem: string) => void;
  /** A request with no reply by then is rejected, so nothing waits for ever (default 30 000 ms). */
  timeoutMs?: number;
}

/** The reply of a request that failed on the other side, or never came. */
export class RequestError extends Error {
  constructor(readonly method: string, message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One side of a panel's channel. `Out`/`OutN` are what this side sends,
 * `In`/`InN` what it receives and handles.
 */
export class Endpoint<Out extends RequestMap, OutN extends NotificationMap, In extends RequestMap, InN extends NotificationMap> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private readonly timeoutMs: number;

  constructor(private readonly options: EndpointOptions<In, InN>) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends a request; resolves with the other side's result or rejects with its error. */
  request<K extends keyof Out & string>(method: K, params: Out[K]['params']): Promise<Out[K]['result']> {
    if (this.closed) return Promise.reject(new RequestError(method, 'the panel is closed'));
    const id = this.nextId++;
    return new Promise<Out[K]['result']>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError(method, `no reply to "${method}" within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.options.post({ kind: 'request', id, method, params });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new RequestError(method, `could not send "${method}": ${(err as Error).message}`));
      }
    });
  }

  notify<K extends keyof OutN & string>(method: K, params: OutN[K]): void {
    if (this.closed) return;
    this.options.post({ kind: 'notify', method, params });
  }

  /** Says this side is ready (webviews, once their handlers are in place). */
  ready(panel: string): void {
    this.options.post({ kind: 'ready', panel });
  }

  /** Handles one incoming message; false when it was not an envelope. */
  receive(message: unknown): boolean {
    if (!isEnvelope(message)) {
      this.options.onProblem?.(`ignored a message that is not an envelope: ${describe(message)}`);
      return false;
    }
    switch (message.kind) {
      case 'ready':
        this.options.onReady?.(message.panel);
        return true;
      case 'reply':
        this.settle(message);
        return true;
      case 'request':
        void this.answer(message);
        return true;
      case 'notify':
        this.dispatch(message);
        return true;
    }
  }

  /** Rejects every pending request (the other side went away: panel closed or reloaded). */
  cancelPending(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError(p.method, reason));
      this.pending.delete(id);
    }
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  close(): void {
    this.cancelPending('the panel is closed');
    this.closed = true;
  }

  private settle(reply: ReplyMessage): void {
    const p = this.pending.get(reply.id);
    if (!p) return; // timed out or cancelled already
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new RequestError(p.method, reply.error));
  }

  private async answer(request: RequestMessage): Promise<void> {
    const handler = (this.options.requests as Record<string, ((params: unknown) => unknown) | undefined>)[request.method];
    let reply: ReplyMessage;
    if (typeof handler !== 'function' || !Object.prototype.hasOwnProperty.call(this.options.requests, request.method)) {
      reply = { kind: 'reply', id: request.id, ok: false, error: `unknown request "${request.method}"` };
    } else {
      try {
        reply = { kind: 'reply', id: request.id, ok: true, result: await handler(request.params) };
      } catch (err) {
        reply = { kind: 'reply', id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }
    if (this.closed) return;
    try {
      this.options.post(reply);
    } catch (err) {
      this.options.onProblem?.(`could not reply to "${request.method}": ${(err as Error).message}`);
    }
  }

  private dispatch(message: NotificationMessage): void {
    const handlers = (this.options.notifications ?? {}) as Record<string, ((params: unknown) => void) | undefined>;
    const handler = Object.prototype.hasOwnProperty.call(handlers, message.method) ? handlers[message.method] : undefined;
    if (!handler) {
      this.options.onProblem?.(`no handler for notification "${message.method}"`);
      return;
    }
    try {
      handler(message.params);
    } catch (err) {
      this.options.onProblem?.(`notification "${message.method}" failed: ${(err as Error).message}`);
    }
  }
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 120 ? `${text.slice(0, 120)}…` : text;
  } catch {
    return String(value);
  }
}
