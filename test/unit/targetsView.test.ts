// The Targets view's content (its model in src/core/compute/targetTree.ts, free of VS Code),
// from the real nvidia-smi outputs of an H200 host in test/fixtures/gpu-host.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inventoryFrom } from '../../src/core/compute/inventory';
import { parseKubernetesJobs, parseSqueue, probeTarget, type TargetStatus } from '../../src/core/compute/targetStatus';
import { targetTree, type TargetTreeNode } from '../../src/core/compute/targetTree';
import type { Target } from '../../src/core/compute/targets';
import { fixtures } from './helpers';

const gpuHost = path.join(fixtures, 'gpu-host');
const queryLines = fs.readFileSync(path.join(gpuHost, 'nvidia-smi-query.csv'), 'utf8').split('\n');
const busyLines = fs.readFileSync(path.join(gpuHost, 'nvidia-smi-busy.csv'), 'utf8').split('\n');

const SSH: Target = { name: 'gpu-box', type: 'ssh', host: 'gpu' };
const SLURM: Target = { name: 'cluster', type: 'slurm', host: 'login1', partition: 'gpu' };
const K8S: Target = { name: 'k8s', type: 'kubernetes', image: 'python:3.12', gpus: 1 };

/** Each row as "label — description", children indented. */
function render(nodes: TargetTreeNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [`${'  '.repeat(depth)}${n.label}${n.description ? ` — ${n.description}` : ''}`, ...render(n.children ?? [], depth + 1)]);
}

describe('the Targets view\'s rows', () => {
  it('show a GPU host\'s H200 with memory, utilisation and its training process, from the real nvidia-smi outputs', () => {
    // The idle query (csv with units) and the busy host's process list, both as captured on the H200.
    const inventory = inventoryFrom(queryLines.slice(0, 2).join('\n'), busyLines.slice(1).join('\n'));
    const status: TargetStatus = { target: SSH, reachable: true, detail: 'gpu-node-7', problems: [], gpus: inventory.gpus };
    const tree = targetTree([SSH], new Map([['gpu-box', status]]), []);
    assert.deepEqual(render(tree), [
      'gpu-box — ssh · gpu-node-7',
      '  GPUs — 1',
      '    GPU 0: NVIDIA H200 — 0 / 143771 MiB · 0 %',
      '      773 python3 — 966 MiB',
    ]);
    assert.equal(tree[0].state, 'ok');
    assert.equal(tree[0].contextValue, 'target.ssh.terminal', 'Open Terminal is offered for an ssh host');
    assert.match(tree[0].children![0].children![0].tooltip!, /power 79\.19 of 700 W\ntemperature 33 °C\ndriver 580\.159\.04/);
  });

  it('show an unreachable target with why, a Slurm queue from squeue, Kubernetes Jobs, and the runs on each target with Cancel on a running one', () => {
    const squeue = '4711|mlops-0a1b2c3d|RUNNING|1:02|node01\n4712|mlops-9f8e7d6c|PENDING|0:00|(Resources)\n';
    const jobs = JSON.stringify({ items: [{ metadata: { name: 'mlops-0123456789ab', labels: { 'mlops-workbench/run-id': 'run-k' } }, status: { active: 1 } }] });
    const statuses = new Map<string, TargetStatus>([
      ['gpu-box', { target: SSH, reachable: false, detail: 'Cannot reach target "gpu-box" (gpu): Connection refused.', problems: [] }],
      ['cluster', { target: SLURM, reachable: true, detail: 'login1', problems: [], queue: parseSqueue(squeue), gpuNote: 'on the compute nodes' }],
      ['k8s', { target: K8S, reachable: true, detail: 'context prod', problems: [], queue: parseKubernetesJobs(jobs), gpuNote: '1 nvidia.com/gpu per run' }],
    ]);
    const runs = [
      { id: 'a'.repeat(32), name: 'train-1', status: 'RUNNING' as const, target: 'cluster' },
      { id: 'b'.repeat(32), name: 'train-2', status: 'FINISHED' as const, target: 'cluster' },
      { id: 'c'.repeat(32), name: 'train-3', status: 'FAILED' as const, target: 'elsewhere' },
    ];
    const local: Target = { name: 'local', type: 'local' };
    const tree = targetTree([local, SSH, SLURM, K8S], statuses, runs);
    assert.deepEqual(render(tree), [
      'local — local · checking…',
      'gpu-box — ssh · unreachable',
      '  Cannot reach it — Cannot reach target "gpu-box" (gpu): Connection refused.',
      'cluster — slurm · login1',
      '  GPUs — on the compute nodes',
      '  Queue — 2',
      '    4711 mlops-0a1b2c3d — RUNNING · 1:02 on node01',
      '    4712 mlops-9f8e7d6c — PENDING · (Resources)',
      '  Runs — 2',
      '    train-1 — RUNNING',
      '    train-2 — FINISHED',
      'k8s — kubernetes · context prod',
      '  GPUs — 1 nvidia.com/gpu per run',
      '  Queue — 1',
      '    mlops-0123456789ab run-k — RUNNING',
    ]);
    assert.equal(tree[1].state, 'error');
    const clusterRuns = tree[2].children!.find((n) => n.label === 'Runs')!.children!;
    assert.deepEqual(clusterRuns.map((r) => [r.runId, r.contextValue]), [['a'.repeat(32), 'targetRun.RUNNING'], ['b'.repeat(32), 'targetRun.FINISHED']]);
    assert.equal(tree[3].contextValue, 'target.kubernetes', 'no terminal for a Kubernetes target');
  });
});

describe('probing this machine with a STAND-IN nvidia-smi on PATH (no GPU here) that prints the H200 host\'s real outputs', () => {
  const saved = process.env.PATH;
  before(() => { process.env.PATH = `${path.join(fixtures, 'nvidia-smi-stand-in')}${path.delimiter}${saved}`; });
  after(() => { process.env.PATH = saved; });

  it('finds the host reachable with its GPU and the process on it', async () => {
    const status = await probeTarget({ name: 'local', type: 'local' });
    assert.equal(status.reachable, true, status.detail);
    assert.equal(status.detail, os.hostname());
    assert.deepEqual(render(targetTree([status.target], new Map([['local', status]]), [])), [
      `local — local · ${os.hostname()}`,
      '  GPUs — 1',
      '    GPU 0: NVIDIA H200 — 0 / 143771 MiB · 0 %',
      '      773 python3 — 966 MiB',
    ]);
  });
});
