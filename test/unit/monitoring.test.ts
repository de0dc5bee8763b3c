// Monitoring a deployment: a real server process serving the breast-cancer model, its
// prediction log checked against the training snapshot its lineage names, serving
// objectives (p99 from the log, error rate from the server's /metrics), alerts to the
// audit trail and to a webhook on a real HTTP server on 127.0.0.1.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/governance/audit';
import { ALERT_ACTION, type AlertPayload } from '../../src/core/monitoring/alerts';
import { readMonitoringConfig } from '../../src/core/monitoring/config';
import { checkDeployment, latestVerdict, latestReport, readChecks } from '../../src/core/monitoring/monitor';
import { judgeServing } from '../../src/core/monitoring/servingObjectives';
import { parseScrape } from '../../src/core/serving/liveStats';
import { DeploymentLog } from '../../src/core/serving/deploymentLog';
import { Deployments, deploymentSpec } from '../../src/core/serving/deployments';
import { ServingMetrics } from '../../src/core/serving/metrics';
import type { ModelRegistry } from '../../src/core/registry/registry';
import { seededRandom } from '../../src/core/validation/random';
import { currentUser } from '../../src/core/workspace/user';
import { loadDriftData } from '../../src/extension/monitoring/driftModel';
import { tmpWorkspace, writeRun } from './helpers';
import { breastCancer, MODEL, NORM, post } from './servingHelpers';
import { FEATURES, writeCsv } from './validationHelpers';

