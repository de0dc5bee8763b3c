import type { NodeGpus } from './clusterGpus';
import type { RunStatus } from '../tracking/events';
import type { Tracking } from '../tracking/tracking';
import type { TargetStatus } from './targetStatus';
import type { Target } from './targets';

/** A run that went to a target (its `mlops.target` tag). */
export interface TargetRun { id: string; name: string; status: RunStatus; target: string }

/**
 * One row of the Targets view, free of VS Code so its content is testable on its own:
 * `icon` is a codicon name, `state` picks its colour, `contextValue` the row's actions.
 */
export interface TargetTreeNode {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  state?: 'ok' | 'error' | 'warning';
  contextValue?: string;
  /** The target the row belongs to, and the run it is (for Cancel). */
  target: string;
  runId?: string;
  children?: TargetTreeNode[];
}

const ICONS: Record<Target['type'], string> = { local: 'device-desktop', ssh: 'vm', slurm: 'server-environment', kubernetes: 'cloud' };

/** Whether Open Terminal has a shell to open for the target: this machine, an ssh host, a Slurm submit host. */
export function hasTerminal(t: Target): boolean {
  return t.type === 'local' || t.type === 'ssh' || (t.type === 'slurm' && !!t.host);
}

/** The view's rows: each target (probed or still being checked), its GPUs, queue and runs. */
export function targetTree(targets: Target[], statuses: ReadonlyMap<string, TargetStatus>, runs: TargetRun[]): TargetTreeNode[] {
  return targets.map((t) => targetNode(t, statuses.get(t.name), runs.filter((r) => r.target === t.name)));
}

function targetNode(t: Target, s: TargetStatus | undefined, runs: TargetRun[]): TargetTreeNode {
  const base = `target:${t.name}`;
  const node: TargetTreeNode = {
    id: base, label: t.name, icon: ICONS[t.type], target: t.name,
    contextValue: `target.${t.type}${hasTerminal(t) ? '.terminal' : ''}`,
    description: `${t.type} · ${!s ? 'checking…' : s.reachable ? s.detail : 'unreachable'}`,
    state: !s ? undefined : !s.reachable ? 'error' : s.problems.length ? 'warning' : 'ok',
    tooltip: s && !s.reachable ? s.detail : undefined,
    children: [],
  };
  const children = node.children!;
  if (s && !s.reachable) children.push({ id: `${base}:error`, label: 'Cannot reach it', description: s.detail, tooltip: s.detail, icon: 'error', state: 'error', target: t.name });
  for (const [i, p] of (s?.problems ?? []).entries()) children.push({ id: `${base}:problem:${i}`, label: 'Problem', description: p, tooltip: p, icon: 'warning', state: 'warning', target: t.name });
  if (s?.gpus?.length) {
    children.push({
      id: `${base}:gpus`, label: 'GPUs', description: String(s.gpus.length), icon: 'circuit-board', target: t.name,
      children: s.gpus.map((g) => ({
        id: `${base}:gpu:${g.index}`, label: `GPU ${g.index}: ${g.name ?? 'unknown'}`, icon: 'pulse', target: t.name,
        description: `${g.memory_used_mib ?? '?'} / ${g.memory_total_mib ?? '?'} MiB · ${g.utilization_gpu_pct ?? '?'} %`,
        tooltip: [
          `${g.name ?? 'GPU'} (${g.uuid ?? `index ${g.index}`})`, `memory ${g.memory_used_mib ?? '?'} of ${g.memory_total_mib ?? '?'} MiB used`,
          `utilisation ${g.utilization_gpu_pct ?? '?'} %`, `power ${g.power_draw_w ?? '?'} of ${g.power_limit_w ?? '?'} W`,
          `temperature ${g.temperature_c ?? '?'} °C`, `driver ${g.driver_version ?? '?'}`,
        ].join('\n'),
        children: g.processes.map((p) => ({
          id: `${base}:gpu:${g.index}:pid:${p.pid}`, label: `${p.pid} ${p.name}`, description: `${p.used_memory_mib ?? '?'} MiB`, icon: 'gear', target: t.name,
        })),
      })),
    });
  } else if (s?.nodes) {
    const total = s.nodes.reduce((sum, n) => sum + n.gpus, 0);
    children.push({
      id: `${base}:gpus`, label: 'GPUs', description: [`${total} on ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}`, s.gpuNote].filter(Boolean).join(' · '),
      icon: 'circuit-board', target: t.name,
      children: s.nodes.map((n) => ({ id: `${base}:node:${n.node}`, label: n.node, description: nodeGpusText(n), icon: 'server', target: t.name })),
    });
  } else if (s?.reachable) {
    children.push({ id: `${base}:gpus`, label: 'GPUs', description: s.gpus ? 'nvidia-smi lists none' : s.gpuNote ?? 'none', icon: 'circuit-board', target: t.name });
  }
  if (s?.queue) {
    children.push({
      id: `${base}:queue`, label: 'Queue', description: s.queue.length ? String(s.queue.length) : 'empty', icon: 'list-ordered', target: t.name,
      children: s.queue.map((q) => ({ id: `${base}:queue:${q.id}`, label: `${q.id} ${q.name}`, description: [q.state, q.detail].filter(Boolean).join(' · '), icon: 'watch', target: t.name })),
    });
  }
  if (runs.length) {
    children.push({
      id: `${base}:runs`, label: 'Runs', description: String(runs.length), icon: 'beaker', target: t.name,
      children: runs.map((r) => ({
        id: `${base}:run:${r.id}`, label: r.name, description: r.status, icon: RUN_ICONS[r.status], target: t.name, runId: r.id,
        state: r.status === 'FAILED' ? 'error' : r.status === 'FINISHED' ? 'ok' : undefined,
        contextValue: `targetRun.${r.status}`,
      })),
    });
  }
  return node;
}

/** One node's GPUs in a line: "4 × h200 · 1 in use · mix". */
export function nodeGpusText(n: NodeGpus): string {
  return [
    `${n.gpus}${n.models.length ? ` × ${n.models.join(', ')}` : ''} GPU${n.gpus === 1 ? '' : 's'}`,
    n.used !== undefined && `${n.used} in use`, n.allocatable !== undefined && `${n.allocatable} allocatable`, n.state,
  ].filter(Boolean).join(' · ');
}

const RUN_ICONS: Record<RunStatus, string> = { RUNNING: 'sync~spin', FINISHED: 'pass', FAILED: 'error', KILLED: 'circle-slash' };

/** The runs that went to a target, from the index's `mlops.target` tags, newest first. */
export function targetRuns(tracking: Pick<Tracking, 'query'>): TargetRun[] {
  return tracking.query(
    `SELECT r.id AS id, r.name AS name, r.status AS status, t.value AS target FROM runs r JOIN tags t ON t.run_id = r.id
     WHERE t.key = 'mlops.target' AND r.lifecycle = 'active' ORDER BY r.start_time DESC`,
  ) as unknown as TargetRun[];
}
