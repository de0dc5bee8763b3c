import { parseArgs } from 'node:util';
import { targetGpus, testTarget } from '../core/compute/inventory';
import { cancelRemoteRun } from '../core/compute/cancelRun';
import type { ShellTarget } from '../core/compute/shell';
import { findTarget, readTargets, type Target } from '../core/compute/targets';
import { print, printJson, table } from './output';
import { MlopsLayout } from '../core/workspace/layout';
import { UsageError } from './usage';

/** `mlops targets list | test <target> | gpus <target> [--json]`. */
export async function targetsCommand(root: string, sub: string | undefined, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (sub === 'list') {
    const targets = readTargets(root);
    if (values.json) printJson(targets);
    else print(table(['NAME', 'TYPE', 'WHERE'], targets.map((t) => [t.name, t.type, where(t)])));
    return 0;
  }
  if (sub !== 'test' && sub !== 'gpus') throw new UsageError(`Unknown "targets ${sub ?? ''}": use "targets list", "targets test <target>" or "targets gpus <target>".`);
  if (positionals.length !== 1) throw new UsageError(`targets ${sub} needs one target name: mlops targets ${sub} <target> [--json]`);
  const target = shellTarget(findTarget(root, positionals[0]));
  if (sub === 'test') {
    const check = await testTarget(target);
    if (values.json) printJson(check);
    else {
      print(`${target.name}: reached ${check.host}; python3 ${check.python ?? 'missing'}; tar ${check.tar ? 'yes' : 'missing'}; nvidia-smi ${check.nvidiaSmi ? 'yes' : 'no'}\n`);
      for (const p of check.problems) print(`problem: ${p}\n`);
    }
    return check.problems.length ? 1 : 0;
  }
  const { gpus } = await targetGpus(target);
  if (values.json) printJson(gpus);
  else if (!gpus.length) print(`${target.name}: nvidia-smi lists no GPUs.\n`);
  else {
    print(table(['GPU', 'MODEL', 'MEMORY USED/TOTAL', 'UTIL', 'PROCESSES'], gpus.map((g) => [
      String(g.index), g.name ?? '', `${g.memory_used_mib ?? '?'} / ${g.memory_total_mib ?? '?'} MiB`, `${g.utilization_gpu_pct ?? '?'} %`,
      g.processes.map((p) => `${p.pid} ${p.name} (${p.used_memory_mib ?? '?'} MiB)`).join(', ') || '-',
    ])));
  }
  return 0;
}

function where(t: Target): string {
  if (t.type === 'local') return 'this machine';
  if (t.type === 'kubernetes') {
    return [`kubectl ${t.context ? `context ${t.context}` : 'current context'}`, t.namespace && `namespace ${t.namespace}`, `image ${t.image}`, t.gpus && `${t.gpus} nvidia.com/gpu`].filter(Boolean).join(', ');
  }
  const config = t.config ? ` (ssh -F ${t.config})` : '';
  if (t.type === 'ssh') return t.host + config;
  return [t.host ? `sbatch on ${t.host}${config}` : 'sbatch here', t.partition && `partition ${t.partition}`, t.gpus && `gpus ${t.gpus}`].filter(Boolean).join(', ');
}

/** Targets that take shell commands; testing and inventory of a Slurm target are not supported yet. */
function shellTarget(t: Target): ShellTarget {
  if (t.type === 'kubernetes') throw new Error(`Target "${t.name}" is a Kubernetes target; "targets test" and "targets gpus" work on local and ssh targets only so far (runs work: mlops run --target ${t.name}).`);
  if (t.type === 'slurm') throw new Error(`Target "${t.name}" is a Slurm target; "targets test" and "targets gpus" work on local and ssh targets only so far (runs work: mlops run --target ${t.name}).`);
  return t;
}

/** `mlops runs cancel <run>`: ends a remote run on its target; its follower records it as KILLED. */
export async function runsCancel(root: string, argv: string[]): Promise<number> {
  if (argv.length !== 1) throw new UsageError('runs cancel needs one run id: mlops runs cancel <run-id>');
  const { runId, job } = await cancelRemoteRun(new MlopsLayout(root), argv[0]);
  print(`Cancelled run ${runId} on ${job.target} (${job.host}).\n`);
  return 0;
}
