import * as path from 'node:path';
import type { Project } from '../project';
import {
  compareRuns, matchRun, MODEL_SCHEMA, MODEL_VERSION_SCHEMA, parseFilterWith, parseOrderBy, type OrderKey, type RunView,
} from '../query/searchFilter';
import { RegistryError, type Model, type ModelVersion } from '../registry/registry';
import { artifactSegments } from './artifacts';
import { doesNotExist, invalidParameter, MlflowError } from './errors';
import { preview } from '../format';
import type { RequestMessage } from './request';
import { decodePageToken, encodePageToken, validateMaxResults } from './validation';

/**
 * MLflow's Model Registry REST API (mlflow/protos/model_registry.proto) over the workspace's
 * registry (docs/mlflow.md, "Model registry"): what MLflow clients register is an ordinary
 * version of `.mlops/registry.jsonl`, snapshotted, audited and shown in Data & Models with its
 * lineage. A version's files are a run's artifacts; `get-download-uri` points MLflow clients at
 * them through the proxied artifact API, so `models:/<name>@<alias>` and `models:/<name>/<n>` load.
 *
 * MLflow's stages are aliases here: "Staging" and "Production" are the aliases `staging` and
 * `production`; a transition moves that alias (so at most one version is in a stage), and
 * "Archived" or "None" removes the stage aliases from the version.
 */

interface KeyValue { key: string; value: string }

export interface ModelVersionJson {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id: string;
  current_stage: string;
  description: string;
  source: string;
  run_id: string;
  status: 'READY';
  tags: KeyValue[];
  aliases: string[];
}

export interface RegisteredModelJson {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  latest_versions: ModelVersionJson[];
  tags: KeyValue[];
  aliases: { alias: string; version: string }[];
}

/** Stage name (as MLflow spells it) → the alias that holds it. */
const STAGE_ALIASES: Readonly<Record<string, string>> = { Staging: 'staging', Production: 'production' };
const STAGES = ['None', 'Staging', 'Production', 'Archived'];
const MODELS_DEFAULT_MAX = 100;
const MODELS_MAX = 1000;
const VERSIONS_DEFAULT_MAX = 10_000;
const VERSIONS_MAX = 200_000;

type Handler = (api: RegistryApi, msg: RequestMessage) => unknown;

/** The registry's calls, keyed like the server's routes (`METHOD path-after-/api/2.0`). */
export const REGISTRY_ROUTES: readonly [string, Handler][] = [
  ['POST /mlflow/registered-models/create', (a, m) => a.createModel(m)],
  ['GET /mlflow/registered-models/get', (a, m) => a.getModel(m)],
  ['POST /mlflow/registered-models/rename', (a, m) => a.renameModel(m)],
  ['PATCH /mlflow/registered-models/update', (a, m) => a.updateModel(m)],
  ['DELETE /mlflow/registered-models/delete', (a, m) => a.deleteModel(m)],
  ['GET /mlflow/registered-models/search', (a, m) => a.searchModels(m)],
  ['POST /mlflow/registered-models/get-latest-versions', (a, m) => a.latestVersions(m)],
  ['GET /mlflow/registered-models/get-latest-versions', (a, m) => a.latestVersions(m)],
  ['POST /mlflow/registered-models/set-tag', (a, m) => a.setModelTag(m)],
  ['DELETE /mlflow/registered-models/delete-tag', (a, m) => a.deleteModelTag(m)],
  ['POST /mlflow/registered-models/alias', (a, m) => a.setAlias(m)],
  ['DELETE /mlflow/registered-models/alias', (a, m) => a.deleteAlias(m)],
  ['GET /mlflow/registered-models/alias', (a, m) => a.versionByAlias(m)],
  ['POST /mlflow/model-versions/create', (a, m) => a.createVersion(m)],
  ['GET /mlflow/model-versions/get', (a, m) => a.getVersion(m)],
  ['PATCH /mlflow/model-versions/update', (a, m) => a.updateVersion(m)],
  ['DELETE /mlflow/model-versions/delete', (a, m) => a.deleteVersion(m)],
  ['GET /mlflow/model-versions/search', (a, m) => a.searchVersions(m)],
  ['GET /mlflow/model-versions/get-download-uri', (a, m) => a.downloadUri(m)],
  ['POST /mlflow/model-versions/transition-stage', (a, m) => a.transitionStage(m)],
  ['POST /mlflow/model-versions/set-tag', (a, m) => a.setVersionTag(m)],
  ['DELETE /mlflow/model-versions/delete-tag', (a, m) => a.deleteVersionTag(m)],
];

