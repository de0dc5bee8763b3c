import { kubectl, kubectlFailure } from './kubectl';
import { runOnTarget, shellOf, targetFailure } from './shell';
import type { KubernetesTarget, SlurmTarget } from './targets';

/** The GPUs of one node of a cluster, as its scheduler counts them (no nvidia-smi on a login host). */
export interface NodeGpus {
  node: string;
  /** Slurm's node state (idle, mix, alloc, drain…) or Ready / NotReady / SchedulingDisabled. */
  state: string;
  gpus: number;
  /** GPU models: GRES types on Slurm, the `nvidia.com/gpu.product` label on Kubernetes. */
  models: string[];
  /** GPUs held by jobs (Slurm's GresUsed). */
  used?: number;
  /** GPUs pods may request (Kubernetes' allocatable). */
  allocatable?: number;
  /** The Slurm partitions the node is in. */
  partitions?: string[];
}

// A wide field with a suffix: sinfo -O truncates to the field size (default 20), and GRES lists run longer.
const SINFO = 'sinfo -h -N -O "NodeHost:200|,StateCompact:40|,Gres:1000|,GresUsed:1000|,Partition:200|"';

/** The GPUs per node of a Slurm cluster, from sinfo's GRES on the submit host. */
export async function slurmNodeGpus(target: SlurmTarget): Promise<NodeGpus[]> {
  const shell = shellOf(target);
  const result = await runOnTarget(shell, SINFO);
  if (result.code !== 0) throw targetFailure(shell, result, 'sinfo');
  return parseSinfoGres(result.stdout);
}

/** sinfo lines `node|state|gres|gres used|partition|`; a node in several partitions is listed once per partition. */
export function parseSinfoGres(text: string): NodeGpus[] {
  const nodes = new Map<string, NodeGpus>();
  for (const line of text.split('\n')) {
    const [node, state, gres, used, partition] = line.split('|').map((f) => f.trim());
    if (!node || gres === undefined) continue;
    let entry = nodes.get(node);
    if (!entry) {
      const total = gpuGres(gres);
      entry = { node, state, gpus: total.count, models: total.models, used: gpuGres(used ?? '').count, partitions: [] };
      nodes.set(node, entry);
    }
    // sinfo marks the default partition with "*".
    if (partition) entry.partitions!.push(partition.replace(/\*$/, ''));
  }
  return [...nodes.values()];
}

/** Sums the `gpu` entries of a GRES list such as `gpu:a100:4(S:0-1),gpu:v100:2,mps:100` or `gpu:h200:1(IDX:0)`. */
function gpuGres(list: string): { count: number; models: string[] } {
  let count = 0;
  const models: string[] = [];
  // Commas also separate the socket/index lists inside parentheses: drop those first.
  for (const entry of list.replace(/\([^)]*\)/g, '').split(',')) {
    const parts = entry.trim().split(':');
    if (parts[0] !== 'gpu' || parts.length < 2) continue;
    const n = Number(parts[parts.length - 1]);
    if (!Number.isFinite(n)) continue;
    count += n;
    if (parts.length > 2 && !models.includes(parts[1])) models.push(parts[1]);
  }
  return { count, models };
}

interface NodeJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: { type: string; status: string }[];
  };
}

/** The `nvidia.com/gpu` of each node of a Kubernetes cluster (`kubectl get nodes -o json`). */
export async function kubernetesNodeGpus(target: KubernetesTarget): Promise<NodeGpus[]> {
  const got = await kubectl(target, ['get', 'nodes', '-o', 'json', '--request-timeout=15s']);
  if (got.code !== 0) throw kubectlFailure(target, got, 'kubectl get nodes');
  return parseKubernetesNodes(got.stdout);
}

export function parseKubernetesNodes(json: string): NodeGpus[] {
  return (JSON.parse(json) as { items: NodeJson[] }).items.map((n) => {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const product = n.metadata.labels?.['nvidia.com/gpu.product'];
    return {
      node: n.metadata.name,
      state: n.spec?.unschedulable ? 'SchedulingDisabled' : ready ? 'Ready' : 'NotReady',
      gpus: Number(n.status?.capacity?.['nvidia.com/gpu'] ?? 0),
      allocatable: Number(n.status?.allocatable?.['nvidia.com/gpu'] ?? 0),
      models: product ? [product] : [],
    };
  });
}
