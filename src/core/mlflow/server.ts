import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { LogWriteError } from '../workspace/appendLog';
import { isDiskFull } from '../workspace/diskFull';
import type { MlflowBackend } from './backend';
import { BatchReader } from './batchReader';
import { FilterError } from '../query/searchFilter';
import { invalidParameter, MlflowError } from './errors';
import { preview } from '../format';
import { REGISTRY_ROUTES } from './registryApi';
import { RequestMessage } from './request';
import { LIMITS } from './validation';

/**
 * The MLflow-compatible HTTP endpoint (reference/mlflow-rest.md): Node's http on 127.0.0.1
 * only, every request needing `Authorization: Bearer <token>` and a Host header naming the
 * loopback address it serves (a DNS-rebinding guard). Bad input of any kind gets a 4xx with
 * an MLflow error body; only a fault of our own is a 5xx, and no request can crash it.
 */
export interface ServerLimits {
  /** JSON bodies of every call but log-batch. */
  jsonBodyBytes: number;
  /** log-batch bodies: MLflow's 1 MB. */
  batchBodyBytes: number;
  /** Requests being served at once; more get 429 REQUEST_LIMIT_EXCEEDED (clients retry). */
  maxInFlight: number;
}

export const DEFAULT_LIMITS: ServerLimits = { jsonBodyBytes: 16 * 1024 * 1024, batchBodyBytes: LIMITS.batchRequestBytes, maxInFlight: 256 };

export interface MlflowServerOptions {
  token: string;
  /** 0 (the default): a free port. */
  port?: number;
  limits?: Partial<ServerLimits>;
  /** Faults of our own (5xx), for an output channel or stderr. */
  log?: (message: string) => void;
}

/** log-batch bodies from this size on are parsed by the batch reader thread (batchReader.ts); smaller ones are not worth the hop. */
const THREAD_BODY_BYTES = 16 * 1024;

export const API_PREFIX = '/api/2.0';
export const ARTIFACTS_PREFIX = '/api/2.0/mlflow-artifacts/artifacts';

type Handler = (backend: MlflowBackend, msg: RequestMessage) => unknown;

/** The JSON API, keyed by `METHOD path-after-/api/2.0`. */
const ROUTES = new Map<string, Handler>([
  ['POST /mlflow/experiments/create', (b, m) => b.createExperiment(m)],
  ['GET /mlflow/experiments/get', (b, m) => b.getExperiment(m)],
  ['GET /mlflow/experiments/get-by-name', (b, m) => b.getExperimentByName(m)],
  ['POST /mlflow/experiments/search', (b, m) => b.searchExperiments(m)],
  ['GET /mlflow/experiments/search', (b, m) => b.searchExperiments(m)],
  ['POST /mlflow/experiments/set-experiment-tag', (b, m) => b.setExperimentTag(m)],
  ['POST /mlflow/experiments/delete', (b, m) => b.deleteExperiment(m)],
  ['POST /mlflow/experiments/restore', (b, m) => b.restoreExperiment(m)],
  ['POST /mlflow/experiments/update', (b, m) => b.updateExperiment(m)],
  ['POST /mlflow/runs/create', (b, m) => b.createRun(m)],
  ['GET /mlflow/runs/get', (b, m) => b.getRun(m)],
  ['POST /mlflow/runs/update', (b, m) => b.updateRun(m)],
  ['POST /mlflow/runs/delete', (b, m) => b.deleteRun(m)],
  ['POST /mlflow/runs/restore', (b, m) => b.restoreRun(m)],
  ['POST /mlflow/runs/search', (b, m) => b.searchRuns(m)],
  ['POST /mlflow/runs/log-metric', (b, m) => b.logMetric(m)],
  ['POST /mlflow/runs/log-parameter', (b, m) => b.logParam(m)],
  ['POST /mlflow/runs/log-batch', (b, m) => b.logBatch(m)],
  ['POST /mlflow/runs/set-tag', (b, m) => b.setTag(m)],
  ['POST /mlflow/runs/delete-tag', (b, m) => b.deleteTag(m)],
  ['GET /mlflow/metrics/get-history', (b, m) => b.getMetricHistory(m)],
  ['POST /mlflow/runs/log-inputs', (b, m) => b.logInputs(m)],
  ['POST /mlflow/runs/log-model', (b, m) => b.logModel(m)],
  ['GET /mlflow/artifacts/list', (b, m) => b.listArtifacts(m)],
  ...REGISTRY_ROUTES.map(([route, handler]): [string, Handler] => [route, (b, m) => handler(b.registryApi(), m)]),
]);