export class RegistryApi {
  /** `experimentOf` gives the MLflow experiment id of a run (for its artifact URI), undefined when the run is unknown. */
  constructor(private readonly project: Project, private readonly experimentOf: (runId: string) => string | undefined) {}

  private get registry() {
    return this.project.registry;
  }

  // ---------------------------------------------------------------- registered models

  createModel(msg: RequestMessage): { registered_model: RegisteredModelJson } {
    const name = msg.requiredString('name');
    const description = msg.string('description') || undefined;
    const tags = tagsOf(msg);
    const model = mapped(() => this.registry.createModel(name, { description, tags }), `Registered Model (name=${name}) already exists.`);
    return { registered_model: this.modelJson(model) };
  }

  getModel(msg: RequestMessage): { registered_model: RegisteredModelJson } {
    return { registered_model: this.modelJson(this.model(msg.requiredString('name'))) };
  }

  renameModel(msg: RequestMessage): { registered_model: RegisteredModelJson } {
    const name = msg.requiredString('name');
    const to = msg.requiredString('new_name');
    this.model(name);
    const model = mapped(() => this.registry.renameModel(name, to), `Registered Model (name=${to}) already exists.`);
    return { registered_model: this.modelJson(model) };
  }

  updateModel(msg: RequestMessage): { registered_model: RegisteredModelJson } {
    const name = msg.requiredString('name');
    this.model(name);
    const description = msg.string('description');
    if (description !== undefined) mapped(() => this.registry.describe(name, null, description));
    return { registered_model: this.modelJson(this.model(name)) };
  }

  deleteModel(msg: RequestMessage): Record<string, never> {
    const name = msg.requiredString('name');
    this.model(name);
    mapped(() => this.registry.deleteModel(name));
    return {};
  }

  searchModels(msg: RequestMessage): { registered_models: RegisteredModelJson[]; next_page_token?: string } {
    const max = validateMaxResults(msg.int64('max_results'), MODELS_DEFAULT_MAX, MODELS_MAX);
    const filter = parseFilterWith(msg.string('filter'), MODEL_SCHEMA, {});
    const order = [...msg.strings('order_by').map((c) => parseOrderBy(c, MODEL_SCHEMA)), byAttribute('name', true)];
    const found = this.registry.models()
      .map((m) => ({ m, view: modelView(m) }))
      .filter(({ view }) => matchRun(filter, view))
      .sort((a, b) => compareRuns(a.view, b.view, order));
    return page(found.map(({ m }) => this.modelJson(m)), msg, max, 'registered_models');
  }

  latestVersions(msg: RequestMessage): { model_versions: ModelVersionJson[] } {
    const model = this.model(msg.requiredString('name'));
    const wanted = msg.strings('stages').map(stageName);
    const stages = wanted.length ? wanted : STAGES;
    return { model_versions: this.latestOf(model, stages) };
  }

  setModelTag(msg: RequestMessage): Record<string, never> {
    const name = msg.requiredString('name');
    const key = msg.requiredString('key');
    const value = msg.string('value') ?? '';
    this.model(name);
    mapped(() => this.registry.setTag(name, null, key, value));
    return {};
  }

  deleteModelTag(msg: RequestMessage): Record<string, never> {
    const name = msg.requiredString('name');
    const key = msg.requiredString('key');
    this.model(name);
    mapped(() => this.registry.setTag(name, null, key, null));
    return {};
  }

