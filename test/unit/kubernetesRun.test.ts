// Kubernetes targets. No Kubernetes API server can run here: the Job manifests are validated
// offline against the Kubernetes schemas (kubernetes-models), the kubectl errors come from the
// real kubectl with no cluster behind it, and the run's kubectl driving goes through a STAND-IN
// kubectl (test/fixtures/kubectl-stand-in) that runs the Job's container command as a local process.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { checkKubectl } from '../../src/core/compute/kubectl';
import { jobManifest } from '../../src/core/compute/kubernetesJob';
import { startRemoteRun } from '../../src/core/compute/remoteRun';
import { readTargets, type KubernetesTarget } from '../../src/core/compute/targets';
import { Tracking } from '../../src/core/tracking/tracking';
import { cliPath, fixtures, tmpWorkspace } from './helpers';
import { noClusterKubeconfig } from './kubeconfig';
import { gitProject, until } from './remoteHelpers';

const TARGET: KubernetesTarget = { name: 'cluster', type: 'kubernetes', context: 'stand-in', namespace: 'ml', image: 'python:3.12-slim', gpus: 2, cpus: '4', memory: '16Gi' };
const MLOPS_YAML = 'targets:\n  cluster:\n    type: kubernetes\n    context: stand-in\n    namespace: ml\n    image: python:3.12-slim\n    gpus: 2\n    cpus: "4"\n    memory: 16Gi\n';

const project = (files: Record<string, string>) => gitProject(MLOPS_YAML, files);

describe('Kubernetes targets in mlops.yaml', () => {
  it('reads a kubernetes target with its context, namespace, image and resources', () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), MLOPS_YAML);
    assert.deepEqual(readTargets(ws.root)[1], { ...TARGET, declaredIn: 'mlops.yaml' });
  });

  const bad: [string, string, RegExp][] = [
    ['no image', 'targets:\n  k:\n    type: kubernetes\n', /target "k" \(kubernetes\) needs "image"/],
    ['fractional gpus', 'targets:\n  k:\n    type: kubernetes\n    image: py\n    gpus: 0.5\n', /"gpus" must be a whole number of nvidia.com\/gpu/],
    ['a memory that is no quantity', 'targets:\n  k:\n    type: kubernetes\n    image: py\n    memory: lots\n', /"memory" must be a Kubernetes quantity such as 16Gi/],
    ['a namespace with capitals', 'targets:\n  k:\n    type: kubernetes\n    image: py\n    namespace: ML\n', /"namespace" must be a Kubernetes name/],
  ];
  for (const [what, yaml, message] of bad) {
    it(`rejects ${what} with a message naming the target and the fix`, () => {
      const ws = tmpWorkspace();
      fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), yaml);
      assert.throws(() => readTargets(ws.root), message);
    });
  }
});

describe('the Job manifest of a run, validated offline against the Kubernetes schemas (no API server can run here)', () => {
  it('is a valid batch/v1 Job asking for nvidia.com/gpu, cpu and memory, never restarted, in the namespace', () => {
    const manifest = jobManifest(TARGET, '0123456789abcdef0123456789abcdef', ['python3', 'train.py', "it's"]);
    const job = new Job(manifest as ConstructorParameters<typeof Job>[0]);
    job.validate();
    const container = job.spec!.template.spec!.containers[0];
    assert.equal(job.metadata!.name, 'mlops-0123456789ab');
    assert.equal(job.metadata!.namespace, 'ml');
    assert.equal(job.spec!.backoffLimit, 0);
    assert.equal(job.spec!.template.spec!.restartPolicy, 'Never');
    assert.equal(container.image, 'python:3.12-slim');
    assert.deepEqual(container.resources!.limits, { 'nvidia.com/gpu': '2', memory: '16Gi' });
    assert.deepEqual(container.resources!.requests, { cpu: '4', 'nvidia.com/gpu': '2', memory: '16Gi' });
    assert.match(container.command![2], /runner\.py" start "\$MLOPS_JOB" -- 'python3' 'train.py' 'it'\\''s'/);
    // A mistake the schema catches, so the validation above is not vacuous.
    assert.throws(() => new Job({ ...manifest, spec: { ...(manifest.spec as object), backoffLimit: 'none' } } as unknown as ConstructorParameters<typeof Job>[0]).validate());
  });

  it('leaves out resources the target does not ask for (no GPU: no nvidia.com/gpu)', () => {
    const manifest = jobManifest({ name: 'cpu', type: 'kubernetes', image: 'python:3.12' }, 'ab'.repeat(16), ['python3', 'x.py']);
    const job = new Job(manifest as ConstructorParameters<typeof Job>[0]);
    job.validate();
    assert.equal(job.metadata!.namespace, undefined);
    assert.equal(job.spec!.template.spec!.containers[0].resources, undefined);
  });
});

describe('kubectl errors from the real kubectl (no cluster behind it)', () => {
  const kubeconfig = noClusterKubeconfig();
  const saved = { KUBECONFIG: process.env.KUBECONFIG, PATH: process.env.PATH };
  before(() => { process.env.KUBECONFIG = kubeconfig; });
  after(() => { process.env.KUBECONFIG = saved.KUBECONFIG; process.env.PATH = saved.PATH; fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true }); });
  const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

  it('an unknown context names the known ones and the fix; a run is not started', { skip: !hasKubectl && 'kubectl is not installed' }, async () => {
    await assert.rejects(checkKubectl({ ...TARGET, context: 'prod' }), /Target "cluster": kubectl has no context "prod" \(known: nowhere\)\. Fix "context" in mlops.yaml/);
    const ws = project({ 'train.py': 'print(1)\n' });
    await assert.rejects(startRemoteRun({ layout: ws, target: { ...TARGET, context: 'prod' }, command: 'python3', args: ['train.py'] }), /no context "prod"/);
    assert.deepEqual(fs.readdirSync(ws.runsDir), [], 'no local run is left');
  });

  it('a cluster that cannot be reached is named with the command to check it', { skip: !hasKubectl && 'kubectl is not installed' }, async () => {
    const ws = project({ 'train.py': 'print(1)\n' });
    await assert.rejects(startRemoteRun({ layout: ws, target: { ...TARGET, context: 'nowhere' }, command: 'python3', args: ['train.py'] }),
      /Cannot reach the cluster of target "cluster" \(context nowhere\): .*Check that "kubectl --context nowhere get pods" works/);
    assert.deepEqual(fs.readdirSync(ws.runsDir), []);
  });

  it('kubectl missing from PATH says to install it', async () => {
    process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), 'empty-path-'));
    try {
      await assert.rejects(checkKubectl(TARGET), /kubectl is not installed on this machine \(or not on PATH\)\. Install it/);
    } finally {
      process.env.PATH = saved.PATH;
    }
  });
});

