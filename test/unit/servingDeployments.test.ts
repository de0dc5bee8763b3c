// Deployments as their own supervised server processes: deploy a registered version, a
// blue/green switch under a bounded loopback load with no failed request, a broken model
// failing the switch while the old version keeps serving, an A/B split within ±5% of its
// weight over 2,000 requests (sticky by key), a shadow, following an alias, restart after a
// crash, and stop — all recorded in the deployments log and the audit trail.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/governance/audit';
import { Deployments, deploymentSpec } from '../../src/core/serving/deployments';
import { predictionLogFiles } from '../../src/core/serving/predictionLog';
import { isProcessAlive } from '../../src/core/workspace/processes';
import { tmpWorkspace } from './helpers';
import { breastCancer, MODEL, NORM, post } from './servingHelpers';

const { rows } = breastCancer();
const body = (i: number) => ({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[i % rows.length] }] });

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `clients` loops posting one-row requests until `stop` resolves; returns every status seen. */
async function load(url: string, clients: number, stop: Promise<unknown>): Promise<{ statuses: number[]; versions: Set<string> }> {
  let done = false;
  void stop.then(() => { done = true; });
  const statuses: number[] = [];
  const versions = new Set<string>();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = c; !done; i += clients) {
      try {
        const res = await post(url, body(i));
        statuses.push(res.status);
        if (res.status === 200) versions.add(String(res.json.model_version));
      } catch {
        statuses.push(0);
      }
    }
  }));
  return { statuses, versions };
}