  setAlias(msg: RequestMessage): Record<string, never> {
    const name = msg.requiredString('name');
    const alias = msg.requiredString('alias');
    const version = this.version(name, msg.requiredString('version'));
    mapped(() => this.registry.setAlias(name, alias, version.version));
    return {};
  }

  deleteAlias(msg: RequestMessage): Record<string, never> {
    const name = msg.requiredString('name');
    const alias = msg.requiredString('alias');
    if (this.model(name).aliases[alias] === undefined) throw doesNotExist(`Registered model alias ${alias} not found.`);
    mapped(() => this.registry.setAlias(name, alias, null));
    return {};
  }

  versionByAlias(msg: RequestMessage): { model_version: ModelVersionJson } {
    const model = this.model(msg.requiredString('name'));
    const alias = msg.requiredString('alias');
    const number = model.aliases[alias];
    if (number === undefined) throw doesNotExist(`Registered model alias ${alias} not found.`);
    return { model_version: this.versionJson(model, this.version(model.name, String(number))) };
  }

  // ---------------------------------------------------------------- model versions

  /**
   * Registers a run's artifact (`source` as the client resolves `runs:/<run>/<path>`:
   * `mlflow-artifacts:/<exp>/<run>/artifacts/<path>`, or `runs:/` itself) as the next version.
   */
  async createVersion(msg: RequestMessage): Promise<{ model_version: ModelVersionJson }> {
    const name = msg.requiredString('name');
    const source = msg.requiredString('source');
    const runIdField = msg.string('run_id') || undefined;
    const description = msg.string('description') || undefined;
    const tags = tagsOf(msg);
    this.model(name);
    const { runId, artifact } = runArtifactOf(source);
    if (runIdField && runIdField !== runId) {
      throw invalidParameter(`The source '${preview(source)}' is an artifact of run ${runId}, not of run_id ${preview(runIdField)}.`);
    }
    if (this.experimentOf(runId) === undefined) throw doesNotExist(`Run '${runId}' not found`);
    const version = await mappedAsync(() => this.project.registerArtifact(name, runId, artifact, { description, tags }));
    return { model_version: this.versionJson(this.model(name), version) };
  }

  getVersion(msg: RequestMessage): { model_version: ModelVersionJson } {
    const name = msg.requiredString('name');
    const version = this.version(name, msg.requiredString('version'));
    return { model_version: this.versionJson(this.model(name), version) };
  }

  updateVersion(msg: RequestMessage): { model_version: ModelVersionJson } {
    const name = msg.requiredString('name');
    const number = this.version(name, msg.requiredString('version')).version;
    const description = msg.string('description');
    if (description !== undefined) mapped(() => this.registry.describe(name, number, description));
    return { model_version: this.versionJson(this.model(name), this.version(name, String(number))) };
  }

  deleteVersion(msg: RequestMessage): Record<string, never> {
    const name = msg.requiredString('name');
    const number = this.version(name, msg.requiredString('version')).version;
    // MLflow deletes a version's aliases with it; the workspace registry refuses while one points at it.
    const model = this.model(name);
    for (const [alias, v] of Object.entries(model.aliases)) if (v === number) mapped(() => this.registry.setAlias(name, alias, null));
    mapped(() => this.registry.deleteVersion(name, number));
    return {};
  }

  searchVersions(msg: RequestMessage): { model_versions: ModelVersionJson[]; next_page_token?: string } {
    const max = validateMaxResults(msg.int64('max_results'), VERSIONS_DEFAULT_MAX, VERSIONS_MAX);
    const filter = parseFilterWith(msg.string('filter'), MODEL_VERSION_SCHEMA, {});
    const order = [
      ...msg.strings('order_by').map((c) => parseOrderBy(c, MODEL_VERSION_SCHEMA)),
      byAttribute('name', true), byAttribute('version_number', false),
    ];
    const found = this.registry.models()
      .flatMap((m) => m.versions.map((v) => ({ json: this.versionJson(m, v), v })))
      .map(({ json, v }) => ({ json, view: versionView(json, v) }))
      .filter(({ view }) => matchRun(filter, view))
      .sort((a, b) => compareRuns(a.view, b.view, order));
    return page(found.map(({ json }) => json), msg, max, 'model_versions');
  }