describe('a run on a Kubernetes target through a STAND-IN kubectl (no API server can run here)', () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-stand-in-'));
  const saved = process.env.PATH;
  before(() => {
    process.env.PATH = `${path.join(fixtures, 'kubectl-stand-in')}${path.delimiter}${saved}`;
    process.env.KUBE_STAND_IN = state;
  });
  after(() => {
    process.env.PATH = saved;
    delete process.env.KUBE_STAND_IN;
    fs.rmSync(state, { recursive: true, force: true });
  });
  const calls = () => fs.readFileSync(path.join(state, 'calls.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);

  it('applies a Job, ships the code with kubectl exec, streams metrics from kubectl logs -f, and brings artifacts home', async () => {
    const release = path.join(state, 'release');
    const ws = project({
      'train.py': [
        'import os, sys, time', 'import mlops_workbench as mw', 'mw.log_metric("loss", 0.9, step=0)', 'mw.flush()', 'print("epoch 0", flush=True)',
        `while not os.path.exists(${JSON.stringify(release)}): time.sleep(0.05)`,
        'mw.log_metric("loss", 0.3, step=1)', 'open("model.txt", "w").write("w")', 'mw.log_artifact("model.txt")', '',
      ].join('\n'),
    });
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: TARGET, command: 'python3', args: ['train.py'], onOutput: (t) => (output += t) });
    const events = ws.eventsFile(run.runId);
    await until('the first loss streamed back', () => /"key":"loss"/.test(fs.readFileSync(events, 'utf8')) || undefined);
    assert.doesNotMatch(fs.readFileSync(events, 'utf8'), /run_end/, 'the metric arrived while the run was running');
    fs.writeFileSync(release, '');
    assert.deepEqual(await run.finished, { status: 'FINISHED', exitCode: 0, error: undefined });
    assert.match(output, /epoch 0/);
    assert.equal(output.match(/epoch 0/g)!.length, 1);
    assert.equal(fs.readFileSync(path.join(ws.artifactsDir(run.runId), 'model.txt'), 'utf8'), 'w');
    const t = await Tracking.open(ws.root);
    const detail = t.getRun(run.runId)!;
    t.close();
    assert.equal(detail.metrics.find((m) => m.key === 'loss')!.count, 2);
    assert.equal(detail.tags['mlops.target'], 'cluster');
    assert.equal(detail.tags['mlops.host'], 'stand-in-node');
    const verbs = calls().map((c) => c.slice(4, 6).join(' '));
    for (const verb of ['apply -f', 'logs -f', 'exec -i']) assert.ok(verbs.includes(verb), `kubectl ${verb} was used`);
    assert.ok(calls().filter((c) => c[0] === '--context').every((c) => c.slice(0, 4).join(' ') === '--context stand-in --namespace ml'));
    assert.ok(fs.existsSync(path.join(state, `mlops-${run.runId.slice(0, 12)}`, 'job', 'collected')), 'the container is told it may end');
  });

  it('mlops runs cancel ends the command in the pod; the run ends KILLED', async () => {
    const ws = project({ 'sleepy.py': 'import subprocess\nprint("ready", flush=True)\nsubprocess.call(["sleep", "300"])\n' });
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: TARGET, command: 'python3', args: ['sleepy.py'], onOutput: (t) => (output += t) });
    await until('the job to start', () => output.includes('ready') || undefined);
    const cancel = spawnSync(process.execPath, [cliPath, 'runs', 'cancel', run.runId], { cwd: ws.root, encoding: 'utf8', env: process.env });
    assert.equal(cancel.status, 0, cancel.stderr);
    const outcome = await run.finished;
    assert.equal(outcome.status, 'KILLED');
  });

  it('a Job deleted behind the run\'s back (kubectl delete job) ends the run KILLED instead of leaving it running', async () => {
    const ws = project({ 'sleepy.py': 'import time\nprint("ready", flush=True)\ntime.sleep(300)\n' });
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: TARGET, command: 'python3', args: ['sleepy.py'], onOutput: (t) => (output += t) });
    await until('the job to start', () => output.includes('ready') || undefined);
    assert.equal(spawnSync('kubectl', ['delete', 'job', run.job.k8sJob!], { encoding: 'utf8', env: process.env }).status, 0);
    const outcome = await run.finished;
    assert.equal(outcome.status, 'KILLED');
    assert.match(outcome.error!, /the Job mlops-[0-9a-f]{12} was deleted on target "cluster"/);
  });
});
