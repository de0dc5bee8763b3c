import type { SnapshotStore } from '../snapshots';
import type { Tracking } from '../tracking/tracking';
import type { ModelRegistry } from './registry';
import { producingRun } from './runTrailer';

/** One step of a lineage chain, with what came before it as children. */
export interface LineageNode {
  kind: 'model' | 'run' | 'code' | 'snapshot';
  id: string;
  label: string;
  detail: string;
  children: LineageNode[];
}

/**
 * Lineage of a model version: version → run → code commit (+ diff) and data
 * snapshots → the runs that produced those snapshots, as far back as known.
 */
export async function modelLineage(
  registry: ModelRegistry, tracking: Tracking, snapshots: SnapshotStore, model: string, version: string | number,
): Promise<LineageNode> {
  const v = registry.version(model, version);
  const seen = new Set<string>();

  const runNode = async (runId: string): Promise<LineageNode> => {
    const run = tracking.getRun(runId);
    if (!run) return { kind: 'run', id: runId, label: `run ${runId.slice(0, 8)}`, detail: 'not in this workspace (deleted?)', children: [] };
    const node: LineageNode = { kind: 'run', id: runId, label: `run ${run.name}`, detail: `${run.status} · ${run.id.slice(0, 8)}`, children: [] };
    if (seen.has(runId)) return { ...node, detail: `${node.detail} (shown above)` };
    seen.add(runId);
    const git = run.capture.git;
    if (git) {
      node.children.push({
        kind: 'code', id: git.commit, label: `code ${git.commit.slice(0, 10)}`,
        detail: `${git.branch}${git.dirty ? ` + uncommitted diff (${git.diff_artifact ?? 'git-diff.patch'})` : ''}`, children: [],
      });
    }
    for (const input of run.inputs) node.children.push(await snapshotNode(input.snapshot, input.paths.join(', ')));
    return node;
  };

  const snapshotNode = async (id: string, what: string): Promise<LineageNode> => {
    const node: LineageNode = { kind: 'snapshot', id, label: `data ${id.slice(0, 10)}`, detail: what, children: [] };
    try {
      const info = await snapshots.info(id);
      const producer = producingRun(info.message);
      if (producer) node.children.push(await runNode(producer));
    } catch (err) {
      node.detail = `${what} — ${(err as Error).message}`;
    }
    return node;
  };

  const root: LineageNode = {
    kind: 'model', id: `${v.model}/${v.version}`, label: `${v.model} v${v.version}`,
    detail: `${v.format.framework} · ${v.path} · snapshot ${v.snapshot.slice(0, 10)}`, children: [],
  };
  if (v.run_id) root.children.push(await runNode(v.run_id));
  return root;
}

/** The lineage as indented text, for the CLI and the output channel. */
export function lineageText(node: LineageNode, depth = 0): string {
  const line = `${'  '.repeat(depth)}${depth ? '← ' : ''}${node.label}  (${node.detail})`;
  return [line, ...node.children.map((c) => lineageText(c, depth + 1))].join('\n');
}