/** A webhook receiver on 127.0.0.1 that keeps what was POSTed; answers `status`. */
async function webhookServer(status = 200): Promise<{ url: string; received: AlertPayload[]; close: () => Promise<void> }> {
  const received: AlertPayload[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method === 'POST' && req.headers['content-type'] === 'application/json') received.push(JSON.parse(body) as AlertPayload);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((r) => server.close(() => r())) };
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function logLines(dir: string): number {
  try {
    return fs.readFileSync(path.join(dir, 'predictions.jsonl'), 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

describe('checking a deployment', async () => {
  let stopAll = async () => {};
  after(() => stopAll());
  const layout = tmpWorkspace();
  const root = layout.root;
  const { rows } = breastCancer();
  fs.mkdirSync(path.join(root, 'data'));
  writeCsv(path.join(root, 'data', 'train.csv'), FEATURES, rows);
  fs.copyFileSync(MODEL, path.join(root, 'cancer.onnx'));
  const deployments = await Deployments.open(root);
  stopAll = () => deployments.stopAll();
  // Lineage as a tracked run leaves it: the run's input is a snapshot of data/, the version points at the run.
  const snapshots = (deployments as unknown as { snapshots: import('../../src/core/snapshots').SnapshotStore }).snapshots;
  const data = await snapshots.snapshot(['data/train.csv'], { message: 'training data' });
  const runId = writeRun(layout, [{ type: 'input', snapshot: data.id, paths: ['data/train.csv'] }]);
  const registry = (deployments as unknown as { registry: ModelRegistry }).registry;
  await registry.register({ model: 'cancer', path: 'cancer.onnx', runId });
  const hook = await webhookServer();
  after(() => hook.close());
  fs.writeFileSync(path.join(root, 'mlops.yaml'), `monitoring:\n  window: 200\n  schedule: 15m\n  thresholds: {p99_ms: 60000, error_rate: 0.5}\n  webhook: ${hook.url}\n`);
  const running = await deployments.deploy(deploymentSpec('web', 'cancer:1', { processing: { standardize: NORM } }));
  const url = `${running.status.url}/v2/models/cancer/infer`;
  const logDir = deployments.dir('web');
  const pick = seededRandom(7);
  // Rows drawn at random: the file's order is not (its first rows are mostly malignant).
  const send = async (n: number, shift: (row: number[]) => number[]) => {
    const before = logLines(logDir);
    for (let i = 0; i < n; i++) assert.equal((await post(url, { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: shift(rows[Math.floor(pick() * rows.length)]) }] })).status, 200);
    await until('the prediction log to hold the requests', () => logLines(logDir) >= before + n);
  };

  it('finds no drift in requests like the training data, measuring p99 and the error rate, with the reference from lineage', { timeout: 120_000 }, async () => {
    await send(200, (r) => r);
    const { verdict, delivery } = await checkDeployment(root, 'web');
    assert.equal(verdict.reference.from, 'lineage');
    assert.equal(verdict.reference.source, `${data.id}:data/train.csv`);
    assert.equal(verdict.reference.rows, rows.length);
    assert.equal(verdict.current.rows, 200);
    assert.equal(verdict.drift.features, 30, 'the vector input is named after the reference columns');
    assert.equal(verdict.drift.drift, false, verdict.reasons.join('; '));
    assert.equal(verdict.alert, false);
    assert.equal(delivery, undefined);
    assert.ok(verdict.serving.p99Ms && verdict.serving.p99Ms.value > 0 && verdict.serving.p99Ms.requests === 200 && !verdict.serving.p99Ms.crossed);
    assert.ok(verdict.serving.errorRate, 'the running server answers its /metrics');
    assert.equal(verdict.serving.errorRate!.value, 0);
    assert.ok(verdict.serving.errorRate!.requests >= 200);
  });

  it('flags shifted requests: an alert with reasons, one audit entry and one webhook POST, not repeated while it lasts', { timeout: 120_000 }, async () => {
    // The first ten features (the mean-* measurements) of every request 60% larger.
    await send(200, (r) => r.map((v, i) => (i < 10 ? v * 1.6 : v)));
    const { verdict, report, delivery } = await checkDeployment(root, 'web');
    assert.equal(verdict.drift.drift, false, 'a third of the features drifted: below the dataset share');
    assert.equal(verdict.alert, false);
    assert.equal(delivery, undefined, 'no alert, no one told');
    const drifted = verdict.columns.filter((c) => c.drift).map((c) => FEATURES.indexOf(c.column));
    assert.ok(drifted.filter((i) => i < 10).length >= 8, `most shifted features drift: ${drifted}`);
    assert.ok(drifted.filter((i) => i >= 10).length <= 3, `few unshifted ones do (KS at p ≤ 0.05 on 20 features): ${drifted}`);
    assert.ok(verdict.columns.filter((c) => c.drift).every((c) => c.severity >= 1) && verdict.columns.filter((c) => !c.drift).every((c) => c.severity < 1));
    assert.equal(verdict.drift.predictionDrift, undefined, 'the training table has no model outputs to compare');
    assert.ok(report.columns.every((c) => c.histogram.reference.length > 0), 'the full report keeps histograms');
    assert.deepEqual(latestReport(root, 'web')?.columns.length, 30);

    // Two thirds of the features shifted: dataset drift.
    await send(200, (r) => r.map((v, i) => (i % 3 ? v * 1.6 : v)));
    const second = await checkDeployment(root, 'web');
    assert.equal(second.verdict.drift.drift, true);
    assert.equal(second.verdict.alert, true);
    assert.equal(second.verdict.raised, true);
    assert.match(second.verdict.reasons[0], /^data drift: \d+ of 30 features drifted/);
    assert.ok(second.delivery && second.delivery.webhook?.status === 200, JSON.stringify(second.delivery));
    assert.equal(hook.received.length, 1);
    assert.equal(hook.received[0].kind, 'mlops.monitoring.alert');
    assert.equal(hook.received[0].deployment, 'web');
    assert.deepEqual(hook.received[0].reasons, second.verdict.reasons);
    assert.ok(hook.received[0].drifted.length >= 15);
    const alerts = () => new AuditLog(layout).entries().filter((e) => e.action === ALERT_ACTION);
    assert.equal(alerts().length, 1);
    assert.deepEqual(alerts()[0].subject, ['deployment:web']);
    assert.deepEqual(alerts()[0].details.reasons, second.verdict.reasons);

    const third = await checkDeployment(root, 'web');
    assert.equal(third.verdict.alert, true, 'still drifted');
    assert.equal(third.verdict.raised, false, 'the same alert is not raised twice');
    assert.equal(hook.received.length, 1);
    assert.equal(alerts().length, 1);

    const checks = readChecks(root, 'web');
    assert.equal(checks.length, 4);
    assert.deepEqual(checks.map((c) => c.drift.drift), [false, false, true, true]);
    assert.deepEqual(latestVerdict(root, 'web'), third.verdict);
    assert.equal(readChecks(root, 'web', 2).length, 2);
  });

  it('records the check when the webhook cannot be reached, saying why', { timeout: 120_000 }, async () => {
    const closed = await webhookServer();
    await closed.close();
    await send(200, (r) => r);
    const calm = await checkDeployment(root, 'web', { webhook: closed.url });
    assert.equal(calm.verdict.alert, false);
    await send(200, (r) => r.map((v, i) => (i % 3 ? v * 1.6 : v)));
    // mlops.yaml's webhook wins over the option; without one in mlops.yaml, the option's is used.
    fs.writeFileSync(path.join(root, 'mlops.yaml'), 'monitoring:\n  window: 200\n');
    const { verdict, delivery } = await checkDeployment(root, 'web', { webhook: closed.url });
    assert.equal(verdict.raised, true);
    assert.match(delivery!.webhook!.error!, /could not reach the webhook: ECONNREFUSED/);
    assert.equal(latestVerdict(root, 'web')?.time, verdict.time);
  });

  it('gives the drift panel the live traffic of the running deployment beside the latest check', { timeout: 120_000 }, async () => {
    const sending = send(100, (r) => r);
    const data = await loadDriftData({ root, snapshots: async () => snapshots, registry: async () => registry }, { kind: 'deployment', deployment: 'web' });
    await sending;
    assert.match(data.live?.summary ?? '', /^[\d.]+ req\/s/);
    assert.ok(data.timeline.length >= 5);
    assert.equal(data.features.length, 30);
  });
});

describe('monitoring without a server', () => {
  /** A workspace with a deployment record for `target` and a prediction log written as the server writes it. */
  function loggedDeployment(target: string, latencies: number[]) {
    const layout = tmpWorkspace();
    new DeploymentLog(layout).append({ type: 'deploy', spec: deploymentSpec('api', target), name: 'api', time: Date.now(), user: currentUser() });
    const dir = path.join(layout.dir, 'serving', 'api');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'predictions.jsonl'), latencies.map((ms, i) => JSON.stringify({
      time: Date.now() - 1000 + i, deployment: 'api', model: 'm', version: '1', variant: 'primary', latency_ms: ms, inputs: { x: [i % 7] }, outputs: { y: [1] },
    }) + '\n').join(''));
    writeCsv(path.join(layout.root, 'ref.csv'), ['x'], Array.from({ length: 100 }, (_, i) => [i % 7]));
    return layout;
  }

  it('alerts on p99 latency over its threshold without drift, and names the missing reference for an unregistered model', async () => {
    const layout = loggedDeployment('model.onnx', [...Array.from({ length: 95 }, () => 4), 80, 90, 95, 99, 120]);
    await assert.rejects(checkDeployment(layout.root, 'api'), /serves model\.onnx, which is not a registered model version.*set monitoring\.reference in mlops\.yaml/s);
    await assert.rejects(checkDeployment(layout.root, 'nope'), /No deployment is named "nope"/);
    fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), 'monitoring:\n  reference:\n    api: ref.csv\n  thresholds:\n    p99_ms: 50\n');
    const { verdict } = await checkDeployment(layout.root, 'api', { live: false });
    assert.equal(verdict.reference.from, 'config');
    assert.equal(verdict.drift.drift, false);
    assert.equal(verdict.serving.p99Ms?.value, 99, 'nearest rank: the 99th of 100 latencies');
    assert.deepEqual(verdict.reasons, ['p99 latency 99.0 ms > 50 ms']);
    assert.equal(verdict.alert, true);
  });

  it('keeps the reference between checks (named by the file\'s size and mtime): a changed file is read again', async () => {
    const layout = loggedDeployment('model.onnx', Array.from({ length: 100 }, () => 4));
    fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), 'monitoring:\n  reference: ref.csv\n');
    const ref = path.join(layout.root, 'ref.csv');
    const stamp = (seconds: number) => fs.utimesSync(ref, seconds, seconds);
    stamp(1_700_000_000);
    const first = (await checkDeployment(layout.root, 'api', { live: false })).verdict;
    assert.equal(first.drift.drift, false);
    const kept = path.join(layout.dir, 'index', 'drift-references');
    assert.equal(fs.readdirSync(kept).length, 1);
    // Other values of the same size and mtime: the kept columns answer, not the file.
    fs.writeFileSync(ref, fs.readFileSync(ref, 'utf8').replace(/^\d$/gm, '9'));
    stamp(1_700_000_000);
    const second = (await checkDeployment(layout.root, 'api', { live: false })).verdict;
    assert.deepEqual(second.columns, first.columns);
    stamp(1_700_000_060);
    const third = (await checkDeployment(layout.root, 'api', { live: false })).verdict;
    assert.equal(third.drift.drift, true, 'the changed file was read: every reference value is 9');
    assert.equal(fs.readdirSync(kept).length, 2);
  });

  it('measures the error rate from the server counters since the previous check', async () => {
    const metrics = new ServingMetrics('api');
    const served = metrics.of({ model: 'm', version: '1', variant: 'primary' });
    for (let i = 0; i < 90; i++) served.request('success', 0.001);
    for (let i = 0; i < 9; i++) served.request('server_error', 0.001);
    served.request('client_error', 0.001);
    const first = parseScrape(await metrics.text());
    const judged = judgeServing(new Float64Array(0), first, undefined, { errorRate: 0.05 });
    assert.deepEqual([judged.errorRate?.value, judged.errorRate?.requests, judged.errorRate?.crossed], [0.1, 100, true], 'since the server started: every answer that was not a success');
    for (let i = 0; i < 100; i++) served.request('success', 0.001);
    const later = judgeServing(new Float64Array(0), parseScrape(await metrics.text()), first, { errorRate: 0.05 });
    assert.deepEqual([later.errorRate?.value, later.errorRate?.requests, later.errorRate?.crossed], [0, 100, false], 'only the requests since the last check');
  });

  it('reads schedule, thresholds, reference and webhook from mlops.yaml, refusing bad ones with the fix', () => {
    const layout = tmpWorkspace();
    const write = (text: string) => fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), text);
    write('monitoring:\n  schedule: 30m\n  reference: data/train.csv\n  thresholds: {p99_ms: 200, error_rate: 0.01}\n  webhook: https://hooks.example.com/x\n');
    assert.deepEqual(readMonitoringConfig(layout.root), { columnTests: {}, schedule: '30m', reference: 'data/train.csv', thresholds: { p99Ms: 200, errorRate: 0.01 }, webhook: 'https://hooks.example.com/x' });
    for (const [text, error] of [
      ['monitoring:\n  schedule: often\n', /monitoring\.schedule is a duration between checks: 30s, 15m/],
      ['monitoring:\n  thresholds: {p99_ms: -1}\n', /monitoring\.thresholds\.p99_ms is a number > 0, e\.g\. 200/],
      ['monitoring:\n  thresholds: {error_rate: 5}\n', /error_rate is a share of requests in \(0, 1\]/],
      ['monitoring:\n  webhook: hooks.example.com\n', /monitoring\.webhook is an http\(s\) URL/],
      ['monitoring:\n  reference: [a, b]\n', /monitoring\.reference is a file, folder or snapshot/],
    ] as const) {
      write(text);
      assert.throws(() => readMonitoringConfig(layout.root), error);
    }
  });
});