  downloadUri(msg: RequestMessage): { artifact_uri: string } {
    const name = msg.requiredString('name');
    const version = this.version(name, msg.requiredString('version'));
    const uri = this.artifactUriOf(version);
    if (!uri) {
      throw invalidParameter(`Version ${version.version} of model '${name}' was registered from ${version.source}, not from a run's artifacts, so MLflow clients cannot download it. Restore its files with: mlops snapshots restore ${version.snapshot.slice(0, 12)}`);
    }
    return { artifact_uri: uri };
  }

  transitionStage(msg: RequestMessage): { model_version: ModelVersionJson } {
    const name = msg.requiredString('name');
    const number = this.version(name, msg.requiredString('version')).version;
    const stage = stageName(msg.requiredString('stage'));
    const model = this.model(name);
    const alias = STAGE_ALIASES[stage];
    if (alias) mapped(() => this.registry.setAlias(name, alias, number));
    for (const held of Object.values(STAGE_ALIASES)) {
      if (held !== alias && model.aliases[held] === number) mapped(() => this.registry.setAlias(name, held, null));
    }
    return { model_version: this.versionJson(this.model(name), this.version(name, String(number))) };
  }

  setVersionTag(msg: RequestMessage): Record<string, never> {
    const name = msg.requiredString('name');
    const number = this.version(name, msg.requiredString('version')).version;
    const key = msg.requiredString('key');
    const value = msg.string('value') ?? '';
    mapped(() => this.registry.setTag(name, number, key, value));
    return {};
  }

  deleteVersionTag(msg: RequestMessage): Record<string, never> {
    const name = msg.requiredString('name');
    const number = this.version(name, msg.requiredString('version')).version;
    const key = msg.requiredString('key');
    mapped(() => this.registry.setTag(name, number, key, null));
    return {};
  }

  // ---------------------------------------------------------------- shapes

  private model(name: string): Model {
    const model = this.registry.models().find((m) => m.name === name);
    if (!model) throw doesNotExist(`Registered Model with name=${name} not found`);
    return model;
  }

  private version(name: string, version: string): ModelVersion {
    if (!/^\d{1,15}$/.test(version)) throw invalidParameter(`Parameter 'version' must be an integer, got '${preview(version)}'.`);
    const found = this.model(name).versions.find((v) => v.version === Number(version));
    if (!found) throw doesNotExist(`Model Version (name=${name}, version=${version}) not found`);
    return found;
  }

  /** `mlflow-artifacts:/<exp>/<run>/artifacts/<path>` of a version registered from a run's artifacts. */
  private artifactUriOf(v: ModelVersion): string | undefined {
    if (!v.run_id) return undefined;
    const inArtifacts = path.relative(this.project.layout.artifactsDir(v.run_id), path.resolve(this.project.layout.root, v.source));
    if (inArtifacts.startsWith('..') || path.isAbsolute(inArtifacts)) return undefined;
    const experimentId = this.experimentOf(v.run_id);
    if (experimentId === undefined) return undefined;
    const rel = inArtifacts.split(path.sep).filter(Boolean).join('/');
    return `mlflow-artifacts:/${experimentId}/${v.run_id}/artifacts${rel ? `/${rel}` : ''}`;
  }

  private latestOf(model: Model, stages: readonly string[]): ModelVersionJson[] {
    const out: ModelVersionJson[] = [];
    for (const stage of stages) {
      const inStage = model.versions.filter((v) => stageOf(model, v.version) === stage);
      const latest = inStage.reduce<ModelVersion | undefined>((best, v) => (!best || v.version > best.version ? v : best), undefined);
      if (latest) out.push(this.versionJson(model, latest));
    }
    return out;
  }

