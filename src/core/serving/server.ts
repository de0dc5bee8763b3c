import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BatchOptions } from './batcher';
import { RequestError, preview } from './errors';
import { parseInvocation } from './invocations';
import { ServingMetrics, type Outcome } from './metrics';
import type { TensorMetadata } from './modelSession';
import { inferResponse, parseInferJson, parseInferRequest, parseJson, splitBinaryBody } from './oip';
import { PredictionLog, type PendingPrediction, type PredictionLogOptions } from './predictionLog';
import { postprocess, preprocess, type Processing } from './processing';
import { Routes, type LoadedVariant, type RoutesSpec } from './routes';
import { dataJson, type TensorValue } from './tensors';

/** Everything one deployment's server process needs (written by the supervisor as config.json). */
export interface ServerConfig {
  deployment: string;
  /** 127.0.0.1 unless the user asked otherwise. */
  host: string;
  /** 0: a free port. */
  port: number;
  /** When set, inference needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Guards /admin (switch, split, shadow), which the workspace's own tools call; empty turns /admin off. */
  adminToken: string;
  /** Host headers served besides the loopback names; "*" serves any (behind a container's own network). */
  allowedHosts?: string[];
  maxBodyBytes: number;
  /** onnxruntime intra-op threads per session. */
  threads: number;
  batching: BatchOptions;
  processing: Processing;
  predictionLog: PredictionLogOptions & { dir: string };
  routes: RoutesSpec;
}

export const SERVER_NAME = 'mlops-workbench';
/** The output processing's labels add to the model's. */
const LABEL_OUTPUT: TensorMetadata = { name: 'label', datatype: 'BYTES', shape: [-1] };
export const SERVER_VERSION = '0.1.0';

/**
 * One deployment's HTTP server: Open Inference Protocol v2 REST, MLflow's `/invocations`,
 * Prometheus `/metrics`, and `/admin/routes` for blue/green switches, A/B splits and shadows.
 * Client mistakes get a 4xx `{"error": …}` naming what was wrong; nothing a client sends can
 * crash it.
 */
export class ModelServer {
  readonly metrics: ServingMetrics;
  private routes!: Routes;
  private readonly server: http.Server;
  private readonly log: PredictionLog;
  private allowedHosts = new Set<string>();
  private anyHost = false;
  private switching: Promise<unknown> = Promise.resolve();
  port = 0;

  private constructor(readonly config: ServerConfig, private readonly onError: (m: string) => void) {
    this.metrics = new ServingMetrics(config.deployment);
    this.log = new PredictionLog(config.predictionLog.dir, config.predictionLog, onError);
    this.server = http.createServer({ requireHostHeader: false, keepAliveTimeout: 30_000 }, (req, res) => void this.onRequest(req, res));
  }

