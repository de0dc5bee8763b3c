// Deployments coming back when the editor reopens: the ones the editor started that were
// running when it closed start again as the log left them (version, A/B split, port, token);
// a detached `mlops serve` still alive is attached to, not restarted; a CLI deployment whose
// terminal ended, and a stopped one, stay as they are.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/governance/audit';
import { Deployments, deploymentSpec } from '../../src/core/serving/deployments';
import { readStatus } from '../../src/core/serving/supervisor';
import { isProcessAlive } from '../../src/core/workspace/processes';
import { cliPath, tmpWorkspace } from './helpers';
import { MODEL, NORM, post } from './servingHelpers';

const body = { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: Array(30).fill(1) }] };

describe('deployments after the editor reopens', async () => {
  const windows: Deployments[] = [];
  let stopAll = async () => {};
  after(() => stopAll()); // registered first: runs before the workspace is removed
  const ws = tmpWorkspace();
  stopAll = async () => {
    for (const w of windows) await w.stopAll();
    const status = readStatus(path.join(ws.dir, 'serving', 'bg'));
    if (!status || !isProcessAlive(status.supervisor)) return;
    process.kill(status.supervisor, 'SIGTERM');
    while (isProcessAlive(status.supervisor)) await new Promise((r) => setTimeout(r, 50));
  };
  fs.copyFileSync(MODEL, path.join(ws.root, 'cancer.onnx'));
  const open = async () => {
    const w = await Deployments.open(ws.root);
    windows.push(w);
    return w;
  };
  const registry = (w: Deployments) => (w as unknown as { registry: import('../../src/core/registry/registry').ModelRegistry }).registry;

  it('starts the editor\'s deployments again as they were, attaches to detached ones, leaves the rest', { timeout: 180_000 }, async () => {
    const first = await open();
    await registry(first).register({ model: 'cancer', path: 'cancer.onnx' });
    await registry(first).register({ model: 'cancer', path: 'cancer.onnx' });
    const web = await first.deploy(deploymentSpec('web', 'cancer:1', { processing: { standardize: NORM }, token: true }), { owner: 'editor' });
    await first.split('web', { target: 'cancer:2', weight: 0.5, stickyKey: 'user' });
    await first.deploy(deploymentSpec('term', 'cancer:1', { processing: { standardize: NORM } }), { owner: 'cli' });
    await first.deploy(deploymentSpec('old', 'cancer:1', { processing: { standardize: NORM } }), { owner: 'editor' });
    await first.stop('old');
    const detached = spawnSync(process.execPath, [cliPath, 'serve', 'cancer:1', '--name', 'bg', '--detach'], { cwd: ws.root, encoding: 'utf8' });
    assert.equal(detached.status, 0, detached.stderr);
    const bgSupervisor = readStatus(path.join(ws.dir, 'serving', 'bg'))!.supervisor;
    const url = web.status.url!;
    const token = web.status.token!;
    const auth = { Authorization: `Bearer ${token}` };
    const versions = async (u: string) => {
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const res = await post(`${u}/v2/models/cancer/infer`, body, { ...auth, user: `u${i}` });
        assert.equal(res.status, 200, JSON.stringify(res.json));
        seen.add(String(res.json.model_version));
      }
      return [...seen].sort();
    };
    assert.deepEqual(await versions(url), ['1', '2']);

    // The window closes: its deployments stop with it, and nothing records a stop.
    await first.stopAll();
    await assert.rejects(fetch(`${url}/v2/health/ready`));
    assert.equal(first.get('web').deployment.state, 'running', 'the log still says it should run');

    const second = await open();
    const resumed = await second.resume('editor');
    const by = Object.fromEntries(resumed.map((r) => [r.name, r]));
    assert.deepEqual(Object.keys(by).sort(), ['bg', 'term', 'web'], 'a stopped deployment is not brought back');
    assert.equal(by.web.action, 'restarted');
    assert.equal(by.web.url, url, 'on the port it had');
    assert.equal(by.term.action, 'left', 'a CLI deployment ended with its terminal');
    assert.equal(by.bg.action, 'attached');
    assert.equal(readStatus(path.join(ws.dir, 'serving', 'bg'))!.supervisor, bgSupervisor, 'the detached supervisor still owns it');
    assert.equal(second.get('bg').deployment.owner, 'detached');

    // Same URL, same token, the split still in place.
    assert.deepEqual(await versions(url), ['1', '2']);
    assert.equal((await post(`${url}/v2/models/cancer/infer`, body)).status, 401, 'the token still guards it');
    assert.equal(second.get('web').live, true);
    assert.equal(second.get('web').status!.supervisor, process.pid);
    assert.equal(second.get('term').live, false);
    assert.equal(second.get('old').deployment.state, 'stopped');
    assert.ok(new AuditLog(ws).entries().some((e) => e.action === 'resume' && e.subject.includes('deployment:web')));

    // Resuming again changes nothing: this process supervises it now.
    assert.deepEqual((await second.resume('editor')).map((r) => `${r.name}:${r.action}`).sort(), ['bg:attached', 'term:left']);
  });

  it('starts on a free port when its old one was taken meanwhile', { timeout: 120_000 }, async () => {
    const w = windows.at(-1)!;
    const before = w.get('web').status!.url!;
    await w.stopAll();
    const port = Number(new URL(before).port);
    const squatter = (await import('node:http')).createServer((_, res) => res.end('not a model server')).listen(port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      const third = await open();
      const [web] = (await third.resume('editor')).filter((r) => r.name === 'web');
      assert.equal(web.action, 'restarted', web.error);
      assert.notEqual(web.url, before);
      assert.equal((await fetch(`${web.url}/v2/health/ready`)).status, 200);
    } finally {
      squatter.close();
    }
  });
});
