// Talking to the MLflow-compatible endpoint the way MLflow's Python client does, for the
// conformance tests (mlflowConformance*.test.ts): real HTTP to a real server on 127.0.0.1.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { startMlflowServer, type MlflowEndpoint } from '../../src/core/mlflow';
import { Tracking } from '../../src/core/tracking/tracking';
import { MlopsLayout } from '../../src/core/workspace/layout';

/** A fresh workspace for a whole suite, removed by the suite's own `after` once its store is closed. */
export function suiteWorkspace(): MlopsLayout {
  return new MlopsLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-mlflow-')));
}

/** An endpoint over a fresh workspace for the describe block that calls it: started before its tests, stopped and removed after. */
export function endpointSuite(): { readonly tracking: Tracking; readonly ep: MlflowEndpoint } {
  const layout = suiteWorkspace();
  const suite = {} as { tracking: Tracking; ep: MlflowEndpoint };
  before(async () => {
    suite.tracking = await Tracking.open(layout.root);
    suite.ep = await startMlflowServer(suite.tracking, {});
  });
  after(async () => {
    await suite.ep.stop();
    suite.tracking.close();
    fs.rmSync(layout.root, { recursive: true, force: true });
  });
  return suite;
}

export async function eventually(what: string, probe: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Reply { status: number; text: string; json: any; headers: http.IncomingHttpHeaders }

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
after(() => agent.destroy());

/** One HTTP request the way the MLflow client sends it: JSON bodies, Bearer token, Host of the tracking URI. */
export function send(ep: { uri: string; token: string }, method: string, urlPath: string, options: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string | undefined> } = {}): Promise<Reply> {
  const url = new URL(ep.uri);
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { Authorization: `Bearer ${ep.token}`, Host: url.host };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  // As requests does; without it Node sends a DELETE's body unframed.
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return new Promise((resolve, reject) => {
    const setHost = headers.Host !== undefined;
    const req = http.request({ host: '127.0.0.1', port: Number(url.port), method, path: urlPath, headers, agent, setHost }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.end(payload);
    else req.end();
  });
}

export const api = (p: string) => `/api/2.0/mlflow/${p}`;

export function assertError(r: Reply, status: number, code: string, what: string): void {
  assert.equal(r.status, status, `${what}: status ${r.status} ${r.text}`);
  assert.equal(r.json?.error_code, code, `${what}: ${r.text}`);
  assert.equal(typeof r.json?.message, 'string', `${what}: message`);
  assert.ok(r.json.message.length > 0);
}
