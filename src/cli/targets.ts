import { parseArgs } from 'node:util';
import { cancelRemoteRun } from '../core/compute/cancelRun';
import { cleanTarget, cleanupSummary, surveyTarget, type TargetSurvey } from '../core/compute/targetCleanup';
import { formatBytes } from '../core/format';
import { probeTarget, type TargetStatus } from '../core/compute/targetStatus';
import { findTarget, readTargets, type Target } from '../core/compute/targets';
import { print, printJson, table } from './output';
import { MlopsLayout } from '../core/workspace/layout';
import { UsageError, wrongArguments } from './usage';

/** `mlops targets list | test <target> | gpus <target> | clean <target> [--json]`. */
export async function targetsCommand(root: string, sub: string | undefined, argv: string[]): Promise<number> {
  if (sub === 'clean') return clean(root, argv);
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (sub === 'list') {
    const targets = readTargets(root);
    if (values.json) printJson(targets);
    else print(table(['NAME', 'TYPE', 'WHERE', 'DECLARED IN'], targets.map((t) => [t.name, t.type, where(t), t.declaredIn ?? ''])));
    return 0;
  }
  if (sub !== 'test' && sub !== 'gpus') throw new UsageError(`Unknown "targets ${sub ?? ''}": use "targets list", "targets test <target>" or "targets gpus <target>".`);
  if (positionals.length !== 1) throw wrongArguments(`targets ${sub} needs one target name.`);
  // The same probe as the Targets view, so the terminal and the editor agree on every target type.
  const status = await probeTarget(findTarget(root, positionals[0]));
  if (!status.reachable) throw new Error(status.detail);
  return sub === 'test' ? printTest(status, !!values.json) : printGpus(status, !!values.json);
}

function printTest(s: TargetStatus, json: boolean): number {
  const { target, check, queue, nodes } = s;
  if (json) printJson({ target: target.name, type: target.type, reachable: s.reachable, detail: s.detail, ...check, problems: s.problems, queue, nodes, gpuNote: s.gpuNote });
  else {
    const shell = check && `python3 ${check.python ?? 'missing'}; tar ${check.tar ? 'yes' : 'missing'}${target.type === 'slurm' ? '' : `; nvidia-smi ${check.nvidiaSmi ? 'yes' : 'no'}`}`;
    const cluster = nodes && `${nodes.length} node${nodes.length === 1 ? '' : 's'} with ${nodes.reduce((sum, n) => sum + n.gpus, 0)} GPUs`;
    const jobs = queue && `${queue.length} ${target.type === 'slurm' ? 'job' : 'MLOps Job'}${queue.length === 1 ? '' : 's'}${target.type === 'slurm' ? ' of yours' : ''} in the queue`;
    print(`${target.name}: reached ${target.type === 'slurm' ? `submit host ${s.detail}` : s.detail}; ${[shell, cluster, jobs].filter(Boolean).join('; ')}\n`);
    if (nodes === undefined && s.gpuNote && target.type !== 'local' && target.type !== 'ssh') print(`note: ${s.gpuNote}\n`);
    for (const p of s.problems) print(`problem: ${p}\n`);
  }
  return s.problems.length ? 1 : 0;
}

/** GPUs from nvidia-smi on a host, or per node from the scheduler of a cluster. */
function printGpus(s: TargetStatus, json: boolean): number {
  const name = s.target.name;
  if (s.nodes) {
    if (json) printJson(s.nodes);
    else if (!s.nodes.length) print(`${name}: the cluster lists no nodes.\n`);
    else print(table(['NODE', 'STATE', 'GPUS', 'MODEL', s.target.type === 'slurm' ? 'IN USE' : 'ALLOCATABLE', ...(s.target.type === 'slurm' ? ['PARTITIONS'] : [])], s.nodes.map((n) => [
      n.node, n.state, String(n.gpus), n.models.join(', ') || '-', String(n.used ?? n.allocatable ?? '-'), ...(s.target.type === 'slurm' ? [n.partitions?.join(',') || '-'] : []),
    ])));
    return 0;
  }
  if (!s.gpus) throw new Error(`Target "${name}" lists no GPUs: ${s.gpuNote ?? 'it did not say why'}.`);
  const { gpus } = s;
  if (json) printJson(gpus);
  else if (!gpus.length) print(`${name}: nvidia-smi lists no GPUs.\n`);
  else {
    print(table(['GPU', 'MODEL', 'MEMORY USED/TOTAL', 'UTIL', 'PROCESSES'], gpus.map((g) => [
      String(g.index), g.name ?? '', `${g.memory_used_mib ?? '?'} / ${g.memory_total_mib ?? '?'} MiB`, `${g.utilization_gpu_pct ?? '?'} %`,
      g.processes.map((p) => `${p.pid} ${p.name} (${p.used_memory_mib ?? '?'} MiB)`).join(', ') || '-',
    ])));
  }
  return 0;
}

/** `mlops targets clean <target> [--older-than-days N] [--dry-run] [--json]`. */
async function clean(root: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, options: { json: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, 'older-than-days': { type: 'string', default: '7' } }, allowPositionals: true, strict: true,
  });
  if (positionals.length !== 1) throw wrongArguments('targets clean needs one target name.');
  const days = Number(values['older-than-days']);
  if (!(days >= 0)) throw wrongArguments(`--older-than-days takes a number of days (0 or more), not "${values['older-than-days']}".`);
  const layout = new MlopsLayout(root);
  const target = findTarget(root, positionals[0]);
  if (values['dry-run']) {
    const survey = await surveyTarget(layout, target, days);
    if (values.json) printJson(survey);
    else printSurvey(survey);
    return 0;
  }
  const done = await cleanTarget(layout, target, days);
  if (values.json) printJson(done);
  else {
    print(`${cleanupSummary(done)}\n`);
    for (const k of done.kept) print(`kept ${k.runId}: ${k.keep}\n`);
  }
  return 0;
}

function printSurvey(s: TargetSurvey): void {
  const going = s.jobs.filter((j) => !j.keep);
  print(`${s.target}: ${s.jobs.length} job folder${s.jobs.length === 1 ? '' : 's'} of this workspace's runs; ${going.length} would go (${formatBytes(going.reduce((n, j) => n + j.bytes, 0))} of their own files).\n`);
  print(`cache: ${s.cache.objects} files, ${formatBytes(s.cache.bytes)}; ${s.cache.unused} used by no job now (${formatBytes(s.cache.unusedBytes)}), and those the removed folders used would go too.\n`);
  if (s.others) print(`${s.others} other folder${s.others === 1 ? '' : 's'} in the workdir (other workspaces' runs) stay untouched.\n`);
  if (s.jobs.length) print(table(['RUN', 'OWN FILES', 'WOULD'], s.jobs.map((j) => [j.deleted ? `${j.runId} (deleted here)` : j.runId, formatBytes(j.bytes), j.keep ? `stay: ${j.keep}` : 'go'])));
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

/** `mlops runs cancel <run>`: ends a remote run on its target; its follower records it as KILLED. */
export async function runsCancel(root: string, argv: string[]): Promise<number> {
  if (argv.length !== 1) throw wrongArguments('runs cancel needs one run id.');
  const { runId, job } = await cancelRemoteRun(new MlopsLayout(root), argv[0]);
  print(`Cancelled run ${runId} on ${job.target} (${job.host}).\n`);
  return 0;
}