describe('deployments', async () => {
  let stopAll = async () => {};
  after(() => stopAll()); // registered first: runs before the workspace is removed
  const layout = tmpWorkspace();
  fs.copyFileSync(MODEL, path.join(layout.root, 'cancer.onnx'));
  fs.writeFileSync(path.join(layout.root, 'broken.onnx'), 'this is not an ONNX model');
  const deployments = await Deployments.open(layout.root);
  stopAll = () => deployments.stopAll();
  // Two versions of one model (same weights: the version is what the answers are told apart by).
  const registry = (deployments as unknown as { registry: import('../../src/core/registry/registry').ModelRegistry }).registry;
  await registry.register({ model: 'cancer', path: 'cancer.onnx' });
  await registry.register({ model: 'cancer', path: 'cancer.onnx' });
  registry.setAlias('cancer', 'champion', 1);

  const running = await deployments.deploy(deploymentSpec('web', 'cancer@champion', { processing: { standardize: NORM }, batching: { maxBatch: 8, maxDelayMs: 2 } }));
  const url = `${running.status.url}/v2/models/cancer/infer`;

  it('serves a registered version from its own process and records the deployment', async () => {
    const res = await post(url, body(0));
    assert.equal(res.status, 200);
    assert.equal(res.json.model_version, '1');
    const view = deployments.get('web');
    assert.equal(view.live, true);
    assert.notEqual(view.status!.pid, process.pid);
    assert.equal(view.deployment.state, 'running');
    assert.equal(view.deployment.target, 'cancer@champion');
    const audit = new AuditLog(layout);
    assert.ok(audit.entries().some((e) => e.action === 'deploy' && e.subject.includes('deployment:web') && e.subject.includes('model:cancer/1')));
  });

  it('switches blue/green under load with no failed request', { timeout: 120_000 }, async () => {
    let switched!: () => void;
    const stop = new Promise<void>((r) => { switched = r; });
    const loading = load(url, 8, stop);
    await new Promise((r) => setTimeout(r, 500));
    await deployments.switch('web', 'cancer:2');
    await new Promise((r) => setTimeout(r, 500));
    switched();
    const { statuses, versions } = await loading;
    assert.ok(statuses.length > 50, `only ${statuses.length} requests ran`);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'no failed request');
    assert.deepEqual([...versions].sort(), ['1', '2'], 'both versions answered');
    assert.equal((await post(url, body(1))).json.model_version, '2');
  });

  it('fails a switch to a broken model with its reason and keeps serving the running version', { timeout: 60_000 }, async () => {
    let finished!: () => void;
    const stop = new Promise<void>((r) => { finished = r; });
    const loading = load(url, 4, stop);
    await assert.rejects(deployments.switch('web', 'broken.onnx'), /keeps serving cancer:2.*broken.*cannot serve/s);
    finished();
    const { statuses } = await loading;
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
    assert.equal((await post(url, body(2))).json.model_version, '2');
    assert.equal(deployments.get('web').deployment.target, 'cancer:2');
  });

  it('splits traffic A/B within ±5% of the weight over 2,000 requests, sticky by key', { timeout: 120_000 }, async () => {
    await deployments.split('web', { target: 'cancer:1', weight: 0.3, stickyKey: 'x-user' });
    const counts = new Map<string, number>();
    const n = 2000;
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < n) {
        const i = next++;
        const res = await post(url, body(i), { 'x-user': `user-${i}` });
        assert.equal(res.status, 200);
        counts.set(String(res.json.model_version), (counts.get(String(res.json.model_version)) ?? 0) + 1);
      }
    }));
    const share = (counts.get('1') ?? 0) / n;
    assert.ok(Math.abs(share - 0.3) <= 0.05, `B share ${share}`);
    const sticky = new Set<string>();
    for (let i = 0; i < 10; i++) sticky.add(String((await post(url, body(i), { 'x-user': 'user-42' })).json.model_version));
    assert.equal(sticky.size, 1, 'one key, one variant');
    await deployments.split('web', null);
    assert.equal((await post(url, body(3), { 'x-user': 'user-1' })).json.model_version, '2');
  });

  it('mirrors requests to a shadow whose answers are logged, never returned', async () => {
    await deployments.shadow('web', 'cancer:1');
    for (let i = 0; i < 5; i++) assert.equal((await post(url, { ...body(i), id: `shadowed-${i}` })).json.model_version, '2');
    const records = await until('shadow records in the prediction log', () => {
      const lines = predictionLogFiles(deployments.dir('web')).flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
      const mine = lines.filter((r) => String(r.id).startsWith('shadowed-'));
      return mine.filter((r) => r.variant === 'shadow').length === 5 ? mine : undefined;
    });
    assert.ok(records.filter((r) => r.variant === 'shadow').every((r) => r.version === '1'));
    assert.ok(records.filter((r) => r.variant === 'primary').every((r) => r.version === '2'));
    await deployments.shadow('web', null);
  });

  it('restarts a crashed server on the same port, serving what the log says', { timeout: 60_000 }, async () => {
    const before = deployments.get('web').status!;
    process.kill(before.pid!, 'SIGKILL');
    const status = await until('a restart', () => {
      const s = deployments.get('web').status;
      return s?.state === 'running' && s.pid !== before.pid ? s : undefined;
    });
    assert.equal(status.port, before.port);
    assert.equal(status.restarts, 1);
    assert.equal((await post(url, body(4))).json.model_version, '2');
  });

  it('follows its alias when it moves', { timeout: 60_000 }, async () => {
    await deployments.switch('web', 'cancer@champion');
    assert.equal((await post(url, body(5))).json.model_version, '1');
    registry.setAlias('cancer', 'champion', 2);
    await until('the deployment to follow champion to version 2', async () => (await post(url, body(6))).json.model_version === '2' || undefined);
    const audit = new AuditLog(layout).entries();
    assert.ok(audit.some((e) => e.action === 'switch' && (e.details as { reason?: string }).reason === 'alias moved'));
  });

  it('stops, and says so in the log and the audit trail', async () => {
    const pid = deployments.get('web').status!.pid!;
    await deployments.stop('web');
    const view = deployments.get('web');
    assert.equal(view.deployment.state, 'stopped');
    assert.equal(view.live, false);
    await until('the server process to exit', () => !isProcessAlive(pid) || undefined);
    const actions = new AuditLog(layout).entries().filter((e) => e.subject.includes('deployment:web')).map((e) => e.action);
    assert.deepEqual([...new Set(actions)].sort(), ['deploy', 'shadow', 'split', 'stop', 'switch']);
  });
});
