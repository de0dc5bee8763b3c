import { durationMs } from '../monitoring/config';
import { servedModel } from '../serving/deployments';
import { ConfigError, readConfigDocument, readProjectConfig } from '../workspace/config';

/** How the challenger meets real traffic before it takes over. */
export interface RolloutConfig {
  /** shadow: it answers a mirror of every request, logged only; ab: it answers `weight` of the requests. */
  mode: 'shadow' | 'ab' | 'none';
  /** Requests it must answer before the switch. */
  requests: number;
  /** Share of traffic it answers in an A/B split. */
  weight: number;
  /** How long to wait for those requests (ms) before keeping the champion. */
  timeoutMs: number;
  /** Share of its answers that may fail; more keeps the champion. */
  maxErrorRate: number;
}

/** `retrain:` in mlops.yaml: what the retraining loop runs, judges and rolls out. */
export interface RetrainConfig {
  /** The registered model the loop makes new versions of. */
  model: string;
  /** What retrains: a pipeline stage (with what it depends on), the whole pipeline, or a plain command. */
  train: { kind: 'stage'; stage: string } | { kind: 'pipeline' } | { kind: 'cmd'; cmd: string };
  /** Where a `cmd` runs (an ssh or Slurm target of mlops.yaml); undefined: here. Pipeline stages run here. */
  target?: string;
  /** Paths snapshotted before training: the data the new version learns from. */
  data: string[];
  /** The model file training writes (workspace-relative), registered as the new version. */
  output: string;
  /** The holdout the gates judge on, and its label column. */
  holdout: { data: string; label: string; standardiseWith?: string };
  rollout: RolloutConfig;
  /** manual: a person approves the gate table before any traffic reaches the challenger. */
  approval: 'auto' | 'manual';
}

const EXAMPLE = `retrain:
  model: cancer
  cmd: python3 train.py          # or  stage: train  (a stage of stages:)  or  pipeline: all
  output: model.onnx
  holdout: {data: holdout.csv, label: target}
  rollout: {mode: shadow, requests: 200, timeout: 10m}`;

const ROLLOUT_DEFAULTS: RolloutConfig = { mode: 'shadow', requests: 100, weight: 0.1, timeoutMs: 10 * 60_000, maxErrorRate: 0.01 };

/** `where`: the file and the entry ("mlops.yaml: retrain", "mlops.yaml: retrain[2]"), for messages. */
function text(value: unknown, key: string, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !value.trim()) throw new ConfigError(`${where}.${key} must be a non-empty string, e.g.\n${EXAMPLE}`);
  return value.trim();
}

function rollout(value: unknown, where: string): RolloutConfig {
  if (value === undefined || value === null) return ROLLOUT_DEFAULTS;
  if (value === 'none') return { ...ROLLOUT_DEFAULTS, mode: 'none' };
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${where}.rollout is a mapping, e.g. {mode: shadow, requests: 200, timeout: 10m}, or "none".`);
  const r = value as Record<string, unknown>;
  const mode = r.mode ?? 'shadow';
  if (mode !== 'shadow' && mode !== 'ab' && mode !== 'none') throw new ConfigError(`${where}.rollout.mode is shadow, ab or none, not ${JSON.stringify(mode)}.`);
  const requests = r.requests ?? ROLLOUT_DEFAULTS.requests;
  if (typeof requests !== 'number' || !Number.isInteger(requests) || requests < 1) throw new ConfigError(`${where}.rollout.requests is a whole number ≥ 1 (requests the challenger answers before the switch).`);
  const weight = r.weight ?? ROLLOUT_DEFAULTS.weight;
  if (typeof weight !== 'number' || !(weight > 0 && weight < 1)) throw new ConfigError(`${where}.rollout.weight is the challenger's share of traffic in an A/B split, between 0 and 1 (e.g. 0.2).`);
  const timeoutMs = r.timeout === undefined ? ROLLOUT_DEFAULTS.timeoutMs : durationMs(String(r.timeout));
  if (timeoutMs === undefined) throw new ConfigError(`${where}.rollout.timeout is a duration: 90s, 10m, 1h.`);
  const maxErrorRate = r.max_error_rate ?? ROLLOUT_DEFAULTS.maxErrorRate;
  if (typeof maxErrorRate !== 'number' || !(maxErrorRate >= 0 && maxErrorRate < 1)) throw new ConfigError(`${where}.rollout.max_error_rate is a share from 0 to 1 (e.g. 0.01).`);
  return { mode, requests, weight, timeoutMs, maxErrorRate };
}

