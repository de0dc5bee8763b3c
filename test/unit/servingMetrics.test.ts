// /metrics scraped by a real Prometheus (Debian package, started here on 127.0.0.1), its query
// API returning the request counter; promtool's lint on the exposition text; and dynamic
// batching merging concurrent requests while each gets its own rows' answer.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/core/serving/portForward';
import { breastCancer, fixtureProbabilities, NORM, post, startServer } from './servingHelpers';

const { rows } = breastCancer();

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('model server metrics', async () => {
  const server = await startServer({ processing: { standardize: NORM } });
  const infer = `${server.url}/v2/models/cancer/infer`;
  const one = (i: number) => ({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[i] }] });

  it('exposes text that promtool check metrics passes', async () => {
    for (let i = 0; i < 3; i++) await post(infer, one(i));
    await post(infer, { inputs: [] });
    const res = await fetch(`${server.url}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const family of ['mlops_serving_requests_total', 'mlops_serving_request_duration_seconds_bucket', 'mlops_serving_queue_duration_seconds_bucket', 'mlops_serving_batch_size_bucket', 'mlops_serving_inflight_requests', 'mlops_serving_model_info']) {
      assert.ok(text.includes(family), family);
    }
    assert.match(text, /mlops_serving_requests_total\{model="cancer",version="1",variant="primary",outcome="client_error"\} 1/);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
  });

  it('is scraped by a real Prometheus whose query API returns the request counter', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-prom-'));
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: mlops\n    static_configs:\n      - targets: ['127.0.0.1:${server.port}']\n`);
    const prom = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    prom.stderr.on('data', (c) => { stderr = (stderr + c).slice(-4000); });
    const exited = new Promise((r) => prom.once('exit', r));
    after(async () => {
      prom.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    });
    for (let i = 0; i < 7; i++) await post(infer, one(i));
    const successes = Number(/outcome="success"\} (\d+)/.exec(await (await fetch(`${server.url}/metrics`)).text())![1]);
    const query = encodeURIComponent('mlops_serving_requests_total{outcome="success",variant="primary"}');
    const value = await poll(`Prometheus to scrape the counter (stderr: ${stderr.slice(-300)})`, async () => {
      const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${query}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      const r = body.data.result[0];
      return r && Number(r.value[1]) === successes ? r : undefined;
    });
    assert.equal(value.metric.model, 'cancer');
    assert.equal(value.metric.version, '1');
    assert.equal(value.metric.job, 'mlops');
  });
});

describe('dynamic batching', () => {
  it('merges concurrent one-row requests into larger runs, each answered with its own row', async () => {
    const server = await startServer({ processing: { standardize: NORM }, batching: { maxBatch: 16, maxDelayMs: 25 } });
    const n = 48;
    const expected = await fixtureProbabilities(rows.slice(0, n));
    const answers = await Promise.all(rows.slice(0, n).map((r) => post(`${server.url}/v2/models/cancer/infer`, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: r }] })));
    answers.forEach((a, i) => assert.deepEqual((a.json.outputs as { data: number[] }[])[0].data, expected[i], `row ${i}`));
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const runs = Number(/mlops_serving_batch_size_count\{[^}]*\} (\d+)/.exec(text)![1]);
    const rowsRun = Number(/mlops_serving_batch_size_sum\{[^}]*\} (\d+)/.exec(text)![1]);
    assert.equal(rowsRun, n, 'every row ran once');
    assert.ok(runs < n / 2, `${n} requests ran in ${runs} model runs`);
  });
});
