import { shQuote } from './shell';
import type { KubernetesTarget } from './targets';

/** Where the job folder is in the container (an emptyDir), as runner.py's JOB. */
export const K8S_JOB_DIR = '/job';
export const K8S_CONTAINER = 'run';
/** How long the container waits for the code to arrive, and for the artifacts to be fetched, before giving up. */
const WAIT_SECONDS = 600;

export function jobName(runId: string): string {
  return `mlops-${runId.slice(0, 12)}`;
}

/**
 * The container's script. It waits for the code (shipped by `kubectl exec … tar -x` once the
 * pod runs), starts the command detached through runner.py (so `runner.py cancel` can end its group), then a follower whose framed lines are the
 * container's log (read back with `kubectl logs -f`), then waits for the artifacts to be fetched.
 */
function containerScript(command: string): string {
  const wait = (file: string, what: string) => `i=0; while [ ! -e "$MLOPS_JOB/${file}" ]; do sleep 1; i=$((i+1)); [ $i -lt ${WAIT_SECONDS} ] || { echo "${what}" >&2; exit ${file === 'shipped' ? 3 : 0}; }; done`;
  return [
    'mkdir -p "$MLOPS_JOB/run/artifacts"',
    wait('shipped', `mlops: the code never arrived in ${WAIT_SECONDS} s`),
    'export MLOPS_RUN_DIR="$MLOPS_JOB/run" MLOPS_DIR="$MLOPS_JOB/.mlops"',
    `python3 "$MLOPS_JOB/runner.py" start "$MLOPS_JOB" -- ${command}`,
    'python3 "$MLOPS_JOB/runner.py" follow "$MLOPS_JOB" 0 0',
    wait('collected', 'mlops: nobody fetched the artifacts; ending'),
  ].join('\n');
}

/**
 * The Job of one run: one pod, never restarted (a rerun is a new run), removed an hour after it
 * ends. GPUs are an extended resource, so `nvidia.com/gpu` goes in limits (and the same in requests).
 */
export function jobManifest(target: KubernetesTarget, runId: string, argv: string[], env: Record<string, string> = {}): Record<string, unknown> {
  const command = argv.map(shQuote).join(' ');
  const labels = { 'app.kubernetes.io/managed-by': 'mlops-workbench', 'mlops-workbench/run-id': runId };
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (target.cpus) requests.cpu = target.cpus;
  if (target.memory) requests.memory = limits.memory = target.memory;
  if (target.gpus) requests['nvidia.com/gpu'] = limits['nvidia.com/gpu'] = String(target.gpus);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(runId), labels, annotations: { 'mlops-workbench/target': target.name },
      ...(target.namespace ? { namespace: target.namespace } : {}),
    },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [{
            name: K8S_CONTAINER,
            image: target.image,
            command: ['sh', '-c', containerScript(command)],
            workingDir: K8S_JOB_DIR,
            env: [
              { name: 'MLOPS_JOB', value: K8S_JOB_DIR },
              { name: 'MLOPS_RUN_ID', value: runId },
              { name: 'PYTHONUNBUFFERED', value: '1' },
              ...Object.entries(env).map(([name, value]) => ({ name, value })),
            ],
            ...(Object.keys(requests).length ? { resources: { requests, ...(Object.keys(limits).length ? { limits } : {}) } } : {}),
            volumeMounts: [{ name: 'job', mountPath: K8S_JOB_DIR }],
          }],
          volumes: [{ name: 'job', emptyDir: {} }],
        },
      },
    },
  };
}
