// Remote deployments against real OpenSSH servers on 127.0.0.1: one whose PATH has node (this
// machine's), one whose PATH lacks it. Deploy ships the server and the model, serves through a
// port forwarded to 127.0.0.1 here with the same answers as a local deployment, brings the
// prediction log home, restores a killed forward, and stop ends the server on its host. A host
// without node fails naming the container exports and leaves nothing behind.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/governance/audit';
import { Deployments, deploymentSpec } from '../../src/core/serving/deployments';
import { exportDocker } from '../../src/core/serving/export';
import { predictionLogFiles } from '../../src/core/serving/predictionLog';
import { NodeMissingError } from '../../src/core/serving/remoteDeployment';
import { pullPredictions } from '../../src/core/serving/remotePredictions';
import { findBundle } from '../../src/core/tracking/bundledFiles';
import type { DeploymentStatus } from '../../src/core/serving/supervisor';
import { isProcessAlive } from '../../src/core/workspace/processes';
import { mlops, tmpWorkspace } from './helpers';
import { until } from './remoteHelpers';
import { breastCancer, MODEL, NORM, post } from './servingHelpers';
import { startSshd, type TestSshd } from './sshd';

const { rows } = breastCancer();
const body = (i: number) => ({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: rows[i] }], id: `row-${i}` });

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); }).on('error', () => resolve(false));
  });
}

function logged(dir: string): { id?: string }[] {
  return predictionLogFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id?: string }));
}

