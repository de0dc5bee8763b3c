// `mlops targets test|gpus` on Slurm and Kubernetes targets: the same probe as the Targets view.
// Slurm: a real single-node cluster whose two GPUs are GRES backed by plain files (no GPU here).
// Kubernetes: the real kubectl with NO API SERVER behind it (error path only), and the node
// parsing from a `kubectl get nodes -o json` document checked against the Kubernetes Node schema.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Node } from 'kubernetes-models/v1/Node';
import { parseKubernetesNodes } from '../../src/core/compute/clusterGpus';
import { probeTarget } from '../../src/core/compute/targetStatus';
import { targetTree, type TargetTreeNode } from '../../src/core/compute/targetTree';
import type { KubernetesTarget } from '../../src/core/compute/targets';
import { mlops, tmpWorkspace } from './helpers';
import { noClusterKubeconfig } from './kubeconfig';
import { startSlurm, type TestSlurm } from './slurm';

/** Each row as "label — description", children indented. */
function render(nodes: TargetTreeNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [`${'  '.repeat(depth)}${n.label}${n.description ? ` — ${n.description}` : ''}`, ...render(n.children ?? [], depth + 1)]);
}

// Longer than sinfo -O's default field of 20 characters, so a truncated GRES would show.
const GPU_TYPE = 'nvidia_h200_141gb';

describe('targets test and gpus on a real Slurm cluster with two GRES GPUs', () => {
  let slurm: TestSlurm;
  const saved = process.env.SLURM_CONF;
  const host = os.hostname();
  let jobId = '';
  before(async () => {
    slurm = await startSlurm({ type: GPU_TYPE, count: 2 });
    process.env.SLURM_CONF = slurm.conf; // how sinfo, squeue and the CLI find this cluster
  });
  after(async () => {
    if (jobId) spawnSync('scancel', [jobId]);
    await slurm?.stop();
    if (saved === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = saved;
  });

  it('lists the node\'s GPUs from sinfo, then one held by a job, in the CLI and in the view', () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'targets:\n  cluster:\n    type: slurm\n');
    const idle = mlops(ws.root, 'targets', 'gpus', 'cluster', '--json');
    assert.equal(idle.code, 0, idle.stderr);
    assert.deepEqual(JSON.parse(idle.stdout), [{ node: host, state: 'idle', gpus: 2, models: [GPU_TYPE], used: 0, partitions: ['debug'] }]);

    const script = path.join(slurm.dir, 'hold.sh');
    fs.writeFileSync(script, '#!/bin/sh\nsleep 120\n');
    const sbatch = spawnSync('sbatch', ['--parsable', '--gres=gpu:1', '--job-name=holds-a-gpu', `--output=${slurm.dir}/hold.out`, script], { encoding: 'utf8' });
    assert.equal(sbatch.status, 0, sbatch.stderr);
    jobId = sbatch.stdout.trim();
    for (let i = 0; i < 100 && !/RUNNING/.test(spawnSync('squeue', ['-h', '-j', jobId, '-o', '%T'], { encoding: 'utf8' }).stdout); i++) spawnSync('sleep', ['0.1']);

    const busy = mlops(ws.root, 'targets', 'gpus', 'cluster');
    assert.equal(busy.code, 0, busy.stderr);
    assert.match(busy.stdout, /NODE\s+STATE\s+GPUS\s+MODEL\s+IN USE\s+PARTITIONS/);
    assert.match(busy.stdout, new RegExp(`${host}\\s+mix\\s+2\\s+${GPU_TYPE}\\s+1\\s+debug`));

    const test = mlops(ws.root, 'targets', 'test', 'cluster');
    assert.equal(test.code, 0, test.stderr);
    assert.match(test.stdout, new RegExp(`^cluster: reached submit host ${host}; python3 3\\.\\d+\\.\\d+; tar yes; 1 node with 2 GPUs; 1 job of yours in the queue\\n$`));
  });

  it('the Targets view shows the same node row with its GPUs and the job in the queue', async () => {
    const status = await probeTarget({ name: 'cluster', type: 'slurm' });
    assert.equal(status.reachable, true, status.detail);
    const rows = render(targetTree([status.target], new Map([['cluster', status]]), []));
    assert.deepEqual(rows.slice(0, 3), [
      `cluster — slurm · ${host}`,
      '  GPUs — 2 on 1 node',
      `    ${host} — 2 × ${GPU_TYPE} GPUs · 1 in use · mix`,
    ]);
    assert.match(rows.join('\n'), new RegExp(`Queue — 1\\n    ${jobId} holds-a-gpu — RUNNING`));
  });
});

