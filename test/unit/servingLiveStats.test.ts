// Live figures of a deployment from two scrapes of its own /metrics: req/s, p50/p99 and
// error rate against a real deployment process (its own server, its own prom-client text),
// per variant under an A/B split with a shadow; and the arithmetic on known expositions
// (histogram quantiles as Prometheus interpolates them, a server restart between scrapes).
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { liveStats, parseScrape, readLiveStats } from '../../src/core/serving/liveStats';
import { breastCancer, deployedFixture, post } from './servingHelpers';

const { rows } = breastCancer();
const good = (i: number) => ({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[i % rows.length] }] });
const bad = { inputs: [{ name: 'input', shape: [1, 29], datatype: 'FP32', data: rows[0].slice(0, 29) }] };

describe('live stats of a running deployment', async () => {
  const { deployments, url, infer } = await deployedFixture('live');

  it('counts the requests, errors and latency served between two scrapes', async () => {
    const first = await readLiveStats(url, { intervalMs: 50 });
    assert.equal(first.stats.requests, 0, 'nothing was sent yet');
    assert.equal(first.stats.errorRate, undefined);
    for (let i = 0; i < 40; i++) assert.equal((await post(infer, good(i))).status, 200);
    for (let i = 0; i < 10; i++) assert.equal((await post(infer, bad)).status, 400);
    const { stats, scrape } = await readLiveStats(url, { previous: first.scrape });
    assert.equal(stats.requests, 50);
    assert.equal(stats.errorRate, 10 / 50);
    assert.equal(stats.serverErrors, 0);
    assert.ok(Math.abs(stats.rps - 50 / stats.seconds) < 1e-9 && stats.rps > 0);
    assert.ok(stats.p50Ms! > 0 && stats.p50Ms! <= stats.p99Ms!, `p50 ${stats.p50Ms} p99 ${stats.p99Ms}`);
    assert.ok(stats.p99Ms! < 2500, 'under the largest bucket');
    assert.deepEqual(stats.variants.map((v) => [v.variant, v.requests]), [['primary', 50]]);

    // The next interval counts only what came after the scrape it was given.
    for (let i = 0; i < 5; i++) await post(infer, good(i));
    const next = await readLiveStats(url, { previous: scrape });
    assert.equal(next.stats.requests, 5);
    assert.equal(next.stats.errorRate, 0);
  });

  it('gives each variant of a split its share, and leaves shadow copies out of the traffic', async () => {
    await deployments.split('live', { target: 'challenger.onnx', weight: 0.5 });
    await deployments.shadow('live', 'cancer.onnx');
    const before = await readLiveStats(url, { intervalMs: 10 });
    for (let i = 0; i < 60; i++) assert.equal((await post(infer, good(i))).status, 200);
    // The shadow runs after the answer is sent: wait until its copies are counted.
    let stats = (await readLiveStats(url, { previous: before.scrape })).stats;
    for (let tries = 0; (stats.variants.find((v) => v.variant === 'shadow')?.requests ?? 0) < 60 && tries < 50; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = (await readLiveStats(url, { previous: before.scrape })).stats;
    }
    assert.equal(stats.requests, 60, 'the clients sent 60; the shadow copies are not more traffic');
    const by = Object.fromEntries(stats.variants.map((v) => [v.variant, v]));
    assert.equal(by.shadow.requests, 60);
    assert.equal(by.a.requests + by.b.requests, 60);
    assert.ok(by.a.requests > 0 && by.b.requests > 0, `a ${by.a.requests}, b ${by.b.requests}`);
    assert.ok(by.b.p99Ms! > 0);
  });

  it('fails with the URL and a hint when the deployment does not answer', async () => {
    await assert.rejects(readLiveStats('http://127.0.0.1:9', { intervalMs: 1, timeoutMs: 500 }), /Could not read http:\/\/127\.0\.0\.1:9\/metrics.*running/);
  });
});

describe('live stats arithmetic', () => {
  const exposition = (ok: number, failed: number, buckets: number[]) => [
    '# HELP mlops_serving_requests_total Inference requests answered.',
    '# TYPE mlops_serving_requests_total counter',
    `mlops_serving_requests_total{model="m",version="1",variant="primary",outcome="success"} ${ok}`,
    `mlops_serving_requests_total{model="m",version="1",variant="primary",outcome="server_error"} ${failed}`,
    '# TYPE mlops_serving_request_duration_seconds histogram',
    ...[0.001, 0.01, 0.1].map((le, i) => `mlops_serving_request_duration_seconds_bucket{le="${le}",model="m",version="1",variant="primary"} ${buckets[i]}`),
    `mlops_serving_request_duration_seconds_bucket{le="+Inf",model="m",version="1",variant="primary"} ${buckets[3]}`,
    `mlops_serving_request_duration_seconds_count{model="m",version="1",variant="primary"} ${buckets[3]}`,
  ].join('\n');

  it('interpolates quantiles inside the buckets, as Prometheus does', () => {
    const before = parseScrape(exposition(0, 0, [0, 0, 0, 0]), 0);
    // 100 requests: 50 under 1 ms, 40 in (1, 10] ms, 10 in (10, 100] ms.
    const s = liveStats(before, parseScrape(exposition(98, 2, [50, 90, 100, 100]), 10_000));
    assert.equal(s.requests, 100);
    assert.equal(s.rps, 10);
    assert.equal(s.errorRate, 0.02);
    assert.equal(s.serverErrors, 2);
    assert.ok(Math.abs(s.p50Ms! - 1) < 1e-9, `p50 ${s.p50Ms}`);
    assert.ok(Math.abs(s.p99Ms! - (10 + 90 * (9 / 10))) < 1e-9, `p99 ${s.p99Ms}`);
  });

  it('counts from zero after the server restarted between scrapes', () => {
    const before = parseScrape(exposition(500, 0, [400, 500, 500, 500]), 0);
    const s = liveStats(before, parseScrape(exposition(20, 0, [0, 20, 20, 20]), 2000));
    assert.equal(s.requests, 20);
    assert.equal(s.rps, 10);
    assert.ok(s.p50Ms! > 1 && s.p50Ms! <= 10, `p50 ${s.p50Ms}`);
  });

  it('reports the last finite bound for requests slower than every bucket', () => {
    const s = liveStats(parseScrape(exposition(0, 0, [0, 0, 0, 0]), 0), parseScrape(exposition(10, 0, [0, 0, 0, 10]), 1000));
    assert.equal(s.p99Ms, 100);
  });
});