/**
 * `retrain:` of mlops.yaml: one mapping, or a list of them (one per model, each model once); a
 * clear error naming the key and an example when it is missing or wrong.
 */
export function readRetrainConfigs(root: string): RetrainConfig[] {
  const { file, doc } = readConfigDocument(root);
  const r = doc.retrain;
  if (r === undefined || r === null) throw new ConfigError(`${file} has no "retrain:" section: the retraining loop needs to know what to run. Add one, e.g.\n${EXAMPLE}`);
  const entries = Array.isArray(r) ? r.map((c, i) => parseEntry(c, `${file}: retrain[${i + 1}]`, root)) : [parseEntry(r, `${file}: retrain`, root)];
  const models = entries.map((c) => c.model);
  const twice = models.find((m, i) => models.indexOf(m) !== i);
  if (twice) throw new ConfigError(`${file}: retrain has two entries for model ${twice}; one loop per model (merge them, or name another model).`);
  return entries;
}

/** The `retrain:` entry for the deployment's model (`model`, `model:3`, `model@champion`); an error naming what retrain covers when none is. */
export function retrainConfigFor(root: string, servedTarget: string): RetrainConfig {
  const configs = readRetrainConfigs(root);
  const model = servedModel(servedTarget);
  const config = configs.find((c) => c.model === model);
  if (!config) {
    throw new ConfigError(`retrain: in mlops.yaml covers ${configs.map((c) => c.model).join(', ')}, not ${servedTarget}, which the deployment serves; ${model ? `add an entry with model: ${model} (retrain: can be a list, one entry per model)` : 'serve a registered model (mlops models register) to retrain it'}.`);
  }
  return config;
}

function parseEntry(r: unknown, where: string, root: string): RetrainConfig {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new ConfigError(`${where} must be a mapping, e.g.\n${EXAMPLE}`);
  const c = r as Record<string, unknown>;
  const model = text(c.model, 'model', where);
  if (!model) throw new ConfigError(`${where}.model names the registered model the loop retrains, e.g.\n${EXAMPLE}`);
  const stage = text(c.stage, 'stage', where);
  const pipeline = text(c.pipeline, 'pipeline', where);
  const cmd = text(c.cmd, 'cmd', where);
  if ([stage, pipeline, cmd].filter(Boolean).length !== 1) throw new ConfigError(`${where} needs exactly one of stage (a stage of stages:), pipeline: all, or cmd (a command), e.g.\n${EXAMPLE}`);
  if (c.target !== undefined && !cmd) throw new ConfigError(`${where}.target goes with cmd (pipeline stages run in the workspace); move the training command into cmd to run it on a target.`);
  if (pipeline && pipeline !== 'all') throw new ConfigError(`${where}.pipeline is "all" (every stage); for one stage write stage: ${pipeline}.`);
  const output = text(c.output, 'output', where);
  if (!output) throw new ConfigError(`${where}.output is the model file training writes (registered as the new version), e.g. output: model.onnx.`);
  const h = c.holdout as Record<string, unknown> | undefined;
  if (!h || typeof h !== 'object' || typeof h.data !== 'string' || typeof h.label !== 'string') {
    throw new ConfigError(`${where}.holdout names the data the gates judge on and its label column, e.g. holdout: {data: holdout.csv, label: target}.`);
  }
  const data = c.data === undefined ? readProjectConfig(root).data : (Array.isArray(c.data) ? c.data : [c.data]).map((p) => text(p, 'data', where)!);
  const approval = c.approval ?? 'auto';
  if (approval !== 'auto' && approval !== 'manual') throw new ConfigError(`${where}.approval is auto or manual, not ${JSON.stringify(approval)}.`);
  const target = text(c.target, 'target', where);
  return {
    model,
    train: stage ? { kind: 'stage', stage } : pipeline ? { kind: 'pipeline' } : { kind: 'cmd', cmd: cmd! },
    ...(target ? { target } : {}),
    data, output,
    holdout: { data: h.data, label: h.label, ...(typeof h.standardise === 'string' ? { standardiseWith: h.standardise } : {}) },
    rollout: rollout(c.rollout, where),
    approval,
  };
}