describe('targets test and gpus on a Kubernetes target: the real kubectl with NO API SERVER (error path only)', () => {
  const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  const kubeconfig = noClusterKubeconfig();
  const saved = process.env.KUBECONFIG;
  before(() => { process.env.KUBECONFIG = kubeconfig; });
  after(() => {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
  });

  it('both commands name the unreachable cluster and how to check it, exit 1', { skip: !hasKubectl && 'kubectl is not installed' }, () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'targets:\n  k8s:\n    type: kubernetes\n    context: nowhere\n    image: python:3.12-slim\n');
    for (const sub of ['test', 'gpus']) {
      const r = mlops(ws.root, 'targets', sub, 'k8s');
      assert.equal(r.code, 1, `${sub}: ${r.stdout}`);
      assert.match(r.stderr, /Cannot reach the cluster of target "k8s" \(context nowhere\): .*Check that "kubectl --context nowhere get pods" works/);
    }
  });
});

describe('Kubernetes nodes\' GPUs from a kubectl get nodes -o json document (schema-checked)', () => {
  const node = (name: string, extra: { labels?: Record<string, string>; gpus?: string; allocatable?: string; ready: boolean; unschedulable?: boolean }) => ({
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name, uid: '5f0c9d0e-2f55-4c4d-9d55-3f1e0c4c2a11', resourceVersion: '918273', creationTimestamp: '2026-11-02T09:14:05Z',
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...extra.labels },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], ...(extra.unschedulable ? { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: '2026-12-01T08:00:00Z' }] } : {}) },
    status: {
      capacity: { cpu: '96', 'ephemeral-storage': '1967317408Ki', memory: '2113412180Ki', pods: '110', ...(extra.gpus ? { 'nvidia.com/gpu': extra.gpus } : {}) },
      allocatable: { cpu: '95500m', 'ephemeral-storage': '1813071235306', memory: '2112797780Ki', pods: '110', ...(extra.allocatable ? { 'nvidia.com/gpu': extra.allocatable } : {}) },
      conditions: [
        { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: '2026-12-03T07:00:00Z', lastTransitionTime: '2026-11-02T09:14:05Z', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
        { type: 'Ready', status: extra.ready ? 'True' : 'Unknown', lastHeartbeatTime: '2026-12-03T07:00:00Z', lastTransitionTime: '2026-11-02T09:14:25Z', reason: extra.ready ? 'KubeletReady' : 'NodeStatusUnknown', message: extra.ready ? 'kubelet is posting ready status' : 'Kubelet stopped posting node status.' },
      ],
      addresses: [{ type: 'InternalIP', address: '10.0.3.17' }, { type: 'Hostname', address: name }],
      nodeInfo: {
        machineID: 'a1b2', systemUUID: 'c3d4', bootID: 'e5f6', kernelVersion: '6.8.0-49-generic', osImage: 'Ubuntu 22.04.5 LTS',
        containerRuntimeVersion: 'containerd://1.7.22', kubeletVersion: 'v1.31.2', kubeProxyVersion: 'v1.31.2', operatingSystem: 'linux', architecture: 'amd64',
      },
    },
  });
  const list = {
    apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' },
    items: [
      node('gpu-node-7', { labels: { 'nvidia.com/gpu.product': 'NVIDIA-H200', 'nvidia.com/gpu.count': '8' }, gpus: '8', allocatable: '7', ready: true }),
      node('cpu-node-1', { ready: false, unschedulable: true }),
    ],
  };

  it('reads capacity, allocatable, model and state per node, and the view lists them', () => {
    for (const item of list.items) new Node(item as ConstructorParameters<typeof Node>[0]).validate();
    const nodes = parseKubernetesNodes(JSON.stringify(list));
    assert.deepEqual(nodes, [
      { node: 'gpu-node-7', state: 'Ready', gpus: 8, allocatable: 7, models: ['NVIDIA-H200'] },
      { node: 'cpu-node-1', state: 'SchedulingDisabled', gpus: 0, allocatable: 0, models: [] },
    ]);
    const target: KubernetesTarget = { name: 'k8s', type: 'kubernetes', image: 'python:3.12', gpus: 1 };
    const tree = targetTree([target], new Map([['k8s', { target, reachable: true, detail: 'context prod', problems: [], nodes, gpuNote: '1 nvidia.com/gpu per run' }]]), []);
    assert.deepEqual(render(tree), [
      'k8s — kubernetes · context prod',
      '  GPUs — 8 on 2 nodes · 1 nvidia.com/gpu per run',
      '    gpu-node-7 — 8 × NVIDIA-H200 GPUs · 7 allocatable · Ready',
      '    cpu-node-1 — 0 GPUs · 0 allocatable · SchedulingDisabled',
    ]);
  });
});
