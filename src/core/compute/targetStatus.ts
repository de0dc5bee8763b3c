import { kubernetesNodeGpus, slurmNodeGpus, type NodeGpus } from './clusterGpus';
import { targetGpus, testTarget, type GpuInventory, type TargetCheck } from './inventory';
import { checkKubectl, kubectl, kubectlFailure } from './kubectl';
import { runOnTarget, shellOf, targetFailure, type ShellTarget } from './shell';
import type { KubernetesTarget, SlurmTarget, Target } from './targets';

/** A job waiting or running on a Slurm or Kubernetes target. */
export interface QueueEntry { id: string; name: string; state: string; detail?: string }

/** What the Targets view shows of a target: whether it answers, its GPUs, its queue. */
export interface TargetStatus {
  target: Target;
  reachable: boolean;
  /** What answered (host name, kubectl context) or why nothing did. */
  detail: string;
  problems: string[];
  /** What the target's shell has (python3, tar, nvidia-smi): local, ssh and a Slurm submit host. */
  check?: TargetCheck;
  /** The GPUs with their processes, where the target's shell has nvidia-smi. */
  gpus?: GpuInventory['gpus'];
  /** The GPUs per node as a cluster's scheduler counts them (Slurm GRES, Kubernetes nvidia.com/gpu). */
  nodes?: NodeGpus[];
  /** Why no GPUs are listed, or how many a run asks for. */
  gpuNote?: string;
  /** Slurm jobs of this user, or the Kubernetes Jobs MLOps made. */
  queue?: QueueEntry[];
}

/** Reaches the target and gathers its status; never throws (an unreachable target is a status). */
export async function probeTarget(target: Target): Promise<TargetStatus> {
  try {
    if (target.type === 'kubernetes') return await probeKubernetes(target);
    const shell: ShellTarget = target.type === 'local' || target.type === 'ssh' ? target : shellOf(target);
    const check = await testTarget(shell);
    const status: TargetStatus = { target, reachable: true, detail: check.host, problems: check.problems, check };
    if (target.type === 'slurm') {
      status.queue = await slurmQueue(target);
      await clusterNodes(status, () => slurmNodeGpus(target));
    } else if (!check.nvidiaSmi) {
      status.gpuNote = 'no nvidia-smi on its PATH (no NVIDIA GPU or driver)';
    } else {
      try {
        status.gpus = (await targetGpus(shell)).gpus;
      } catch (err) {
        status.gpuNote = (err as Error).message;
      }
    }
    return status;
  } catch (err) {
    return { target, reachable: false, detail: (err as Error).message, problems: [] };
  }
}

/** The user's Slurm jobs from squeue on the submit host: id, name, state, and time used or why pending. */
export async function slurmQueue(target: SlurmTarget): Promise<QueueEntry[]> {
  const shell = shellOf(target);
  const result = await runOnTarget(shell, 'squeue -h -u "$(id -un)" -o "%i|%j|%T|%M|%R"');
  if (result.code !== 0) throw targetFailure(shell, result, 'squeue');
  return parseSqueue(result.stdout);
}

export function parseSqueue(text: string): QueueEntry[] {
  return text.split('\n').filter((l) => l.includes('|')).map((line) => {
    const [id, name, state, time, reason] = line.trim().split('|');
    return { id, name, state, detail: state === 'PENDING' ? reason : `${time} on ${reason}` };
  });
}

interface JobJson { metadata: { name: string; labels?: Record<string, string> }; status?: { active?: number; succeeded?: number; failed?: number } }

async function probeKubernetes(target: KubernetesTarget): Promise<TargetStatus> {
  const context = await checkKubectl(target);
  const got = await kubectl(target, ['get', 'jobs', '-l', 'app.kubernetes.io/managed-by=mlops-workbench', '-o', 'json', '--request-timeout=15s']);
  if (got.code !== 0) throw kubectlFailure(target, got, 'kubectl get jobs');
  const status: TargetStatus = {
    target, reachable: true, detail: `context ${context}${target.namespace ? `, namespace ${target.namespace}` : ''}`, problems: [],
    gpuNote: target.gpus ? `${target.gpus} nvidia.com/gpu per run` : 'runs ask for no GPU (set "gpus")',
    queue: parseKubernetesJobs(got.stdout),
  };
  await clusterNodes(status, () => kubernetesNodeGpus(target));
  return status;
}

/** Adds a cluster's GPUs per node; a cluster that will not say (no sinfo, RBAC forbids listing nodes) is still reachable. */
async function clusterNodes(status: TargetStatus, read: () => Promise<NodeGpus[]>): Promise<void> {
  try {
    status.nodes = await read();
  } catch (err) {
    status.gpuNote = `cannot list the nodes' GPUs: ${(err as Error).message}`;
  }
}

/** MLOps's Jobs from `kubectl get jobs -o json`, with their state and run. */
export function parseKubernetesJobs(json: string): QueueEntry[] {
  return (JSON.parse(json) as { items: JobJson[] }).items.map((j) => ({
    id: j.metadata.name,
    name: j.metadata.labels?.['mlops-workbench/run-id'] ?? j.metadata.name,
    state: j.status?.active ? 'RUNNING' : j.status?.succeeded ? 'COMPLETE' : j.status?.failed ? 'FAILED' : 'PENDING',
  }));
}
