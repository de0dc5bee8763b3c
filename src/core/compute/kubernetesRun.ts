import type { ChildProcess } from 'node:child_process';
import { checkKubectl, kubectl, kubectlFailure, spawnKubectl } from './kubectl';
import { jobManifest, jobName, K8S_CONTAINER, K8S_JOB_DIR } from './kubernetesJob';
import type { TarEntry } from './tarStream';
import { tarStream } from './tarStream';
import type { KubernetesTarget } from './targets';

/** A run's Job on a Kubernetes target: the Job, and the pod that runs it. */
export interface KubernetesJobRef { name: string; pod: string; node: string }

/** How the job ended, as runner.py's `exit` says it. */
export interface JobExit { code: number | null; signal?: number; error?: string }

const POLL_MS = 1000;
/** How long a pod may stay Pending (no node free, image pulling) before the start gives up. */
const START_TIMEOUT_MS = 5 * 60_000;
/** A pod that waits for one of these will not start without a change by the user. */
const HOPELESS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

interface PodJson {
  metadata: { name: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: { state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } } }[];
  };
}

/**
 * Creates the run's Job (kubectl apply), waits for its pod to run, and ships the job folder
 * into it as one tar stream (kubectl exec … tar -x). A failed start deletes the Job and says why.
 */
export async function submitKubernetesJob(
  target: KubernetesTarget, runId: string, argv: string[], files: TarEntry[], env: Record<string, string>, progress?: (line: string) => void,
): Promise<KubernetesJobRef> {
  await checkKubectl(target);
  const name = jobName(runId);
  const applied = await kubectl(target, ['apply', '-f', '-'], JSON.stringify(jobManifest(target, runId, argv, env)));
  if (applied.code !== 0) throw kubectlFailure(target, applied, 'kubectl apply');
  try {
    const pod = await runningPod(target, name, progress);
    const shipped = await kubectl(target, ['exec', '-i', pod.metadata.name, '-c', K8S_CONTAINER, '--', 'sh', '-c', 'tar -xf - -C "$MLOPS_JOB" && touch "$MLOPS_JOB/shipped"'], tarStream(files));
    if (shipped.code !== 0) throw kubectlFailure(target, shipped, 'Shipping the code (kubectl exec)');
    return { name, pod: pod.metadata.name, node: pod.spec?.nodeName || pod.metadata.name };
  } catch (err) {
    await kubectl(target, ['delete', 'job', name, '--ignore-not-found', '--wait=false']);
    throw err;
  }
}

async function runningPod(target: KubernetesTarget, name: string, progress?: (line: string) => void): Promise<PodJson> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let said = '';
  for (;;) {
    const got = await kubectl(target, ['get', 'pods', '-l', `job-name=${name}`, '-o', 'json']);
    if (got.code !== 0) throw kubectlFailure(target, got, 'kubectl get pods');
    const pod = (JSON.parse(got.stdout) as { items: PodJson[] }).items[0];
    const phase = pod?.status?.phase;
    if (phase === 'Running') return pod;
    const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason && HOPELESS.has(waiting.reason)) {
      throw new Error(`The pod of target "${target.name}" cannot start: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}. Check "image" in mlops.yaml${waiting.reason.includes('Image') ? ' and that the cluster may pull it' : ''}.`);
    }
    if (phase === 'Failed' || phase === 'Succeeded') throw new Error(`The pod of target "${target.name}" ended (${phase}) before the code was shipped; see: kubectl logs job/${name}`);
    const unscheduled = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const why = unscheduled?.message ?? waiting?.reason ?? phase ?? 'no pod yet';
    if (why !== said) progress?.(`mlops: waiting for the pod on target ${target.name}: ${why}\n`);
    said = why;
    if (Date.now() > deadline) {
      throw new Error(`The pod of target "${target.name}" did not start within ${START_TIMEOUT_MS / 60_000} minutes: ${why}. Ask for fewer resources (gpus, cpus, memory) or try when the cluster is less busy.`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The container's log: runner.py's framed lines from the start (the caller skips what it has). */
export function followKubernetesJob(target: KubernetesTarget, job: KubernetesJobRef): ChildProcess {
  return spawnKubectl(target, ['logs', '-f', job.pod, '-c', K8S_CONTAINER]);
}

/** The job's artifacts folder as a tar stream on stdout. */
export function kubernetesArtifacts(target: KubernetesTarget, job: KubernetesJobRef): ChildProcess {
  return spawnKubectl(target, ['exec', job.pod, '-c', K8S_CONTAINER, '--', 'tar', '-cf', '-', '-C', `${K8S_JOB_DIR}/run`, 'artifacts']);
}

/** Lets the container end now that its artifacts are home. */
export async function releaseKubernetesJob(target: KubernetesTarget, job: KubernetesJobRef): Promise<void> {
  await kubectl(target, ['exec', job.pod, '-c', K8S_CONTAINER, '--', 'touch', `${K8S_JOB_DIR}/collected`]);
}

/**
 * Why the job's log ended without an exit frame: the Job was deleted (cancelled: KILLED) or its pod
 * failed (evicted, out of memory); undefined when it is still there and the log can be read again.
 */
export async function kubernetesJobEnded(target: KubernetesTarget, job: KubernetesJobRef): Promise<JobExit | undefined> {
  const got = await kubectl(target, ['get', 'pod', job.pod, '-o', 'json']);
  if (got.code !== 0) {
    if (/NotFound|not found/.test(got.stderr)) return { code: null, signal: 15, error: `the Job ${job.name} was deleted on target "${target.name}"` };
    return undefined; // the cluster may be unreachable for a while: try again
  }
  const pod = JSON.parse(got.stdout) as PodJson;
  if (pod.status?.phase !== 'Failed') return undefined;
  const terminated = pod.status.containerStatuses?.[0]?.state?.terminated;
  return { code: null, error: `the pod ${job.pod} failed on target "${target.name}"${terminated?.reason ? `: ${terminated.reason}` : ''}` };
}

/**
 * Ends the run: runner.py cancel in the pod (TERM to the command's group, KILL after 3 s), so
 * the follower still brings its artifacts home; a pod that cannot be reached has its Job deleted.
 */
export async function cancelKubernetesJob(target: KubernetesTarget, job: KubernetesJobRef): Promise<void> {
  const cancelled = await kubectl(target, ['exec', job.pod, '-c', K8S_CONTAINER, '--', 'python3', `${K8S_JOB_DIR}/runner.py`, 'cancel', K8S_JOB_DIR]);
  if (cancelled.code === 0) return;
  const deleted = await kubectl(target, ['delete', 'job', job.name, '--ignore-not-found', '--wait=false']);
  if (deleted.code !== 0) throw kubectlFailure(target, deleted, 'kubectl delete job');
}
