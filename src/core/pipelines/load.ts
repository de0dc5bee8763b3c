import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDag, upstreamOf } from './dag';
import { parseStages, type PipelineProblem, type Stage } from './stages';

/** mlops.yaml's stages in dependency order, with each stage's upstream stages. */
export interface Pipeline {
  file: string;
  stages: Stage[];
  order: string[];
  byName: Map<string, Stage>;
  upstream: Map<string, string[]>;
}

/** What stops a pipeline (a cycle, an out claimed twice, a missing dep…), each with its line of mlops.yaml. */
export class PipelineError extends Error {
  constructor(readonly file: string, readonly problems: PipelineProblem[]) {
    super(problems.map((p) => `${file}:${p.line}: ${p.message}`).join('\n'));
    this.name = 'PipelineError';
  }
}

/** The pipeline of the workspace's mlops.yaml; a PipelineError naming every problem and its line. */
export function loadPipeline(root: string): Pipeline {
  const file = path.join(root, 'mlops.yaml');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // no mlops.yaml: no stages
  }
  const { stages, problems } = parseStages(text, 'mlops.yaml');
  const dag = buildDag(stages, root);
  const all = [...problems, ...dag.problems];
  if (all.length) throw new PipelineError(file, all);
  return { file, stages, order: dag.order, byName: new Map(stages.map((s) => [s.name, s])), upstream: upstreamOf(stages) };
}

/** Stages that depend, directly or not, on `name`. */
export function downstreamOf(p: Pipeline, name: string): Set<string> {
  const out = new Set<string>();
  for (const s of p.order) if ((p.upstream.get(s) ?? []).some((u) => u === name || out.has(u))) out.add(s);
  return out;
}

/** Stages that `name` depends on, directly or not. */
export function allUpstreamOf(p: Pipeline, name: string): Set<string> {
  const out = new Set<string>();
  const visit = (n: string): void => {
    for (const u of p.upstream.get(n) ?? []) if (!out.has(u)) { out.add(u); visit(u); }
  };
  visit(name);
  return out;
}

/**
 * The stages a run covers, in order: all of them; a stage with what it depends on; or, with
 * `downstream`, a stage and everything that depends on it.
 */
export function selectStages(p: Pipeline, stage?: string, downstream = false): string[] {
  if (stage === undefined) return [...p.order];
  if (!p.byName.has(stage)) {
    throw new PipelineError(p.file, [{ message: `No stage "${stage}" in mlops.yaml; its stages are ${p.order.join(', ') || '(none)'}.`, line: 1 }]);
  }
  const chosen = downstream ? downstreamOf(p, stage) : allUpstreamOf(p, stage);
  chosen.add(stage);
  return p.order.filter((s) => chosen.has(s));
}
