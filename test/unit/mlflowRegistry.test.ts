// Conformance of the MLflow Model Registry API (mlflow/protos/model_registry.proto) over the
// workspace's registry: the requests MLflow 2.x's Python client sends for mlflow.register_model,
// MlflowClient's registry calls and mlflow.pyfunc.load_model("models:/…"), replayed against a
// running endpoint; what they register is an ordinary version with its lineage.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startMlflowServer, type MlflowEndpoint } from '../../src/core/mlflow';
import { Project } from '../../src/core/project';
import { modelLineage } from '../../src/core/registry/lineage';
import { api, assertError, send, suiteWorkspace } from './mlflowHttp';

const MODEL_FILES: Record<string, string> = {
  MLmodel: 'artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n',
  'model.pkl': 'pickled weights',
  'conda.yaml': 'dependencies: [python=3.11]\n',
};

describe('MLflow Model Registry API: what the MLflow client sends', () => {
  let project: Project;
  let ep: MlflowEndpoint;
  let experimentId: string;
  let runId: string;
  const layout = suiteWorkspace();

  before(async () => {
    project = await Project.open(layout.root);
    ep = await startMlflowServer(project.tracking, { project });
    experimentId = (await send(ep, 'POST', api('experiments/create'), { body: { name: 'cancer' } })).json.experiment_id;
    runId = (await send(ep, 'POST', api('runs/create'), { body: { experiment_id: experimentId, run_name: 'rf', start_time: Date.now() } })).json.run.info.run_id;
    await send(ep, 'POST', api('runs/log-metric'), { body: { run_id: runId, key: 'acc', value: 0.93, timestamp: Date.now(), step: 0 } });
    // mlflow.sklearn.log_model: one PUT per file of the model folder.
    for (const [name, content] of Object.entries(MODEL_FILES)) {
      const r = await send(ep, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/${name}`, { raw: content });
      assert.equal(r.status, 200, r.text);
    }
    await send(ep, 'POST', api('runs/update'), { body: { run_id: runId, status: 'FINISHED', end_time: Date.now() } });
  });
  after(async () => {
    await ep.stop();
    project.close();
    fs.rmSync(layout.root, { recursive: true, force: true });
  });

  const get = (p: string, query: Record<string, string>) => send(ep, 'GET', `${api(p)}?${new URLSearchParams(query)}`);

  it('mlflow.register_model("runs:/<run>/model", "clf"): a version of the workspace registry, with its run, metrics and lineage', async () => {
    // register_model resolves runs:/ through get_run's artifact_uri, creates the model (tolerating
    // RESOURCE_ALREADY_EXISTS), creates the version, then polls get until READY.
    const run = await get('runs/get', { run_id: runId });
    const source = `${run.json.run.info.artifact_uri}/model`;
    const created = await send(ep, 'POST', api('registered-models/create'), { body: { name: 'clf' } });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.registered_model.name, 'clf');
    assert.equal(typeof created.json.registered_model.creation_timestamp, 'number');
    assertError(await send(ep, 'POST', api('registered-models/create'), { body: { name: 'clf' } }), 400, 'RESOURCE_ALREADY_EXISTS', 'a second create');
    const version = await send(ep, 'POST', api('model-versions/create'), { body: { name: 'clf', source, run_id: runId } });
    assert.equal(version.status, 200, version.text);
    const mv = version.json.model_version;
    assert.deepEqual([mv.name, mv.version, mv.run_id, mv.status, mv.current_stage, mv.source], ['clf', '1', runId, 'READY', 'None', source]);
    const polled = await get('model-versions/get', { name: 'clf', version: '1' });
    assert.equal(polled.json.model_version.status, 'READY');

    // The workspace registry (Data & Models view) has it, snapshotted, with the run's metrics and lineage.
    const [stored] = project.registry.model('clf').versions;
    assert.deepEqual([stored.version, stored.run_id, stored.metrics], [1, runId, { acc: 0.93 }]);
    assert.equal(stored.format.framework, 'mlflow');
    const { files } = await project.snapshots.show(stored.snapshot);
    assert.deepEqual(files.map((f) => f.path).sort(), ['model/MLmodel', 'model/conda.yaml', 'model/model.pkl']);
    const lineage = await modelLineage(project.registry, project.tracking, project.snapshots, 'clf', 1);
    assert.deepEqual(lineage.children.map((c) => [c.kind, c.id]), [['run', runId]]);
    assert.ok(project.audit.entries().some((e) => e.action === 'register' && e.subject.includes('model:clf/1')));
  });

  it('aliases: set, get_model_version_by_alias, and models:/clf@champion and models:/clf/1 load through get-download-uri and the artifact API', async () => {
    const set = await send(ep, 'POST', api('registered-models/alias'), { body: { name: 'clf', alias: 'champion', version: '1' } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.json, {});
    assert.deepEqual(project.registry.model('clf').aliases, { champion: 1 });
    const byAlias = await get('registered-models/alias', { name: 'clf', alias: 'champion' });
    assert.equal(byAlias.json.model_version.version, '1');
    assert.deepEqual(byAlias.json.model_version.aliases, ['champion']);
    assert.deepEqual((await get('registered-models/get', { name: 'clf' })).json.registered_model.aliases, [{ alias: 'champion', version: '1' }]);

    // pyfunc.load_model("models:/clf@champion"): alias → version → download URI → list → download each file.
    for (const version of [byAlias.json.model_version.version, '1']) {
      const uri = (await get('model-versions/get-download-uri', { name: 'clf', version })).json.artifact_uri as string;
      assert.equal(uri, `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`);
      const rel = uri.slice('mlflow-artifacts:/'.length);
      const listing = await send(ep, 'GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(rel)}`);
      assert.deepEqual(listing.json.files.map((f: { path: string }) => f.path).sort(), Object.keys(MODEL_FILES).sort());
      for (const name of Object.keys(MODEL_FILES)) {
        const file = await send(ep, 'GET', `/api/2.0/mlflow-artifacts/artifacts/${rel}/${name}`);
        assert.equal(file.text, MODEL_FILES[name], name);
      }
    }
    assertError(await get('registered-models/alias', { name: 'clf', alias: 'nope' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'an unknown alias');
  });

  it('tags and descriptions on models and versions; search with MLflow filters', async () => {
    const ok = async (method: string, p: string, body: object) => {
      const r = await send(ep, method, api(p), { body });
      assert.equal(r.status, 200, `${method} ${p}: ${r.text}`);
      return r.json;
    };
    await ok('POST', 'registered-models/set-tag', { name: 'clf', key: 'team', value: 'vision' });
    await ok('POST', 'registered-models/set-tag', { name: 'clf', key: 'tmp', value: 'x' });
    await ok('DELETE', 'registered-models/delete-tag', { name: 'clf', key: 'tmp' });
    const updated = await ok('PATCH', 'registered-models/update', { name: 'clf', description: 'Random forest on the cancer data' });
    assert.equal(updated.registered_model.description, 'Random forest on the cancer data');
    await ok('POST', 'model-versions/set-tag', { name: 'clf', version: '1', key: 'validated', value: 'yes' });
    const mv = await ok('PATCH', 'model-versions/update', { name: 'clf', version: '1', description: 'first cut' });
    assert.equal(mv.model_version.description, 'first cut');
    assert.deepEqual(mv.model_version.tags, [{ key: 'validated', value: 'yes' }]);
    const model = (await get('registered-models/get', { name: 'clf' })).json.registered_model;
    assert.deepEqual(model.tags, [{ key: 'team', value: 'vision' }]);
    assert.deepEqual(model.latest_versions.map((v: { version: string }) => v.version), ['1']);
    assert.equal(project.registry.model('clf').description, 'Random forest on the cancer data', 'kept in the workspace registry');

    await ok('POST', 'registered-models/create', { name: 'other', tags: [{ key: 'team', value: 'nlp' }] });
    const names = async (filter: string) => (await get('registered-models/search', { filter })).json.registered_models.map((m: { name: string }) => m.name);
    assert.deepEqual(await names("name LIKE 'cl%'"), ['clf']);
    assert.deepEqual(await names("tags.team = 'nlp'"), ['other']);
    assert.deepEqual(await names(''), ['clf', 'other']);
    const versions = async (filter: string) => (await get('model-versions/search', { filter })).json.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`);
    assert.deepEqual(await versions("name = 'clf'"), ['clf/1']);
    assert.deepEqual(await versions(`run_id = '${runId}'`), ['clf/1']);
    assert.deepEqual(await versions("tags.validated = 'yes'"), ['clf/1']);
    assertError(await get('registered-models/search', { filter: 'name >> 1' }), 400, 'INVALID_PARAMETER_VALUE', 'a bad filter');
  });

  it('stages are aliases: transition_model_version_stage moves "production", get_latest_versions reads it', async () => {
    const r = await send(ep, 'POST', api('model-versions/transition-stage'), { body: { name: 'clf', version: '1', stage: 'production', archive_existing_versions: true } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.model_version.current_stage, 'Production');
    assert.equal(project.registry.model('clf').aliases.production, 1);
    const latest = await send(ep, 'POST', api('registered-models/get-latest-versions'), { body: { name: 'clf', stages: ['Production'] } });
    assert.deepEqual(latest.json.model_versions.map((v: { version: string }) => v.version), ['1']);
    const archived = await send(ep, 'POST', api('model-versions/transition-stage'), { body: { name: 'clf', version: '1', stage: 'Archived', archive_existing_versions: false } });
    assert.equal(archived.json.model_version.current_stage, 'None');
    assert.equal(project.registry.model('clf').aliases.production, undefined);
    assertError(await send(ep, 'POST', api('model-versions/transition-stage'), { body: { name: 'clf', version: '1', stage: 'Shipped', archive_existing_versions: false } }), 400, 'INVALID_PARAMETER_VALUE', 'an unknown stage');
  });

  it('rename, delete alias, delete version and delete model', async () => {
    const v2 = await send(ep, 'POST', api('model-versions/create'), { body: { name: 'clf', source: `runs:/${runId}/model/model.pkl`, run_id: runId } });
    assert.equal(v2.json.model_version.version, '2', v2.text);
    const renamed = await send(ep, 'POST', api('registered-models/rename'), { body: { name: 'clf', new_name: 'cancer-clf' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.json.registered_model.name, 'cancer-clf');
    assertError(await get('registered-models/get', { name: 'clf' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'the old name');
    assert.deepEqual(project.registry.model('cancer-clf').versions.map((v) => v.version), [1, 2]);
    assert.deepEqual(project.registry.model('cancer-clf').aliases, { champion: 1 });

    assert.equal((await send(ep, 'DELETE', api('registered-models/alias'), { body: { name: 'cancer-clf', alias: 'champion' } })).status, 200);
    assert.deepEqual(project.registry.model('cancer-clf').aliases, {});
    assert.equal((await send(ep, 'DELETE', api('model-versions/delete'), { body: { name: 'cancer-clf', version: '2' } })).status, 200);
    assertError(await get('model-versions/get', { name: 'cancer-clf', version: '2' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'a deleted version');
    assert.equal((await send(ep, 'DELETE', api('registered-models/delete'), { body: { name: 'cancer-clf' } })).status, 200);
    assertError(await get('registered-models/get', { name: 'cancer-clf' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'a deleted model');
    assert.deepEqual(project.registry.models().map((m) => m.name), ['other']);
    assert.equal(project.audit.verify().ok, true);
  });

  it('answers what it cannot keep with a clear 4xx', async () => {
    await send(ep, 'POST', api('registered-models/create'), { body: { name: 'ext' } });
    assertError(await send(ep, 'POST', api('model-versions/create'), { body: { name: 'ext', source: 's3://bucket/model' } }), 400, 'INVALID_PARAMETER_VALUE', 'a source outside the workspace');
    assertError(await send(ep, 'POST', api('model-versions/create'), { body: { name: 'ext', source: `runs:/${runId}/../../secrets` } }), 400, 'INVALID_PARAMETER_VALUE', 'a path escaping the artifacts');
    assertError(await send(ep, 'POST', api('model-versions/create'), { body: { name: 'nope', source: `runs:/${runId}/model` } }), 404, 'RESOURCE_DOES_NOT_EXIST', 'a version of a model not created');
    assertError(await send(ep, 'POST', api('model-versions/create'), { body: { name: 'ext', source: `runs:/${'f'.repeat(32)}/model` } }), 404, 'RESOURCE_DOES_NOT_EXIST', 'an unknown run');
    assertError(await send(ep, 'POST', api('model-versions/create'), { body: { name: 'ext', source: `runs:/${runId}/missing` } }), 400, 'INVALID_PARAMETER_VALUE', 'an artifact that was never logged');
    assertError(await send(ep, 'POST', api('registered-models/create'), { body: { name: 'has space' } }), 400, 'INVALID_PARAMETER_VALUE', 'a name the workspace registry cannot keep');
    assertError(await get('model-versions/get', { name: 'ext', version: 'one' }), 400, 'INVALID_PARAMETER_VALUE', 'a version that is not a number');
    assert.deepEqual(project.registry.model('ext').versions, [], 'nothing was registered by the refused calls');
  });
});