describe('a deployment on an ssh target', { timeout: 300_000 }, () => {
  let withNode: TestSshd;
  let bare: TestSshd;
  let deployments: Deployments;
  let stopAll = async () => {};
  const states: DeploymentStatus['state'][] = [];
  after(async () => { // registered first: runs before the workspace is removed
    await stopAll();
    await withNode?.stop();
    await bare?.stop();
  });
  const layout = tmpWorkspace();

  before(async () => {
    withNode = await startSshd({ node: process.execPath });
    bare = await startSshd();
    fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), `targets:\n${withNode.entry('gpu-box')}${bare.entry('bare-box')}`);
    fs.copyFileSync(MODEL, path.join(layout.root, 'cancer.onnx'));
    fs.copyFileSync(MODEL, path.join(layout.root, 'challenger.onnx'));
    deployments = await Deployments.open(layout.root);
    stopAll = () => deployments.stopAll();
  });

  it('serves through a port forwarded to 127.0.0.1 with the same answers as a local deployment', async () => {
    const remote = await deployments.deploy(deploymentSpec('web', 'cancer.onnx', { processing: { standardize: NORM }, remote: 'gpu-box' }), { onStatus: (s) => states.push(s.state) });
    const local = await deployments.deploy(deploymentSpec('here', 'cancer.onnx', { processing: { standardize: NORM } }));
    assert.match(remote.status.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    const placement = remote.status.remote!;
    assert.equal(placement.target, 'gpu-box');
    assert.ok(placement.dir.startsWith(withNode.workdir), `the server runs in the target's workdir, not ${placement.dir}`);
    assert.notEqual(placement.port, remote.status.port, 'the host port is forwarded to a port of its own here');
    assert.equal(fs.statSync(path.join(placement.dir, 'deployment.json')).mode & 0o077, 0, 'the config with the admin token is private on the host');
    for (let i = 0; i < 5; i++) {
      const [there, here] = await Promise.all([post(`${remote.status.url}/v2/models/cancer/infer`, body(i)), post(`${local.status.url}/v2/models/cancer/infer`, body(i))]);
      assert.equal(there.status, 200, JSON.stringify(there.json));
      assert.deepEqual(there.json.outputs, here.json.outputs);
    }
    const view = deployments.get('web');
    assert.equal(view.live, true);
    assert.deepEqual(view.deployment.placement, placement, 'the deployment log records where it runs');
    assert.ok(new AuditLog(layout).entries().some((e) => e.action === 'deploy' && e.subject.includes('deployment:web') && (e.details as { host?: string }).host === placement.host));
  });

  it('brings the prediction log home, where drift monitoring reads a local one', async () => {
    const ids = await until('the remote predictions here', () => {
      const got = logged(deployments.dir('web')).map((r) => r.id);
      return got.length >= 5 ? got : undefined;
    });
    assert.deepEqual(ids, ['row-0', 'row-1', 'row-2', 'row-3', 'row-4']);
  });

  it('follows a rotation of the prediction log on the host, bringing no line twice and no line half-written', async () => {
    const remote = path.join(withNode.workdir, 'rotation');
    const logs = path.join(remote, 'predictions');
    fs.mkdirSync(logs, { recursive: true });
    fs.copyFileSync(findBundle('deploymentHost.js'), path.join(remote, 'deploymentHost.js'));
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-mirror-'));
    after(() => fs.rmSync(local, { recursive: true, force: true }));
    const target = withNode.target('gpu-box');
    const current = path.join(logs, 'predictions.jsonl');
    const ids = (name: string) => fs.readFileSync(path.join(local, name), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id);
    fs.writeFileSync(current, '{"id":1}\n{"id":2}\n{"id":3');
    await pullPredictions(target, remote, local);
    assert.deepEqual(ids('predictions.jsonl'), [1, 2], 'the line still being written waits');
    fs.appendFileSync(current, '}\n');
    fs.renameSync(current, path.join(logs, 'predictions-1000.jsonl'));
    fs.writeFileSync(current, '{"id":4}\n');
    await pullPredictions(target, remote, local);
    assert.deepEqual(ids('predictions-1000.jsonl'), [1, 2, 3]);
    assert.deepEqual(ids('predictions.jsonl'), [4]);
    fs.rmSync(path.join(logs, 'predictions-1000.jsonl'));
    await pullPredictions(target, remote, local);
    assert.deepEqual(predictionLogFiles(local).map((f) => path.basename(f)), ['predictions.jsonl'], 'pruned on the host, pruned here');
  });

  it('restores a forward that was killed, and requests succeed again on the same URL', async () => {
    const before = deployments.get('web').status!;
    process.kill(before.forward!, 'SIGKILL');
    const after = await until('the forward back', () => {
      const s = deployments.get('web').status;
      return s?.state === 'running' && s.forward && s.forward !== before.forward ? s : undefined;
    });
    assert.ok(states.includes('restarting'), `the drop was reported: ${states.join(', ')}`);
    assert.equal(after.url, before.url);
    assert.equal((await post(`${after.url}/v2/models/cancer/infer`, body(6))).status, 200);
  });

  it('switches blue/green there: the new model is shipped to the host first', async () => {
    const { status } = deployments.get('web');
    await deployments.switch('web', 'challenger.onnx');
    const res = await post(`${status!.url}/v2/models/challenger/infer`, body(6));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.model_name, 'challenger');
  });

  it('stop ends the server on its host (its port closed, its processes gone) and records the stop', async () => {
    const { status, deployment } = deployments.get('web');
    const placement = deployment.placement!;
    assert.equal(await portOpen(placement.port), true);
    await deployments.stop('web');
    assert.equal(isProcessAlive(placement.pid), false, 'the server process on the host');
    assert.equal(isProcessAlive(placement.group), false, 'its supervisor on the host');
    assert.equal(await portOpen(placement.port), false, 'the port on the host');
    assert.equal(await portOpen(status!.port!), false, 'the forwarded port here');
    assert.equal(isProcessAlive(status!.forward!), false, 'the forward');
    assert.equal(deployments.get('web').deployment.state, 'stopped');
    assert.ok(new AuditLog(layout).entries().some((e) => e.action === 'stop' && e.subject.includes('deployment:web')));
    assert.ok(logged(deployments.dir('web')).some((r) => r.id === 'row-6'), 'the last predictions came home on stop');
  });

  it('from the CLI: serve --target --detach, list shows the host, and stop ends it there after its supervisor here died', async () => {
    const served = mlops(layout.root, 'serve', 'cancer.onnx', '--name', 'cli', '--target', 'gpu-box', '--detach');
    assert.equal(served.code, 0, served.stderr);
    const listed = mlops(layout.root, 'deployments', 'list');
    assert.match(listed.stdout, /^cli\s+running\s+gpu-box \(\S+\)\s+http:\/\/127\.0\.0\.1:\d+/m);
    const { status, deployment } = deployments.get('cli');
    process.kill(status!.supervisor, 'SIGKILL'); // its forward goes with it; the server on the host does not
    await until('the supervisor gone', () => !isProcessAlive(status!.supervisor));
    assert.equal(isProcessAlive(deployment.placement!.pid), true);
    const stopped = mlops(layout.root, 'deployments', 'stop', 'cli');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(isProcessAlive(deployment.placement!.pid), false, 'stopped on the host by where the log placed it');
    assert.equal(await portOpen(deployment.placement!.port), false);
  });

  it('on a host without node fails naming the container exports, writing nothing there and recording nothing', async () => {
    await assert.rejects(deployments.deploy(deploymentSpec('edge', 'cancer.onnx', { remote: 'bare-box' })), (err: Error) => {
      assert.ok(err instanceof NodeMissingError, err.message);
      assert.match(err.message, /bare-box.*no "node"/);
      assert.match(err.message, /mlops export docker edge --model cancer\.onnx/);
      assert.match(err.message, /mlops export k8s edge --model cancer\.onnx/);
      return true;
    });
    assert.equal(deployments.log.fold().has('edge'), false);
    assert.equal(fs.existsSync(deployments.dir('edge')), false);
    assert.deepEqual(fs.readdirSync(bare.workdir), []);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-export-'));
    after(() => fs.rmSync(out, { recursive: true, force: true }));
    const files = await exportDocker(deployments, 'edge', out, { model: 'cancer.onnx' });
    assert.ok(files.includes('Dockerfile') && files.some((f) => f.startsWith('models/')), 'the export the message names works');
  });
});