  private modelJson(m: Model): RegisteredModelJson {
    return {
      name: m.name,
      creation_timestamp: m.created,
      last_updated_timestamp: m.updated,
      description: m.description ?? '',
      latest_versions: this.latestOf(m, STAGES),
      tags: keyValues(m.tags),
      aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version: String(version) })),
    };
  }

  private versionJson(m: Model, v: ModelVersion): ModelVersionJson {
    return {
      name: m.name,
      version: String(v.version),
      creation_timestamp: v.created,
      last_updated_timestamp: v.created,
      user_id: v.user,
      current_stage: stageOf(m, v.version),
      description: v.description ?? '',
      source: this.artifactUriOf(v) ?? v.source,
      run_id: v.run_id ?? '',
      status: 'READY',
      tags: keyValues(v.tags ?? {}),
      aliases: Object.entries(m.aliases).filter(([, n]) => n === v.version).map(([alias]) => alias),
    };
  }
}

/** A registry refusal as MLflow's error; `exists` may carry MLflow's own wording. */
function mapRegistryError(err: unknown, exists?: string): never {
  if (!(err instanceof RegistryError)) throw err;
  if (err.problem === 'missing') throw doesNotExist(err.message);
  if (err.problem === 'exists') throw new MlflowError('RESOURCE_ALREADY_EXISTS', exists ?? err.message);
  throw invalidParameter(err.message);
}

function mapped<T>(fn: () => T, exists?: string): T {
  try {
    return fn();
  } catch (err) {
    return mapRegistryError(err, exists);
  }
}

async function mappedAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return mapRegistryError(err);
  }
}

function tagsOf(msg: RequestMessage): Record<string, string> {
  return Object.fromEntries(msg.messages('tags').map((t) => [t.requiredString('key'), t.string('value') ?? '']));
}

function keyValues(tags: Record<string, string>): KeyValue[] {
  return Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
}

/** MLflow's stage names are case-insensitive. */
function stageName(stage: string): string {
  const found = STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
  if (!found) throw invalidParameter(`Invalid Model Version stage: ${preview(stage)}. Value must be one of ${STAGES.join(', ')}.`);
  return found;
}

function stageOf(model: Model, version: number): string {
  for (const [stage, alias] of Object.entries(STAGE_ALIASES)) if (model.aliases[alias] === version) return stage;
  return 'None';
}

/** The run and artifact path a version's source names: `runs:/<run>/<path>` or `mlflow-artifacts:/<exp>/<run>/artifacts/<path>`. */
function runArtifactOf(source: string): { runId: string; artifact: string } {
  const runs = /^runs:\/([0-9a-f]{32})(?:\/(.*))?$/.exec(source);
  const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/[^/]+\/([0-9a-f]{32})\/artifacts(?:\/(.*))?$/.exec(source);
  const match = runs ?? proxied;
  if (!match) {
    throw invalidParameter(`Invalid model version source '${preview(source)}': this registry keeps versions of a run's artifacts. Log the model in a run, then register runs:/<run-id>/<path> (mlflow.register_model does).`);
  }
  return { runId: match[1], artifact: artifactSegments(match[2] ?? '').join('/') };
}

function byAttribute(key: string, ascending: boolean): OrderKey {
  return { entity: 'attribute', key, ascending };
}

function modelView(m: Model): RunView {
  return {
    params: {}, metrics: {}, tags: m.tags,
    attributes: { name: m.name, creation_timestamp: m.created, last_updated_timestamp: m.updated },
  };
}

function versionView(json: ModelVersionJson, v: ModelVersion): RunView {
  return {
    params: {}, metrics: {}, tags: v.tags ?? {},
    attributes: {
      name: json.name, version_number: v.version, run_id: json.run_id, source_path: json.source,
      current_stage: json.current_stage, creation_timestamp: v.created, last_updated_timestamp: v.created,
    },
  };
}

function page<K extends string, T>(all: T[], msg: RequestMessage, max: number, key: K): Record<K, T[]> & { next_page_token?: string } {
  const offset = decodePageToken(msg.string('page_token'));
  const next = offset + max < all.length ? { next_page_token: encodePageToken(offset + max) } : {};
  return { [key]: all.slice(offset, offset + max), ...next } as Record<K, T[]> & { next_page_token?: string };
}