  static async start(config: ServerConfig, onError: (m: string) => void = () => {}): Promise<ModelServer> {
    const server = new ModelServer(config, onError);
    server.routes = await server.loadRoutes(config.routes);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(config.port, config.host, () => resolve());
    });
    server.port = (server.server.address() as AddressInfo).port;
    const hosts = [config.host, '127.0.0.1', 'localhost', '[::1]'];
    server.allowedHosts = new Set([...hosts.map((h) => `${h}:${server.port}`.toLowerCase()), ...(config.allowedHosts ?? []).map((h) => h.toLowerCase())]);
    server.anyHost = !!config.allowedHosts?.includes('*');
    return server;
  }

  get url(): string {
    return `http://${this.config.host === '0.0.0.0' ? '127.0.0.1' : this.config.host}:${this.port}`;
  }

  /** The model name clients use in `/v2/models/{name}`: the primary variant's model. */
  get modelName(): string {
    return this.routes.variants[0].spec.model;
  }

  /**
   * Blue/green: loads and warms what `spec` needs beside what serves now, flips to it in one
   * assignment, then releases sessions no longer used once their requests finish. A model that
   * fails to load or run throws, and the running routes keep serving.
   */
  setRoutes(spec: RoutesSpec): Promise<void> {
    const next = this.switching.then(async () => {
      const old = this.routes;
      const fresh = await this.loadRoutes(spec, old);
      this.routes = fresh;
      void old.drainInto(fresh).catch((err) => this.onError(`releasing old sessions: ${(err as Error).message}`));
    });
    this.switching = next.catch(() => {});
    return next;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    this.log.flush();
  }

  private async loadRoutes(spec: RoutesSpec, previous?: Routes): Promise<Routes> {
    const routes = await Routes.load(spec, { threads: this.config.threads, batching: this.config.batching, processing: this.config.processing, metrics: this.metrics }, previous);
    this.metrics.loaded([...routes.variants, ...(routes.shadow ? [routes.shadow] : [])].map((v) => v.spec));
    return routes;
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const host = (req.headers.host ?? '').toLowerCase();
      if (!this.anyHost && !this.allowedHosts.has(host)) throw new RequestError(403, `Host ${preview(host)} is not served here; use ${this.url}.`);
      const { pathname, parts } = pathOf(req.url ?? '/');
      const method = req.method ?? 'GET';
      if (parts[0] === 'metrics' && parts.length === 1) return this.send(res, 200, await this.metrics.text(), this.metrics.contentType);
      if (parts[0] === 'admin') {
        this.checkToken(req, this.config.adminToken);
        return await this.admin(req, res, parts, method);
      }
      // Health, like /metrics, carries no data and stays open so probes and Prometheus need no token.
      if (method === 'GET' && pathname === '/v2/health/live') return this.json(res, 200, { live: true });
      if (method === 'GET' && pathname === '/v2/health/ready') return this.json(res, 200, { ready: true });
      if (method === 'GET' && pathname === '/ping') return this.json(res, 200, { status: 'Healthy' });
      if (this.config.token) this.checkToken(req, this.config.token);
      if (parts[0] === 'invocations' && parts.length === 1) {
        if (method !== 'POST') throw new RequestError(405, '/invocations takes POST.');
        return await this.invocations(req, res);
      }
      if (parts[0] === 'v2') return await this.v2(req, res, parts.slice(1), method);
      throw new RequestError(404, `No route ${method} ${preview(pathname, 100)}. Try GET /v2, POST /v2/models/${this.modelName}/infer or POST /invocations.`);
    } catch (err) {
      if (err instanceof RequestError) {
        if (err.status === 413) res.setHeader('Connection', 'close');
        return this.json(res, err.status, { error: err.message });
      }
      this.onError(`${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
      return this.json(res, 500, { error: `The server failed: ${(err as Error).message}` });
    }
  }

  private async v2(req: http.IncomingMessage, res: http.ServerResponse, parts: string[], method: string): Promise<void> {
    const routes = this.routes;
    if (parts.length === 0 && method === 'GET') return this.json(res, 200, { name: SERVER_NAME, version: SERVER_VERSION, extensions: ['binary_tensor_data'] });
    if (parts[0] !== 'models' || parts.length < 2) throw new RequestError(404, `No route ${method} /v2/${parts.join('/')}.`);
    const name = parts[1];
    if (name !== this.modelName && name !== this.config.deployment) {
      throw new RequestError(404, `Unknown model "${name}"; this deployment serves "${this.modelName}" (versions ${routes.variants.map((v) => v.spec.version).join(', ')}).`);
    }
    let rest = parts.slice(2);
    let variant: LoadedVariant | undefined;
    if (rest[0] === 'versions') {
      if (rest.length < 2) throw new RequestError(404, 'Name a version: /v2/models/{name}/versions/{version}.');
      variant = routes.byVersion(rest[1]);
      if (!variant) throw new RequestError(404, `Model "${name}" has no version "${rest[1]}" loaded; loaded: ${routes.variants.map((v) => v.spec.version).join(', ')}.`);
      rest = rest.slice(2);
    }
    if (rest.length === 0 && method === 'GET') return this.json(res, 200, this.modelMetadata(routes, variant));
    if (rest.length === 1 && rest[0] === 'ready' && method === 'GET') return this.json(res, 200, { name, ready: true });
    if (rest.length === 1 && rest[0] === 'infer') {
      if (method !== 'POST') throw new RequestError(405, 'infer takes POST.');
      return await this.infer(req, res, routes, variant);
    }
    throw new RequestError(404, `No route ${method} /v2/${parts.join('/')}.`);
  }

  private modelMetadata(routes: Routes, variant?: LoadedVariant) {
    const v = variant ?? routes.variants[0];
    const outputs: TensorMetadata[] = [...v.session.outputs];
    if (this.config.processing.labels) outputs.push(LABEL_OUTPUT);
    return {
      name: this.modelName,
      versions: variant ? [variant.spec.version] : routes.variants.map((x) => x.spec.version),
      platform: 'onnx_onnxv1',
      inputs: v.session.inputs,
      outputs,
    };
  }

  private async infer(req: http.IncomingMessage, res: http.ServerResponse, routes: Routes, pinned?: LoadedVariant): Promise<void> {
    const started = performance.now();
    let variant = pinned ?? routes.variants[0];
    await this.counted(() => variant, started, async () => {
      const body = await this.readBody(req);
      const header = req.headers['inference-header-content-length'];
      const { json, binary } = splitBinaryBody(body, Array.isArray(header) ? header[0] : header);
      const parsed = parseInferJson(json);
      variant = pinned ?? routes.pick(this.stickyKey(req, (parsed as { parameters?: Record<string, unknown> })?.parameters));
      const { outputs: served } = variant.session;
      const request = parseInferRequest(parsed, binary, variant.session.inputs, this.config.processing.labels ? [...served, LABEL_OUTPUT] : served);
      const { outputs, raw } = await this.predict(variant, routes, request.feeds, request.id);
      const { body: out, headerLength } = inferResponse(this.modelName, variant.spec.version, request, outputs);
      if (headerLength !== undefined) res.setHeader('Inference-Header-Content-Length', headerLength);
      this.send(res, 200, out, headerLength !== undefined ? 'application/octet-stream' : 'application/json');
      if (raw) this.record(variant, raw, outputs, started, request.id);
    });
  }

  private async invocations(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const routes = this.routes;
    let variant = routes.variants[0];
    await this.counted(() => variant, started, async () => {
      const type = req.headers['content-type'] ?? 'application/json';
      if (!/^application\/json\b/i.test(type)) throw new RequestError(415, `Content-Type ${preview(type)} is not supported; send application/json with dataframe_split, dataframe_records, instances or inputs.`);
      const parsed = parseJson(await this.readBody(req));
      variant = routes.pick(this.stickyKey(req, (parsed as { params?: Record<string, unknown> })?.params));
      const { outputs, raw } = await this.predict(variant, routes, parseInvocation(parsed, variant.session.inputs).feeds);
      const names = Object.keys(outputs);
      const predictions = names.length === 1 ? dataJson(outputs[names[0]], true) : `{${names.map((n) => `${JSON.stringify(n)}:${dataJson(outputs[n], true)}`).join(',')}}`;
      this.send(res, 200, `{"predictions":${predictions}}`, 'application/json');
      if (raw) this.record(variant, raw, outputs, started);
    });
  }

  /** Runs an inference handler and counts its outcome against the variant it was routed to. */
  private async counted(variant: () => LoadedVariant, started: number, handle: () => Promise<void>): Promise<void> {
    try {
      await handle();
      this.count(variant(), 'success', started);
    } catch (err) {
      this.count(variant(), err instanceof RequestError ? 'client_error' : 'server_error', started);
      throw err;
    }
  }

  /**
   * Runs the request on its variant (and mirrors it to the shadow). `raw`: the inputs as sent,
   * when this prediction is in the log's sample; the caller logs it once its answer is out.
   */
  private async predict(variant: LoadedVariant, routes: Routes, feeds: Record<string, TensorValue>, id?: string): Promise<{ outputs: Record<string, TensorValue>; raw?: PendingPrediction['inputs'] }> {
    // The raw inputs (before standardisation) are copied now and written out later, off the request path.
    const raw = this.log.sampled() ? sentInputs(feeds) : undefined;
    const shadowFeeds = routes.shadow ? cloneFeeds(feeds) : undefined;
    const outputs = await this.run(variant, feeds);
    if (routes.shadow && shadowFeeds) {
      const shadow = routes.shadow;
      const t0 = performance.now();
      // Never awaited: the shadow's answer is logged, never returned, and its failures never reach the client.
      this.run(shadow, shadowFeeds).then(
        (out) => {
          this.count(shadow, 'success', t0);
          if (raw) this.record(shadow, raw, out, t0, id);
        },
        (err) => {
          this.count(shadow, 'server_error', t0);
          this.onError(`shadow ${shadow.spec.model} ${shadow.spec.version}: ${(err as Error).message}`);
        },
      );
    }
    return { outputs, raw };
  }

  private async run(variant: LoadedVariant, feeds: Record<string, TensorValue>): Promise<Record<string, TensorValue>> {
    const { session, spec } = variant;
    const { processing } = this.config;
    session.inFlight++;
    this.metrics.inFlight.inc();
    try {
      preprocess(processing, feeds, session.inputs[0].name);
      const { outputs, queueSeconds } = await variant.batcher.infer(feeds);
      this.metrics.of(spec).queued(queueSeconds);
      postprocess(processing, outputs, session.outputs[0].name);
      return outputs;
    } catch (err) {
      if (err instanceof RequestError) throw err;
      // onnxruntime refusing input that passed our checks is still the client's input.
      throw new RequestError(422, `Model ${spec.model} version ${spec.version} could not run on this input: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      session.inFlight--;
      this.metrics.inFlight.dec();
    }
  }

  private record(variant: LoadedVariant, inputs: PendingPrediction['inputs'], outputs: Record<string, TensorValue>, started: number, id?: string): void {
    const { spec } = variant;
    this.log.record({
      time: Date.now(), deployment: this.config.deployment, model: spec.model, version: spec.version, variant: spec.variant,
      latency_ms: Math.round((performance.now() - started) * 1000) / 1000, inputs,
      outputs, id,
    });
  }

  private count(variant: LoadedVariant, outcome: Outcome, started: number): void {
    this.metrics.of(variant.spec).request(outcome, (performance.now() - started) / 1000);
  }

  private stickyKey(req: http.IncomingMessage, params: unknown): string | undefined {
    const key = this.routes.spec.stickyKey;
    if (!key) return undefined;
    const header = req.headers[key.toLowerCase()];
    if (typeof header === 'string') return header;
    const field = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[key] : undefined;
    return typeof field === 'string' || typeof field === 'number' ? String(field) : undefined;
  }

  private async admin(req: http.IncomingMessage, res: http.ServerResponse, parts: string[], method: string): Promise<void> {
    if (parts[1] === 'routes' && method === 'GET') return this.json(res, 200, this.routes.spec);
    if (parts[1] === 'routes' && method === 'PUT') {
      const spec = parseJson(await this.readBody(req)) as RoutesSpec;
      if (!spec || !Array.isArray(spec.variants)) throw new RequestError(400, 'PUT /admin/routes takes {"variants": […], "shadow"?: …}.');
      try {
        await this.setRoutes(spec);
      } catch (err) {
        throw new RequestError(422, (err as Error).message);
      }
      return this.json(res, 200, this.routes.spec);
    }
    throw new RequestError(404, `No admin route ${method} /${parts.join('/')}.`);
  }

  private checkToken(req: http.IncomingMessage, token: string): void {
    if (!token) throw new RequestError(403, 'This server takes no admin requests (exported deployments are changed by redeploying).');
    const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    const want = Buffer.from(token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new RequestError(401, 'This deployment needs "Authorization: Bearer <token>" (see mlops deployments show).');
  }

  private readBody(req: http.IncomingMessage): Promise<Buffer> {
    const limit = this.config.maxBodyBytes;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return Promise.reject(new RequestError(413, `The body is ${declared} bytes; this deployment takes at most ${limit} (raise --max-body-bytes, or send fewer rows per request).`));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          req.removeAllListeners('data');
          req.resume();
          reject(new RequestError(413, `The body is over ${limit} bytes, the most this deployment takes (raise --max-body-bytes, or send fewer rows per request).`));
        } else chunks.push(c);
      });
      // A body that came in one chunk (most do) is used as it is: no copy.
      req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private json(res: http.ServerResponse, status: number, value: unknown): void {
    this.send(res, status, JSON.stringify(value), 'application/json');
  }

  private send(res: http.ServerResponse, status: number, body: string | Buffer, type: string): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}

/** A request's path and its segments, decoded; plain paths (no escapes, query or dot segments) need no URL object. */
function pathOf(url: string): { pathname: string; parts: string[] } {
  if (PLAIN_PATH.test(url)) return { pathname: url, parts: url.split('/').filter(Boolean) };
  const { pathname } = new URL(url, 'http://x');
  return { pathname, parts: pathname.split('/').filter(Boolean).map(decodeURIComponent) };
}
const PLAIN_PATH = /^(?:\/[\w~-][\w.~-]*)+\/?$/;

/** The inputs as the log keeps them: the client's own JSON rows when the body had them, else a copy of the tensor. */
function sentInputs(feeds: Record<string, TensorValue>): PendingPrediction['inputs'] {
  const inputs: PendingPrediction['inputs'] = {};
  for (const name in feeds) {
    const t = feeds[name];
    inputs[name] = t.sentRows?.() ?? { ...t, data: t.data.slice() as TensorValue['data'] };
  }
  return inputs;
}

function cloneFeeds(feeds: Record<string, TensorValue>): Record<string, TensorValue> {
  return Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, { ...t, data: t.data.slice() as TensorValue['data'] }]));
}

