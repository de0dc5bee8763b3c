// Fuzz of the MLflow endpoint: 10,000 seeded random and malformed requests (bad JSON, wrong
// types, huge values, unknown run ids, path traversal in artifact paths, missing or wrong
// tokens, foreign Host headers). Every answer is a 2xx or a 4xx whose MLflow error body
// matches its status, never a 5xx; the server never crashes and writes nothing outside the
// run artifact folders and its own index files.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { startMlflowServer } from '../../src/core/mlflow';
import { HTTP_STATUS, type MlflowErrorCode } from '../../src/core/mlflow/errors';
import { RequestMessage } from '../../src/core/mlflow/request';
import { Tracking } from '../../src/core/tracking/tracking';
import { rng } from './helpers';

const REQUESTS = Number(process.env.MLOPS_FUZZ_REQUESTS) || 10_000;
const CONCURRENCY = 16;
const SEED = Number(process.env.MLOPS_FUZZ_SEED) || 0x5eed_2026;

interface FuzzRequest { method: string; path: string; headers: Record<string, string>; body?: string | Buffer }

describe('MLflow endpoint fuzz', () => {
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-fuzz-'));
  after(() => fs.rmSync(sandbox, { recursive: true, force: true }));

  it(`answers ${REQUESTS} random and malformed requests with 2xx or an MLflow 4xx, never a 5xx`, { timeout: 180_000 }, async () => {
    const root = path.join(sandbox, 'workspace');
    fs.mkdirSync(root);
    const outside = path.join(sandbox, 'outside');
    fs.mkdirSync(outside);
    const tracking = await Tracking.open(root);
    const problems: string[] = [];
    const ep = await startMlflowServer(tracking, { log: (m) => problems.push(m), maxArtifactBytes: 64 * 1024 });
    const port = Number(new URL(ep.uri).port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const random = rng(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const int = (n: number): number => Math.floor(random() * n);

    // A few real runs, so that many requests reach past validation into the engine.
    const runIds: string[] = [];
    const experimentIds = ['0'];
    for (let i = 0; i < 4; i++) {
      const r = ep.backend.createRun(new RequestMessage({ experiment_id: '0', run_name: `seed-${i}` }));
      runIds.push(r.run.info.run_id);
    }

    const weirdStrings = [
      '', ' ', 'a', 'loss', 'val/loss', '../x', '..', '.', '/abs', 'a//b', 'x'.repeat(251), 'y'.repeat(9000), 'nul\0byte', 'üñí©ødé', '😀',
      '\ud800', "quote'", 'back\\slash', '%2e%2e', 'NaN', 'Infinity', '-Infinity', '1e309', '0x10', 'true', 'null', '<script>',
    ];
    const weirdValues: unknown[] = [
      ...weirdStrings, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 64, -(2 ** 63), true, false, null, [], [1, 2], {}, { nested: { deep: [1] } },
    ];
    const anyRunId = (): unknown => (random() < 0.6 ? pick(runIds) : pick([...weirdValues, 'f'.repeat(32), 'F'.repeat(32), 'a'.repeat(300), '0']));
    const value = (): unknown => pick(weirdValues);
    const maybe = (v: () => unknown, p = 0.7): unknown => (random() < p ? v() : undefined);
    const metric = (): unknown => ({ key: maybe(() => (random() < 0.5 ? 'loss' : value())), value: maybe(() => (random() < 0.5 ? random() : value())), timestamp: maybe(() => (random() < 0.5 ? 1_700_000_000_000 + int(1e6) : value())), step: maybe(() => (random() < 0.5 ? int(100) : value()), 0.5) });
    const kv = (): unknown => ({ key: maybe(() => (random() < 0.5 ? `k${int(5)}` : value())), value: maybe(() => (random() < 0.5 ? `${int(10)}` : value())) });
    const list = (item: () => unknown, max: number): unknown => (random() < 0.9 ? Array.from({ length: int(max) }, item) : value());
    const filters = [
      "metrics.loss > 0.5", "params.k1 = '1' and tags.k2 != 'x'", 'metrics.', "params.a = 'unterminated", '((', "attributes.run_id IN ('a', 'b')",
      'attributes.start_time > 1.5', "tags.`x` LIKE '%[%'", "params.a ILIKE '\\'", 'metrics.a > 1 or metrics.b < 2', '😀 = 1', "datasets.name = 'x'",
    ];

    const bodies: Record<string, () => unknown> = {
      'experiments/create': () => ({ name: maybe(() => (random() < 0.3 ? `exp-${int(50)}` : value())), artifact_location: maybe(value, 0.3), tags: maybe(() => list(kv, 5), 0.3) }),
      'experiments/search': () => ({ max_results: maybe(value, 0.3), filter: maybe(() => pick([...filters, "name LIKE 'exp%'", 'creation_time > 0']), 0.5), order_by: maybe(() => list(() => pick(['name', 'name DESC', 'creation_time', 'bogus', 'experiment_id ASC']), 3), 0.5), view_type: maybe(() => pick(['ALL', 'ACTIVE_ONLY', 'DELETED_ONLY', 7, 'NOPE']), 0.3), page_token: maybe(value, 0.2) }),
      'experiments/set-experiment-tag': () => ({ experiment_id: maybe(() => pick([...experimentIds, ...weirdStrings])), key: maybe(value), value: maybe(value) }),
      'experiments/delete': () => ({ experiment_id: maybe(() => pick(['0', '999', ...weirdStrings])) }),
      'experiments/restore': () => ({ experiment_id: maybe(() => pick([...experimentIds, '999', ...weirdStrings])) }),
      'runs/create': () => ({ experiment_id: maybe(() => pick([...experimentIds, ...weirdStrings, 5])), start_time: maybe(value, 0.3), run_name: maybe(value, 0.3), user_id: maybe(value, 0.2), tags: maybe(() => list(kv, 4), 0.4) }),
      'runs/update': () => ({ run_id: anyRunId(), status: maybe(() => pick(['RUNNING', 'FINISHED', 'FAILED', 'KILLED', 'SCHEDULED', 3, 'DONE', null])), end_time: maybe(value, 0.4), run_name: maybe(value, 0.2) }),
      'runs/delete': () => ({ run_id: anyRunId() }),
      'runs/restore': () => ({ run_id: anyRunId() }),
      'runs/search': () => ({ experiment_ids: maybe(() => list(() => pick([...experimentIds, ...weirdStrings]), 3)), filter: maybe(() => pick(filters), 0.6), order_by: maybe(() => list(() => pick(['metrics.loss DESC', 'params.k1', 'attributes.start_time ASC', 'tags.x SIDEWAYS', 'run_name']), 3), 0.5), max_results: maybe(value, 0.3), page_token: maybe(value, 0.2), run_view_type: maybe(() => pick(['ALL', 'ACTIVE_ONLY', 2, 'X']), 0.3) }),
      'runs/log-metric': () => ({ run_id: anyRunId(), ...(metric() as object) }),
      'runs/log-parameter': () => ({ run_id: anyRunId(), ...(kv() as object) }),
      'runs/set-tag': () => ({ run_id: anyRunId(), ...(kv() as object) }),
      'runs/delete-tag': () => ({ run_id: anyRunId(), key: maybe(value) }),
      'runs/log-batch': () => ({ run_id: anyRunId(), metrics: maybe(() => list(metric, random() < 0.05 ? 1200 : 30)), params: maybe(() => list(kv, random() < 0.05 ? 120 : 8)), tags: maybe(() => list(kv, 8)) }),
      'runs/log-inputs': () => ({ run_id: anyRunId(), datasets: maybe(() => list(() => ({ dataset: maybe(() => ({ name: maybe(value), digest: maybe(value), source_type: maybe(value), source: maybe(value), schema: maybe(value, 0.2) })), tags: maybe(() => list(kv, 3), 0.5) }), 3)) }),
      'runs/log-model': () => ({ run_id: anyRunId(), model_json: maybe(() => pick(['{"artifact_path": "model"}', '[1]', 'not json', ...weirdStrings])) }),
      'experiments/update': () => ({ experiment_id: '0', new_name: value() }),
    };
    const gets: Record<string, () => Record<string, unknown>> = {
      'experiments/get': () => ({ experiment_id: maybe(() => pick([...experimentIds, '999', ...weirdStrings])) }),
      'experiments/get-by-name': () => ({ experiment_name: maybe(() => pick(['Default', 'nope', ...weirdStrings])) }),
      'experiments/search': () => ({ max_results: maybe(() => pick(['1', '0', '-5', 'abc', '99999999'])), filter: maybe(() => pick(filters), 0.4) }),
      'runs/get': () => ({ run_id: anyRunId(), run_uuid: maybe(anyRunId, 0.2) }),
      'metrics/get-history': () => ({ run_id: anyRunId(), metric_key: maybe(() => pick(['loss', 'k1', ...weirdStrings])), max_results: maybe(() => pick(['1', '0', 'x', '25001', '-1']), 0.4), page_token: maybe(() => pick(['eyJvZmZzZXQiOjF9', 'bad', '%%', 'eyJvZmZzZXQiOi0xfQ==']), 0.3) }),
      'artifacts/list': () => ({ run_id: anyRunId(), path: maybe(() => pick(['', 'dir', '../..', '/etc', ...weirdStrings]), 0.5) }),
    };
    const traversal = ['..', '%2e%2e', '.', '', '%00', 'a%5Cb', '..%2F..', 'x'.repeat(300), '%E0%A4%A', 'ok.txt', 'dir', 'deep', '😀', '%2F', '~', 'con'];
    const artifactPath = (): string => {
      const parts: string[] = [];
      if (random() < 0.8) parts.push(pick(['0', '1', '999', '..', '']), random() < 0.7 ? pick(runIds) : pick(['f'.repeat(32), '..', '%2e%2e', '']), random() < 0.85 ? 'artifacts' : pick(['..', 'other', '']));
      for (let i = int(4); i > 0; i--) parts.push(pick(traversal));
      return parts.join('/');
    };
    const toQuery = (fields: Record<string, unknown>): string => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        if (Array.isArray(v)) v.forEach((x) => q.append(k, String(x)));
        else q.append(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
      }
      return q.toString();
    };

    const make = (): FuzzRequest => {
      const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${ep.token}` };
      const roll = random();
      if (roll < 0.04) delete headers.Authorization;
      else if (roll < 0.07) headers.Authorization = pick(['Bearer nope', `Bearer ${ep.token}x`, 'Basic abc', 'Bearer', `bearer ${ep.token}`, '']);
      else if (roll < 0.10) headers.Host = pick(['evil.example', `evil.example:${port}`, 'localhost:1', '[::1]', `127.0.0.1:${port}.evil`, '']);
      const kind = random();
      if (kind < 0.5) {
        const endpoint = pick(Object.keys(bodies));
        let body: string | Buffer = JSON.stringify(bodies[endpoint]());
        const mutate = random();
        if (mutate < 0.06) body = body.slice(0, int(body.length));
        else if (mutate < 0.09) body = Buffer.from(Array.from({ length: int(200) }, () => int(256)));
        else if (mutate < 0.11) body = pick(['[]', '"x"', '42', 'null', '"{\\"run_id\\": 5}"', '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}']);
        else if (mutate < 0.12) body = JSON.stringify({ run_id: pick(runIds), tags: [{ key: 'big', value: 'z'.repeat(1_100_000) }] });
        headers['Content-Type'] = random() < 0.95 ? 'application/json' : pick(['text/plain', 'application/json; charset=utf-8', 'multipart/form-data', '']);
        if (headers['Content-Type'] === '') delete headers['Content-Type'];
        const p = random() < 0.97 ? `/api/2.0/mlflow/${endpoint}` : pick(['/api/2.0/mlflow/runs/unknown', '/api/3.0/mlflow/traces', '/api/2.0/mlflow/logged-models', '/', '/api/2.0/mlflow/../mlflow/runs/create']);
        return { method: random() < 0.97 ? 'POST' : pick(['GET', 'PATCH', 'DELETE', 'PUT']), path: p, headers, body };
      }
      if (kind < 0.75) {
        const endpoint = pick(Object.keys(gets));
        return { method: 'GET', path: `/api/2.0/mlflow/${endpoint}?${toQuery(gets[endpoint]())}${random() < 0.05 ? '&%zz=%' : ''}`, headers };
      }
      const method = pick(['PUT', 'PUT', 'GET', 'GET', 'DELETE', 'POST']);
      if (method === 'GET' && random() < 0.4) return { method, path: `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(artifactPath())}`, headers };
      const body = method === 'PUT' ? Buffer.alloc(int(random() < 0.02 ? 70 * 1024 : 2048), 97) : undefined;
      return { method, path: `/api/2.0/mlflow-artifacts/artifacts/${artifactPath()}`, headers, ...(body ? { body } : {}) };
    };

    /** Raw bytes the HTTP client refuses to put in a request line are percent-encoded; everything else goes as generated. */
    const escapePath = (p: string): string => p.replace(/[^\x21-\x7e]/gu, (c) => {
      try {
        return encodeURIComponent(c);
      } catch {
        return '%ED%A0%80'; // a lone surrogate
      }
    });
    const send = (r: FuzzRequest): Promise<{ status: number; text: string; type: string }> => new Promise((resolve, reject) => {
      const headers = { ...r.headers };
      const setHost = headers.Host !== '';
      if (!setHost) delete headers.Host;
      const req = http.request({ host: '127.0.0.1', port, method: r.method, path: escapePath(r.path), headers, agent, setHost }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), type: String(res.headers['content-type'] ?? '') }));
        res.on('error', reject);
      });
      req.on('error', (err) => resolve({ status: -1, text: err.message, type: '' }));
      // A request the server never answers is a failure, not a hung test.
      req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
      req.end(r.body);
    });

    try {
    const started = Date.now();
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        const i = next++;
        const r = make();
        const reply = await send(r);
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        const where = `#${i} ${r.method} ${r.path.slice(0, 120)}`;
        if (reply.status === -1) {
          // The server may close a connection whose oversized body it refused to read.
          if (!/ECONNRESET|EPIPE|socket hang up/.test(reply.text)) failures.push(`${where}: ${reply.text}`);
          continue;
        }
        if (reply.status >= 500 || reply.status < 200 || (reply.status >= 300 && reply.status < 400)) {
          failures.push(`${where}: ${reply.status} ${reply.text.slice(0, 300)}`);
          continue;
        }
        if (reply.status >= 400) {
          let body: { error_code?: MlflowErrorCode; message?: unknown } | undefined;
          try {
            body = JSON.parse(reply.text);
          } catch {
            body = undefined;
          }
          if (!body || typeof body.message !== 'string' || !body.error_code || HTTP_STATUS[body.error_code] !== reply.status) {
            failures.push(`${where}: ${reply.status} without a matching MLflow error body: ${reply.text.slice(0, 200)}`);
          }
        } else if (reply.type.startsWith('application/json') && !r.path.includes('mlflow-artifacts/artifacts/')) {
          try {
            JSON.parse(reply.text);
          } catch {
            failures.push(`${where}: 200 with invalid JSON`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;

    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers`);
    assert.deepEqual(problems, [], 'no internal error was logged');
    const ok = await send({ method: 'GET', path: `/api/2.0/mlflow/runs/get?run_id=${runIds[0]}`, headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${ep.token}` } });
    assert.equal(ok.status, 200, 'still serving after the fuzz');
    assert.ok((statuses.get(200) ?? 0) > REQUESTS * 0.05, `enough requests got through to the engine: ${JSON.stringify([...statuses])}`);
    console.log(`fuzz: ${REQUESTS} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);

    } finally {
      agent.destroy();
      await ep.stop();
      tracking.close();
    }

    // Nothing outside the artifact folders and the index's own files.
    assert.deepEqual(fs.readdirSync(outside), []);
    assert.deepEqual(fs.readdirSync(sandbox).sort(), ['outside', 'workspace']);
    assert.deepEqual(fs.readdirSync(root), ['.mlops']);
    const allowedTop = new Set(['runs', 'index', 'tracking.db', 'tracking.db.sha256', 'tracking.lock', 'experiments.jsonl', 'tmp']);
    for (const name of fs.readdirSync(path.join(root, '.mlops'))) assert.ok(allowedTop.has(name), `unexpected .mlops/${name}`);
    for (const run of fs.readdirSync(path.join(root, '.mlops', 'runs'))) {
      assert.match(run, /^[0-9a-f]{32}$/, `a run folder named ${run}`);
      for (const entry of fs.readdirSync(path.join(root, '.mlops', 'runs', run))) assert.ok(['events.jsonl', 'artifacts'].includes(entry), `unexpected runs/${run}/${entry}`);
      const walk = (dir: string): void => {
        for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
          assert.ok(!d.name.startsWith('.mlops-upload-'), `a leftover upload ${d.name}`);
          assert.ok(!d.isSymbolicLink(), `a symbolic link ${d.name}`);
          if (d.isDirectory()) walk(path.join(dir, d.name));
        }
      };
      const artifacts = path.join(root, '.mlops', 'runs', run, 'artifacts');
      if (fs.existsSync(artifacts)) walk(artifacts);
    }
  });
});
