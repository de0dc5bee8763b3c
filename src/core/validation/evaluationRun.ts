import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelRegistry, ModelVersion } from '../registry/registry';
import type { SnapshotStore } from '../snapshots';
import { EVENT_SCHEMA_VERSION, type NewRunEvent } from '../tracking/events';
import { appendEvents, newRunId } from '../tracking/eventWriter';
import type { Tracking } from '../tracking/tracking';
import { fileDigest } from '../workspace/digest';
import { currentUser } from '../workspace/user';
import type { Evaluation } from './evaluate';
import { OnnxModel } from './onnxModel';

/** Evaluation runs live in this experiment, tagged with the model version they judged. */
export const EVALUATIONS_EXPERIMENT = 'Evaluations';
const MODEL_TAG = 'mlops.evaluation.model';
const VERSION_TAG = 'mlops.evaluation.version';
const ARTIFACT = 'evaluation.json';

/** A model to evaluate: a registered version (read from its snapshot) or an .onnx file. */
export interface ModelRef { label: string; version?: ModelVersion; file?: string }

/** `name:3`, `name@champion` or `name 3` → a registered version; anything ending in .onnx → a file. */
export function resolveModel(registry: ModelRegistry, root: string, spec: string, ref?: string): ModelRef {
  if (!ref && /\.onnx$/i.test(spec)) {
    const file = path.resolve(root, spec);
    if (!fs.existsSync(file)) throw new Error(`${spec}: no such model file.`);
    return { label: spec, file };
  }
  const m = ref ? [spec, ref] : /^([^:@]+)[:@](.+)$/.exec(spec)?.slice(1);
  if (!m) throw new Error(`"${spec}" names no model version: use <model>:<version>, <model>@<alias> or a .onnx file.`);
  const version = registry.version(m[0], m[1]);
  return { label: `${version.model} v${version.version}`, version };
}

/** Loads the ONNX model of a version from its snapshot (the registered bytes, whatever the workspace holds now). */
export async function loadModel(snapshots: SnapshotStore, model: ModelRef): Promise<OnnxModel> {
  if (model.file) return OnnxModel.load(model.file);
  const v = model.version!;
  if (v.format.framework !== 'onnx') throw new Error(`${model.label} is a ${v.format.framework} model; evaluation runs ONNX models (export it with torch.onnx.export or skl2onnx).`);
  let file = v.path;
  if (!file.endsWith('.onnx')) {
    const inside = (await snapshots.show(v.snapshot)).files.find((f) => f.path.startsWith(`${v.path}/`) && f.path.endsWith('.onnx'));
    if (!inside) throw new Error(`${model.label}: its snapshot holds no .onnx file under ${v.path}.`);
    file = inside.path;
  }
  return OnnxModel.load(file, await snapshots.readFile(v.snapshot, file));
}

/** Records an evaluation as a finished tracked run linked to the model version; returns the run id. */
export async function recordEvaluation(tracking: Tracking, model: ModelRef, evaluation: Evaluation, params: Record<string, string>): Promise<string> {
  const { layout } = tracking;
  const runId = newRunId();
  const artifacts = layout.artifactsDir(runId);
  fs.mkdirSync(artifacts, { recursive: true });
  const artifact = path.join(artifacts, ARTIFACT);
  fs.writeFileSync(artifact, JSON.stringify(evaluation, null, 1));
  const now = Date.now();
  const events: NewRunEvent[] = [
    { type: 'run_start', schema: EVENT_SCHEMA_VERSION, run_id: runId, name: `evaluate ${model.label}`, experiment: EVALUATIONS_EXPERIMENT, source: 'command', time: now },
    { type: 'capture', capture: { argv: process.argv.slice(1), cwd: process.cwd(), pid: process.pid, user: currentUser() } },
    ...Object.entries({ ...params, model: model.version?.model ?? model.label, rows: String(evaluation.rows), task: evaluation.task }).map(([key, value]): NewRunEvent => ({ type: 'param', key, value })),
    ...Object.entries(evaluation.metrics).filter(([, v]) => Number.isFinite(v)).map(([key, value]): NewRunEvent => ({ type: 'metric', key, value, step: 0 })),
    ...(model.version ? [
      { type: 'tag', key: MODEL_TAG, value: model.version.model } as NewRunEvent,
      { type: 'tag', key: VERSION_TAG, value: String(model.version.version) } as NewRunEvent,
    ] : []),
    { type: 'artifact', path: ARTIFACT, ...(await fileDigest(artifact)) },
    { type: 'run_end', status: 'FINISHED', exit_code: 0 },
  ];
  appendEvents(layout.eventsFile(runId), events);
  tracking.refresh([runId]);
  return runId;
}

/** The newest recorded evaluation of a model version, with its run id; undefined when it has none. */
export function latestEvaluation(tracking: Tracking, model: string, version: number): { runId: string; evaluation: Evaluation } | undefined {
  const runs = tracking.listRuns({ experiment: EVALUATIONS_EXPERIMENT }).filter((r) => r.status === 'FINISHED');
  if (!runs.length) return undefined;
  const tags = tracking.tagsOf(runs.map((r) => r.id));
  const mine = runs.filter((r) => tags.get(r.id)?.[MODEL_TAG] === model && tags.get(r.id)?.[VERSION_TAG] === String(version))
    .sort((a, b) => (b.start_time ?? 0) - (a.start_time ?? 0));
  for (const run of mine) {
    try {
      return { runId: run.id, evaluation: JSON.parse(fs.readFileSync(path.join(tracking.layout.artifactsDir(run.id), ARTIFACT), 'utf8')) as Evaluation };
    } catch {
      // Its artifact is gone (deleted by hand): an older evaluation may still stand.
    }
  }
  return undefined;
}