const EMPTY = '{}';
const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json', '.txt': 'text/plain; charset=utf-8', '.log': 'text/plain; charset=utf-8', '.csv': 'text/csv',
  '.yaml': 'text/yaml', '.yml': 'text/yaml', '.html': 'text/plain; charset=utf-8', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.svg': 'text/plain; charset=utf-8', '.md': 'text/markdown',
};

/** NaN has no JSON literal: protobuf's JSON mapping (and MLflow's clients) use the string "NaN". */
function nanAsString(_key: string, value: unknown): unknown {
  return typeof value === 'number' && Number.isNaN(value) ? 'NaN' : value;
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function errorBody(err: MlflowError): string {
  return JSON.stringify(err.toJSON());
}

export class MlflowServer {
  private readonly server: http.Server;
  private readonly limits: ServerLimits;
  private readonly tokenBytes: Buffer;
  private readonly batchReader: BatchReader;
  private inFlight = 0;
  private boundPort = 0;
  private allowedHosts = new Set<string>();

  constructor(private readonly backend: MlflowBackend, private readonly options: MlflowServerOptions) {
    if (!options.token) throw new Error('The MLflow endpoint needs a token.');
    this.tokenBytes = Buffer.from(options.token);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.batchReader = new BatchReader(options.log);
    // requireHostHeader off: a request without Host gets our 403 with an MLflow body, not a bare 400.
    this.server = http.createServer({ maxHeaderSize: 64 * 1024, requireHostHeader: false }, (req, res) => this.onRequest(req, res));
    this.server.headersTimeout = 30_000;
    this.server.requestTimeout = 0; // large artifact uploads may take long; idle sockets still time out
    this.server.timeout = 120_000;
    this.server.keepAliveTimeout = 10_000;
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || (err.code === 'ECONNRESET')) {
        socket.destroy();
        return;
      }
      const body = errorBody(new MlflowError('BAD_REQUEST', `Malformed HTTP request (${err.code ?? 'parse error'}).`));
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  }

  /** Starts listening on 127.0.0.1; resolves with the port (a free one when asked for 0). */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.server.off('listening', onListening);
        reject(err.code === 'EADDRINUSE'
          ? new Error(`Port ${this.options.port} on 127.0.0.1 is in use; choose another port, or 0 for a free one.`)
          : err);
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        this.boundPort = (this.server.address() as AddressInfo).port;
        this.allowedHosts = new Set([`127.0.0.1:${this.boundPort}`, `localhost:${this.boundPort}`]);
        this.server.on('error', (err) => this.options.log?.(`MLflow endpoint: ${err.message}`));
        resolve(this.boundPort);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(this.options.port ?? 0, '127.0.0.1');
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** The tracking URI clients use (`MLFLOW_TRACKING_URI`). */
  get uri(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Stops accepting, lets requests in progress finish for up to `graceMs`, then closes every connection. */
  stop(graceMs = 2000): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) {
        void this.batchReader.dispose().then(resolve);
        return;
      }
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        void this.batchReader.dispose().then(resolve);
      });
      this.server.closeIdleConnections();
    });
  }

  /** Stops at once: no new connections, every open one closed (requests in progress are cut). */
  stopNow(): void {
    if (this.server.listening) this.server.close();
    this.server.closeAllConnections();
    void this.batchReader.dispose();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.inFlight++;
    res.once('close', () => this.inFlight--);
    this.handle(req, res).catch((err: unknown) => this.fail(req, res, err));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.inFlight > this.limits.maxInFlight) {
      throw new MlflowError('REQUEST_LIMIT_EXCEEDED', `More than ${this.limits.maxInFlight} requests at once; retry shortly.`);
    }
    this.checkHost(req);
    this.checkToken(req);
    const rawUrl = req.url ?? '';
    const q = rawUrl.indexOf('?');
    const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const method = req.method ?? 'GET';
    if (!pathname.startsWith('/')) throw new MlflowError('BAD_REQUEST', `Malformed request path '${preview(pathname)}'.`);

    if (pathname === ARTIFACTS_PREFIX || pathname === `${ARTIFACTS_PREFIX}/`) {
      if (method !== 'GET') throw notFound(method, pathname);
      this.sendJson(res, this.backend.listProxied(query.get('path') ?? ''));
      return;
    }
    if (pathname.startsWith(`${ARTIFACTS_PREFIX}/`)) {
      await this.artifact(req, res, method, decodePath(pathname.slice(ARTIFACTS_PREFIX.length + 1)));
      return;
    }
    const handler = pathname.startsWith(`${API_PREFIX}/`) ? ROUTES.get(`${method} ${pathname.slice(API_PREFIX.length)}`) : undefined;
    if (!handler) throw notFound(method, pathname);
    if (method === 'GET') {
      this.sendJson(res, await handler(this.backend, RequestMessage.fromQuery(query)));
      return;
    }
    const isBatch = pathname === `${API_PREFIX}/mlflow/runs/log-batch`;
    const bytes = await this.readBody(req, res, isBatch);
    if (isBatch && bytes.length >= THREAD_BODY_BYTES) {
      const plain = await this.batchReader.read(bytes);
      if (plain) {
        this.sendJson(res, this.backend.logPlainBatch(plain));
        return;
      }
    }
    this.sendJson(res, await handler(this.backend, parseJson(bytes)));
  }

  private async artifact(req: http.IncomingMessage, res: http.ServerResponse, method: string, rel: string): Promise<void> {
    if (method === 'PUT') {
      this.sendJson(res, await this.backend.uploadProxied(rel, req));
      return;
    }
    if (method === 'DELETE') {
      this.sendJson(res, this.backend.deleteProxied(rel));
      return;
    }
    if (method !== 'GET') throw notFound(method, `${ARTIFACTS_PREFIX}/${rel}`);
    const file = this.backend.proxiedFile(rel);
    const stream = fs.createReadStream(file.path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => {
        res.writeHead(200, {
          'Content-Type': CONTENT_TYPES[path.extname(file.path).toLowerCase()] ?? 'application/octet-stream',
          'Content-Length': file.size,
          'X-Content-Type-Options': 'nosniff',
        });
        stream.pipe(res);
        resolve();
      });
      stream.once('error', (err) => {
        if (res.headersSent) {
          res.destroy(err);
          resolve();
        } else reject(err);
      });
    });
  }

  private checkHost(req: http.IncomingMessage): void {
    // Node keeps only the first of several Host headers; a proxy in front may route by another.
    let hosts = 0;
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === 'host') hosts++;
    if (hosts > 1) throw new MlflowError('BAD_REQUEST', `The request has ${hosts} Host headers; send exactly one (Host: 127.0.0.1:${this.boundPort}).`);
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.allowedHosts.has(host)) {
      throw new MlflowError('PERMISSION_DENIED', `Host '${preview(host, 80)}' is not served here; use http://127.0.0.1:${this.boundPort}.`);
    }
  }

  private checkToken(req: http.IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
    const given = match ? Buffer.from(match[1]) : undefined;
    if (!given || given.length !== this.tokenBytes.length || !timingSafeEqual(given, this.tokenBytes)) {
      throw new MlflowError('UNAUTHENTICATED', header
        ? 'The token in the Authorization header is not this endpoint\'s; use the MLFLOW_TRACKING_TOKEN the endpoint printed (MLOps: Copy MLflow Connection).'
        : 'Missing Authorization header: set MLFLOW_TRACKING_TOKEN to the token the endpoint printed (MLOps: Copy MLflow Connection).');
    }
  }

  /** Reads a JSON request's body within its size limit; MLflow's rule for the content type. */
  private async readBody(req: http.IncomingMessage, res: http.ServerResponse, isBatch: boolean): Promise<Buffer> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!type) throw new MlflowError('INVALID_PARAMETER_VALUE', 'Bad Request. Content-Type header is missing.');
    if (type !== 'application/json') throw new MlflowError('INVALID_PARAMETER_VALUE', "Bad Request. Content-Type must be one of ['application/json'].");
    const limit = isBatch ? this.limits.batchBodyBytes : this.limits.jsonBodyBytes;
    const tooLarge = (size: number | string): MlflowError => new MlflowError('INVALID_PARAMETER_VALUE', isBatch
      ? `Batched logging API requests must be at most ${limit} bytes, got a request of size ${size}.`
      : `Request bodies must be at most ${limit} bytes, got a request of size ${size}.`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      this.closeAfter(req, res);
      throw tooLarge(declared);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    await new Promise<void>((resolve, reject) => {
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          req.removeAllListeners('data');
          this.closeAfter(req, res);
          reject(tooLarge(`more than ${limit}`));
          return;
        }
        chunks.push(chunk);
      });
      req.once('end', resolve);
      req.once('error', () => reject(new MlflowError('BAD_REQUEST', 'The request body could not be read.')));
      req.once('close', () => {
        if (!req.complete) reject(new MlflowError('BAD_REQUEST', 'The request body was cut off.'));
      });
    });
    if (!isBatch || size < THREAD_BODY_BYTES) return Buffer.concat(chunks, size);
    // Memory the batch reader thread can read without a copy.
    const shared = Buffer.from(new SharedArrayBuffer(size));
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(shared, at);
    return shared;
  }

  /** A body we stop reading: answer, then close the connection instead of reading the rest. */
  private closeAfter(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader('Connection', 'close');
    res.once('finish', () => req.destroy());
  }

  private sendJson(res: http.ServerResponse, body: unknown): void {
    const isEmpty = body !== null && typeof body === 'object' && Object.keys(body).length === 0;
    const text = isEmpty ? EMPTY : JSON.stringify(body, nanAsString);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
    let error: MlflowError;
    if (err instanceof MlflowError) error = err;
    else if (err instanceof FilterError) error = invalidParameter(err.message);
    else if (err instanceof LogWriteError || isDiskFull(err)) {
      // A write that failed whole (a full disk): nothing of the request was kept, the client may retry.
      const message = err instanceof LogWriteError ? err.message : `The disk is full: ${(err as Error).message}.`;
      this.options.log?.(`MLflow endpoint: ${req.method} ${preview(req.url ?? '', 200)} failed: ${message}`);
      error = new MlflowError('INTERNAL_ERROR', `${message} Free some space and retry the request.`);
    } else {
      this.options.log?.(`MLflow endpoint: ${req.method} ${preview(req.url ?? '', 200)} failed: ${(err as Error)?.stack ?? String(err)}`);
      error = new MlflowError('INTERNAL_ERROR', `The MLflow endpoint failed: ${(err as Error)?.message ?? String(err)}`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = errorBody(error);
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
    if (error.code === 'UNAUTHENTICATED') headers['WWW-Authenticate'] = 'Bearer';
    if (!req.complete && !req.readableEnded) {
      // The body was not read (an early refusal): do not keep the connection for its rest.
      headers.Connection = 'close';
      res.once('finish', () => req.destroy());
    }
    try {
      res.writeHead(error.status, headers);
      res.end(body);
    } catch {
      res.destroy();
    }
  }
}

/** A request's JSON body as its message; MLflow's rules for empty and double-encoded bodies. */
function parseJson(bytes: Buffer): RequestMessage {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return new RequestMessage({});
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    // Older clients post their JSON double-encoded as a string.
    if (typeof parsed === 'string') parsed = JSON.parse(parsed);
  } catch (err) {
    throw new MlflowError('BAD_REQUEST', `Malformed JSON request body: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MlflowError('BAD_REQUEST', 'The request body must be a JSON object.');
  }
  return new RequestMessage(parsed as Record<string, unknown>);
}

function notFound(method: string, pathname: string): MlflowError {
  return new MlflowError('ENDPOINT_NOT_FOUND', `No endpoint ${method} ${preview(pathname, 200)} here (MLOps Workbench implements MLflow's REST API 2.0 tracking calls).`);
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new MlflowError('BAD_REQUEST', `Malformed percent-encoding in the artifact path '${preview(raw)}'.`);
  }
}
