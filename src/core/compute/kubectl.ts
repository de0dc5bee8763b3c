import { spawn, type ChildProcess } from 'node:child_process';
import { collectOutput, type ShellResult } from './shell';
import type { KubernetesTarget } from './targets';

/** kubectl's arguments for the target: its context and namespace first, then the command's. */
export function kubectlArgs(target: KubernetesTarget, args: string[]): string[] {
  return [
    ...(target.context ? ['--context', target.context] : []),
    ...(target.namespace ? ['--namespace', target.namespace] : []),
    ...args,
  ];
}

/** Starts kubectl for the target; the caller reads and writes its stdio. */
export function spawnKubectl(target: KubernetesTarget, args: string[]): ChildProcess {
  return spawn('kubectl', kubectlArgs(target, args), { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs kubectl for the target and collects its output; `input` goes to its stdin. */
export function kubectl(target: KubernetesTarget, args: string[], input?: NodeJS.ReadableStream | string): Promise<ShellResult> {
  return collectOutput(spawnKubectl(target, args), input, NO_KUBECTL);
}

const NO_KUBECTL = 'kubectl is not installed on this machine (or not on PATH). Install it (https://kubernetes.io/docs/tasks/tools/) and check that "kubectl get pods" works in a terminal.';

/** Says why a kubectl command for the target failed, in the user's terms. */
export function kubectlFailure(target: KubernetesTarget, result: ShellResult, what: string): Error {
  if (result.code === null) return new Error(`${what} on target "${target.name}": ${result.stderr}`);
  const reason = result.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${result.code}`;
  if (/connection refused|no such host|i\/o timeout|Unable to connect to the server|couldn't get current server API group list/i.test(result.stderr)) {
    return new Error(`Cannot reach the cluster of target "${target.name}"${target.context ? ` (context ${target.context})` : ''}: ${reason}. Check that "kubectl${target.context ? ` --context ${target.context}` : ''} get pods" works in a terminal.`);
  }
  return new Error(`${what} failed on target "${target.name}": ${reason}`);
}

/**
 * Checks that kubectl exists and knows the target's context (or has a current one), before
 * anything is created on the cluster: the two mistakes a first try usually makes.
 */
export async function checkKubectl(target: KubernetesTarget): Promise<string> {
  const contexts = await kubectl({ ...target, context: undefined, namespace: undefined }, ['config', 'get-contexts', '-o', 'name']);
  if (contexts.code !== 0) throw kubectlFailure(target, contexts, 'Reading the kubeconfig');
  const known = contexts.stdout.split('\n').map((c) => c.trim()).filter(Boolean);
  if (target.context) {
    if (!known.includes(target.context)) {
      throw new Error(`Target "${target.name}": kubectl has no context "${target.context}" (${known.length ? `known: ${known.join(', ')}` : 'the kubeconfig has none'}). Fix "context" in mlops.yaml, or add the cluster to your kubeconfig (KUBECONFIG or ~/.kube/config).`);
    }
    return target.context;
  }
  const current = await kubectl(target, ['config', 'current-context']);
  if (current.code !== 0 || !current.stdout.trim()) {
    throw new Error(`Target "${target.name}" names no "context" and kubectl has no current context${known.length ? ` (known: ${known.join(', ')})` : ''}. Set "context" in mlops.yaml or run "kubectl config use-context <name>".`);
  }
  return current.stdout.trim();
}
