// `mlops serve --detach` and `mlops deployments …` through the built CLI: a detached deployment
// outlives the command that started it, answers requests, switches, and stops on request.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { readStatus } from '../../src/core/serving/supervisor';
import { isProcessAlive } from '../../src/core/workspace/processes';
import { cliPath, fixtures, tmpWorkspace } from './helpers';
import { MODEL, post } from './servingHelpers';

function mlops(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mlops serve and deployments', () => {
  const ws = tmpWorkspace();
  fs.copyFileSync(MODEL, path.join(ws.root, 'cancer.onnx'));
  after(() => {
    const status = readStatus(path.join(ws.dir, 'serving', 'cancer'));
    if (status && isProcessAlive(status.supervisor)) process.kill(status.supervisor, 'SIGTERM');
  });

  it('deploys detached, lists, switches and stops', { timeout: 180_000 }, async () => {
    assert.equal(mlops(ws.root, 'models', 'register', 'cancer.onnx', '--name', 'cancer').code, 0);
    assert.equal(mlops(ws.root, 'models', 'register', 'cancer.onnx', '--name', 'cancer').code, 0);
    const norm = path.join(fixtures, 'models', 'breast_cancer_norm.csv');
    const served = mlops(ws.root, 'serve', 'cancer:1', '--normalize', norm, '--max-batch', '8', '--detach');
    assert.equal(served.code, 0, served.stderr);
    const url = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(served.stdout)![1];
    const body = { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: Array(30).fill(1) }] };
    assert.equal((await post(`${url}/v2/models/cancer/infer`, body)).json.model_version, '1');

    const list = JSON.parse(mlops(ws.root, 'deployments', 'list', '--json').stdout);
    assert.equal(list[0].name, 'cancer');
    assert.equal(list[0].state, 'running');
    assert.equal(list[0].url, url);
    assert.match(mlops(ws.root, 'deployments', 'show', 'cancer').stdout, /curl -s http:\/\/127\.0\.0\.1:\d+\/v2\/models\/cancer\/infer/);

    const switched = mlops(ws.root, 'deployments', 'switch', 'cancer', 'cancer:2');
    assert.equal(switched.code, 0, switched.stderr);
    assert.equal((await post(`${url}/v2/models/cancer/infer`, body)).json.model_version, '2');
    const bad = mlops(ws.root, 'deployments', 'switch', 'cancer', 'cancer:9');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no version 9/);

    const supervisor = readStatus(path.join(ws.dir, 'serving', 'cancer'))!.supervisor;
    assert.equal(mlops(ws.root, 'deployments', 'stop', 'cancer').code, 0);
    assert.equal(isProcessAlive(supervisor), false);
    assert.equal(JSON.parse(mlops(ws.root, 'deployments', 'list', '--json').stdout)[0].state, 'stopped');
    await assert.rejects(fetch(`${url}/v2/health/live`));
  });
});
