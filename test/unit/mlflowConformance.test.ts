// Conformance of the MLflow-compatible endpoint (../shared/reference/mlflow-rest.md): the
// request sequence the MLflow Python client sends for a typical training session, replayed
// against a running endpoint, then search, metric history and artifacts; and every documented
// error code with its HTTP status.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMlflowServer, type MlflowEndpoint } from '../../src/core/mlflow';
import type { MlflowBackend } from '../../src/core/mlflow/backend';
import { MlflowServer } from '../../src/core/mlflow/server';
import { Tracking } from '../../src/core/tracking/tracking';
import { api, assertError, endpointSuite, eventually, send, suiteWorkspace } from './mlflowHttp';

function assertExperimentShape(e: any): void {
  assert.equal(typeof e.experiment_id, 'string');
  assert.equal(typeof e.name, 'string');
  assert.equal(typeof e.artifact_location, 'string');
  assert.ok(['active', 'deleted'].includes(e.lifecycle_stage));
  assert.equal(typeof e.creation_time, 'number');
  assert.equal(typeof e.last_update_time, 'number');
  assert.ok(Array.isArray(e.tags));
}

function assertRunInfoShape(info: any): void {
  for (const k of ['run_id', 'run_uuid', 'run_name', 'experiment_id', 'user_id', 'artifact_uri', 'lifecycle_stage']) assert.equal(typeof info[k], 'string', k);
  assert.equal(info.run_id, info.run_uuid);
  assert.ok(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'].includes(info.status));
  assert.equal(typeof info.start_time, 'number');
  if (info.end_time !== undefined) assert.equal(typeof info.end_time, 'number');
  assert.equal(info.artifact_uri, `mlflow-artifacts:/${info.experiment_id}/${info.run_id}/artifacts`);
}

function assertRunShape(run: any): void {
  assertRunInfoShape(run.info);
  for (const list of ['metrics', 'params', 'tags']) assert.ok(Array.isArray(run.data[list]), list);
  for (const m of run.data.metrics) {
    assert.equal(typeof m.key, 'string');
    assert.ok(typeof m.value === 'number' || m.value === 'NaN');
    assert.equal(typeof m.timestamp, 'number');
    assert.equal(typeof m.step, 'number');
  }
  for (const kv of [...run.data.params, ...run.data.tags]) assert.deepEqual(Object.keys(kv).sort(), ['key', 'value']);
  assert.ok(Array.isArray(run.inputs.dataset_inputs));
}

const T0 = 1_764_322_800_000;

describe('MLflow endpoint: a training session as the MLflow Python client sends it', () => {
  let tracking: Tracking;
  let ep: MlflowEndpoint;
  let experimentId: string;
  let runId: string;
  let artifactBase: string;

  const layout = suiteWorkspace();
  before(async () => {
    tracking = await Tracking.open(layout.root);
    ep = await startMlflowServer(tracking, {});
  });
  after(async () => {
    await ep.stop();
    tracking.close();
    fs.rmSync(layout.root, { recursive: true, force: true });
  });

  it('binds 127.0.0.1 and hands out an http://127.0.0.1:<port> tracking URI', () => {
    assert.match(ep.uri, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((ep.server as unknown as { server: http.Server }).server.address() && ep.server.port > 0, true);
  });

  it('set_experiment: get-by-name answers 404 RESOURCE_DOES_NOT_EXIST, then create, then get', async () => {
    const missing = await send(ep, 'GET', `${api('experiments/get-by-name')}?experiment_name=mnist`);
    assertError(missing, 404, 'RESOURCE_DOES_NOT_EXIST', 'get-by-name of a new experiment');
    const created = await send(ep, 'POST', api('experiments/create'), { body: { name: 'mnist', tags: [{ key: 'team', value: 'vision' }] } });
    assert.equal(created.status, 200, created.text);
    experimentId = created.json.experiment_id;
    assert.equal(typeof experimentId, 'string');
    const got = await send(ep, 'GET', `${api('experiments/get')}?experiment_id=${experimentId}`);
    assert.equal(got.status, 200);
    assertExperimentShape(got.json.experiment);
    assert.equal(got.json.experiment.name, 'mnist');
    assert.deepEqual(got.json.experiment.tags, [{ key: 'team', value: 'vision' }]);
    const byName = await send(ep, 'GET', `${api('experiments/get-by-name')}?experiment_name=mnist`);
    assert.deepEqual(byName.json, got.json);
    const def = await send(ep, 'GET', `${api('experiments/get')}?experiment_id=0`);
    assert.equal(def.json.experiment.name, 'Default', 'experiment "0" is "Default"');
    const tag = await send(ep, 'POST', api('experiments/set-experiment-tag'), { body: { experiment_id: experimentId, key: 'stage', value: 'dev' } });
    assert.equal(tag.status, 200);
    assert.deepEqual(tag.json, {});
  });

  it('start_run: create run with the system tags; the run is an ordinary run with source mlflow', async () => {
    const r = await send(ep, 'POST', api('runs/create'), {
      body: {
        experiment_id: experimentId, user_id: 'ana', start_time: T0, run_name: 'lenet',
        tags: [
          { key: 'mlflow.user', value: 'ana' }, { key: 'mlflow.source.name', value: 'train.py' },
          { key: 'mlflow.source.type', value: 'LOCAL' }, { key: 'mlflow.source.git.commit', value: '3f1c0ffee' },
          { key: 'mlflow.runName', value: 'lenet' },
        ],
      },
    });
    assert.equal(r.status, 200, r.text);
    assertRunShape(r.json.run);
    runId = r.json.run.info.run_id;
    assert.match(runId, /^[0-9a-f]{32}$/);
    assert.equal(r.json.run.info.status, 'RUNNING');
    assert.equal(r.json.run.info.run_name, 'lenet');
    assert.equal(r.json.run.info.start_time, T0);
    assert.equal(r.json.run.info.experiment_id, experimentId);
    assert.equal(r.json.run.info.end_time, undefined);
    artifactBase = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts`;
    const run = tracking.getRun(runId)!;
    assert.equal(run.source, 'mlflow');
    assert.equal(run.name, 'lenet');
    assert.equal(run.experiment, 'mnist');
    assert.equal(run.capture.user, 'ana');
    assert.deepEqual(run.capture.argv, ['train.py']);
    assert.equal(run.capture.git?.commit, '3f1c0ffee');
    const firstLine = JSON.parse(fs.readFileSync(tracking.layout.eventsFile(runId), 'utf8').split('\n')[0]);
    assert.deepEqual([firstLine.type, firstLine.source, firstLine.run_id], ['run_start', 'mlflow', runId]);
  });

  it('log_param, log_metric over steps, log_batch and set_tag', async () => {
    for (const [key, value] of [['lr', '0.01'], ['epochs', '60']]) {
      const r = await send(ep, 'POST', api('runs/log-parameter'), { body: { run_id: runId, run_uuid: runId, key, value } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, {});
    }
    for (let step = 0; step < 60; step++) {
      const r = await send(ep, 'POST', api('runs/log-metric'), { body: { run_id: runId, run_uuid: runId, key: 'loss', value: 1 / (step + 1), timestamp: T0 + 1000 + step, step } });
      assert.equal(r.status, 200, r.text);
    }
    const batch = await send(ep, 'POST', api('runs/log-batch'), {
      body: {
        run_id: runId,
        metrics: [
          { key: 'acc', value: 0.5, timestamp: T0 + 2000, step: 0 }, { key: 'acc', value: 0.9, timestamp: T0 + 2001, step: 1 },
          { key: 'nan_metric', value: 'NaN', timestamp: T0 + 2002, step: 0 }, { key: 'inf_metric', value: 'Infinity', timestamp: T0 + 2002, step: 0 },
        ],
        params: [{ key: 'optimizer', value: 'adam' }, { key: 'lr', value: '0.01' }],
        tags: [{ key: 'mlflow.note.content', value: 'first try' }],
      },
    });
    assert.equal(batch.status, 200, batch.text);
    const tag = await send(ep, 'POST', api('runs/set-tag'), { body: { run_id: runId, key: 'stage', value: 'dev' } });
    assert.equal(tag.status, 200);
    const tmp = await send(ep, 'POST', api('runs/set-tag'), { body: { run_id: runId, key: 'temporary', value: 'x' } });
    assert.equal(tmp.status, 200);
    const del = await send(ep, 'POST', api('runs/delete-tag'), { body: { run_id: runId, key: 'temporary' } });
    assert.equal(del.status, 200, del.text);
    const inputs = await send(ep, 'POST', api('runs/log-inputs'), {
      body: { run_id: runId, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'mnist-train', digest: 'abc123', source_type: 'local', source: '{"uri": "data/"}' } }] },
    });
    assert.equal(inputs.status, 200, inputs.text);
    const got = await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`);
    assertRunShape(got.json.run);
    const data = got.json.run.data;
    const params = Object.fromEntries(data.params.map((p: { key: string; value: string }) => [p.key, p.value]));
    assert.deepEqual(params, { epochs: '60', lr: '0.01', optimizer: 'adam' });
    const metrics = Object.fromEntries(data.metrics.map((m: { key: string }) => [m.key, m]));
    assert.deepEqual(metrics.loss, { key: 'loss', value: 1 / 60, timestamp: T0 + 1059, step: 59 });
    assert.equal(metrics.acc.value, 0.9);
    assert.equal(metrics.nan_metric.value, 'NaN', 'NaN is stored and returned as NaN');
    assert.equal(metrics.inf_metric.value, 1.7976931348623157e308, '+Infinity clamps to the largest double');
    const tags = Object.fromEntries(data.tags.map((t: { key: string; value: string }) => [t.key, t.value]));
    assert.equal(tags.stage, 'dev');
    assert.equal(tags['mlflow.runName'], 'lenet');
    assert.equal(tags.temporary, undefined, 'delete-tag removed the tag');
    assert.deepEqual(got.json.run.inputs.dataset_inputs, [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'mnist-train', digest: 'abc123', source_type: 'local', source: '{"uri": "data/"}' } }]);
    assert.equal(tracking.getRun(runId)!.tags.temporary, undefined, 'the index dropped the deleted tag too');
  });

  it('log_artifact (a file) and log_artifacts (a folder) upload by PUT into the run\'s artifact folder', async () => {
    const file = await send(ep, 'PUT', `${artifactBase}/model.txt`, { raw: 'weights', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(file.status, 200, file.text);
    assert.deepEqual(file.json, {});
    for (const [name, content] of [['plots/loss.csv', 'step,loss\n0,1\n'], ['plots/deep/acc.csv', 'step,acc\n'], ['plots/with%20space.txt', 'spaced']]) {
      const r = await send(ep, 'PUT', `${artifactBase}/${name}`, { raw: content });
      assert.equal(r.status, 200, r.text);
    }
    const dir = tracking.layout.artifactsDir(runId);
    assert.equal(fs.readFileSync(path.join(dir, 'model.txt'), 'utf8'), 'weights');
    assert.equal(fs.readFileSync(path.join(dir, 'plots', 'with space.txt'), 'utf8'), 'spaced');
    assert.deepEqual(tracking.getRun(runId)!.artifacts.map((a) => a.path), ['model.txt', 'plots/deep/acc.csv', 'plots/loss.csv', 'plots/with space.txt']);
  });

  it('end_run: update to FINISHED with the end time', async () => {
    const r = await send(ep, 'POST', api('runs/update'), { body: { run_id: runId, run_uuid: runId, status: 'FINISHED', end_time: T0 + 9000 } });
    assert.equal(r.status, 200, r.text);
    assertRunInfoShape(r.json.run_info);
    assert.equal(r.json.run_info.status, 'FINISHED');
    assert.equal(r.json.run_info.end_time, T0 + 9000);
    const run = tracking.getRun(runId)!;
    assert.equal(run.status, 'FINISHED');
    assert.equal(run.end_time, T0 + 9000);
  });

  it('searches runs with MLflow filters and ordering across pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await send(ep, 'POST', api('runs/create'), { body: { experiment_id: experimentId, start_time: T0 + 100_000 + i, run_name: `sweep-${i}` } });
      const id = r.json.run.info.run_id;
      ids.push(id);
      await send(ep, 'POST', api('runs/log-batch'), {
        body: {
          run_id: id, params: [{ key: 'lr', value: i % 2 ? '0.1' : '0.01' }], tags: [{ key: 'family', value: i < 4 ? 'cnn-small' : 'mlp' }],
          metrics: [{ key: 'acc', value: 0.5 + i * 0.05, timestamp: T0 + 200_000, step: 0 }],
        },
      });
      if (i === 6) await send(ep, 'POST', api('runs/update'), { body: { run_id: id, status: 'FAILED', end_time: T0 + 300_000 } });
    }
    const search = (body: object) => send(ep, 'POST', api('runs/search'), { body: { experiment_ids: [experimentId], ...body } });
    const all = await search({});
    assert.equal(all.status, 200, all.text);
    assert.equal(all.json.runs.length, 8);
    assert.equal(all.json.next_page_token, undefined, 'one page: no next_page_token');
    assert.deepEqual(all.json.runs.slice(0, 7).map((r: any) => r.info.run_name), ['sweep-6', 'sweep-5', 'sweep-4', 'sweep-3', 'sweep-2', 'sweep-1', 'sweep-0'], 'natural order: start_time descending');
    all.json.runs.forEach(assertRunShape);

    const filtered = await search({ filter: "metrics.acc > 0.6 and params.lr = '0.1' and tags.family LIKE 'cnn%' and attributes.status = 'RUNNING'" });
    assert.deepEqual(filtered.json.runs.map((r: any) => r.info.run_name), ['sweep-3']);
    const ilike = await search({ filter: "tags.family ILIKE 'MLP' and attributes.status != 'FAILED'" });
    assert.deepEqual(ilike.json.runs.map((r: any) => r.info.run_name).sort(), ['sweep-4', 'sweep-5']);
    const byId = await search({ filter: `attributes.run_id IN ('${ids[0]}', '${ids[1]}')` });
    assert.equal(byId.json.runs.length, 2);

    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await search({ filter: "params.lr != 'none'", order_by: ['metrics.acc DESC'], max_results: 3, ...(token ? { page_token: token } : {}) });
      assert.equal(page.status, 200, page.text);
      assert.ok(page.json.runs.length <= 3);
      names.push(...page.json.runs.map((r: any) => r.info.run_name));
      token = page.json.next_page_token;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(names, ['lenet', 'sweep-6', 'sweep-5', 'sweep-4', 'sweep-3', 'sweep-2', 'sweep-1', 'sweep-0'], 'lenet\'s latest acc is 0.9');

    const asc = await search({ order_by: ['params.lr ASC', 'attributes.start_time ASC'], filter: "params.lr = '0.1'" });
    assert.deepEqual(asc.json.runs.map((r: any) => r.info.run_name), ['sweep-1', 'sweep-3', 'sweep-5']);

    await send(ep, 'POST', api('runs/delete'), { body: { run_id: ids[0] } });
    const active = await search({});
    assert.equal(active.json.runs.length, 7, 'ACTIVE_ONLY hides deleted runs');
    const deleted = await search({ run_view_type: 'DELETED_ONLY' });
    assert.deepEqual(deleted.json.runs.map((r: any) => r.info.lifecycle_stage), ['deleted']);
    const restored = await send(ep, 'POST', api('runs/restore'), { body: { run_id: ids[0] } });
    assert.equal(restored.status, 200);
    assert.equal((await search({ run_view_type: 'ALL' })).json.runs.length, 8);
  });

  it('reads metric history in pages', async () => {
    const points: any[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await send(ep, 'GET', `${api('metrics/get-history')}?run_id=${runId}&metric_key=loss&max_results=25${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      points.push(...r.json.metrics);
      token = r.json.next_page_token;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.equal(points.length, 60);
    assert.deepEqual(points[0], { key: 'loss', value: 1, timestamp: T0 + 1000, step: 0 });
    assert.deepEqual(points.map((p) => p.step), [...Array(60).keys()]);
    const unknown = await send(ep, 'GET', `${api('metrics/get-history')}?run_id=${runId}&metric_key=nope`);
    assert.deepEqual(unknown.json, { metrics: [] });
  });

  it('lists and downloads artifacts (proxied API and artifacts/list)', async () => {
    const root = await send(ep, 'GET', `/api/2.0/mlflow-artifacts/artifacts?path=${experimentId}/${runId}/artifacts`);
    assert.equal(root.status, 200, root.text);
    assert.deepEqual(root.json.files, [{ path: 'model.txt', is_dir: false, file_size: 7 }, { path: 'plots', is_dir: true }]);
    const plots = await send(ep, 'GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${experimentId}/${runId}/artifacts/plots`)}`);
    assert.deepEqual(plots.json.files.map((f: any) => f.path), ['deep', 'loss.csv', 'with space.txt']);
    const download = await send(ep, 'GET', `${artifactBase}/plots/loss.csv`);
    assert.equal(download.status, 200);
    assert.equal(download.text, 'step,loss\n0,1\n');
    const listed = await send(ep, 'GET', `${api('artifacts/list')}?run_id=${runId}&path=plots`);
    assert.equal(listed.json.root_uri, `mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
    assert.deepEqual(listed.json.files, [
      { path: 'plots/deep', is_dir: true }, { path: 'plots/loss.csv', is_dir: false, file_size: 14 }, { path: 'plots/with space.txt', is_dir: false, file_size: 6 },
    ]);
    const removed = await send(ep, 'DELETE', `${artifactBase}/plots/deep`);
    assert.equal(removed.status, 200, removed.text);
    assert.ok(!fs.existsSync(path.join(tracking.layout.artifactsDir(runId), 'plots', 'deep')));
    assert.ok(!tracking.getRun(runId)!.artifacts.some((a) => a.path.startsWith('plots/deep/')), 'the index dropped the deleted artifact');
    const missing = await send(ep, 'GET', `${artifactBase}/plots/deep/acc.csv`);
    assertError(missing, 404, 'RESOURCE_DOES_NOT_EXIST', 'download of a deleted artifact');
  });

  it('searches experiments with a filter, order and pages', async () => {
    for (const name of ['zeta', 'alpha', 'beta']) await send(ep, 'POST', api('experiments/create'), { body: { name } });
    const all = await send(ep, 'POST', api('experiments/search'), { body: { max_results: 2, order_by: ['name ASC'] } });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.json.experiments.map((e: any) => e.name), ['Default', 'alpha']);
    assert.ok(all.json.next_page_token);
    const next = await send(ep, 'POST', api('experiments/search'), { body: { max_results: 2, order_by: ['name ASC'], page_token: all.json.next_page_token } });
    assert.deepEqual(next.json.experiments.map((e: any) => e.name), ['beta', 'mnist']);
    const filtered = await send(ep, 'GET', `${api('experiments/search')}?filter=${encodeURIComponent("tags.team = 'vision'")}`);
    assert.deepEqual(filtered.json.experiments.map((e: any) => e.name), ['mnist']);
    filtered.json.experiments.forEach(assertExperimentShape);
    const like = await send(ep, 'POST', api('experiments/search'), { body: { filter: "name LIKE '%eta'" } });
    assert.deepEqual(like.json.experiments.map((e: any) => e.name).sort(), ['beta', 'zeta']);
  });

  it('keeps experiments, deletions and tags through a reindex of tracking.db', async () => {
    const before = await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`);
    await tracking.reindex();
    const again = await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`);
    assert.deepEqual(again.json, before.json);
    const byName = await send(ep, 'GET', `${api('experiments/get-by-name')}?experiment_name=mnist`);
    assert.equal(byName.json.experiment.experiment_id, experimentId);
  });
});

describe('MLflow endpoint: every documented error code and status', () => {
  let tracking: Tracking;
  let ep: MlflowEndpoint;
  let runId: string;

  const layout = suiteWorkspace();
  before(async () => {
    tracking = await Tracking.open(layout.root);
    ep = await startMlflowServer(tracking, {});
    runId = (await send(ep, 'POST', api('runs/create'), { body: { experiment_id: '0', start_time: T0 } })).json.run.info.run_id;
  });
  after(async () => {
    await ep.stop();
    tracking.close();
    fs.rmSync(layout.root, { recursive: true, force: true });
  });

  it('400 INVALID_PARAMETER_VALUE for missing and malformed fields', async () => {
    const cases: [string, string, object][] = [
      ['missing run_id', 'runs/log-metric', { key: 'a', value: 1, timestamp: 1 }],
      ['boolean metric value', 'runs/log-metric', { run_id: runId, key: 'a', value: true, timestamp: 1 }],
      ['string metric value', 'runs/log-metric', { run_id: runId, key: 'a', value: 'high', timestamp: 1 }],
      ['missing timestamp', 'runs/log-metric', { run_id: runId, key: 'a', value: 1 }],
      ['negative timestamp', 'runs/log-metric', { run_id: runId, key: 'a', value: 1, timestamp: -5 }],
      ['fractional step', 'runs/log-metric', { run_id: runId, key: 'a', value: 1, timestamp: 1, step: 1.5 }],
      ['key with ..', 'runs/log-metric', { run_id: runId, key: '../x', value: 1, timestamp: 1 }],
      ['key with a bad character', 'runs/log-parameter', { run_id: runId, key: 'a*b', value: '1' }],
      ['key over 250 characters', 'runs/set-tag', { run_id: runId, key: 'k'.repeat(251), value: '1' }],
      ['param value over 6000 characters', 'runs/log-parameter', { run_id: runId, key: 'long', value: 'v'.repeat(6001) }],
      ['tag value over 8000 characters', 'runs/set-tag', { run_id: runId, key: 'long', value: 'v'.repeat(8001) }],
      ['invalid run id', 'runs/log-parameter', { run_id: '../etc', key: 'a', value: '1' }],
      ['run id of the wrong type', 'runs/log-parameter', { run_id: 42, key: 'a', value: '1' }],
      ['too many metrics in a batch', 'runs/log-batch', { run_id: runId, metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i })) }],
      ['too many params in a batch', 'runs/log-batch', { run_id: runId, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: '1' })) }],
      ['too many tags in a batch', 'runs/log-batch', { run_id: runId, tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: '1' })) }],
      ['duplicate param keys in a batch', 'runs/log-batch', { run_id: runId, params: [{ key: 'dup', value: '1' }, { key: 'dup', value: '1' }] }],
      ['metrics not a list', 'runs/log-batch', { run_id: runId, metrics: { key: 'x' } }],
      ['bad filter', 'runs/search', { experiment_ids: ['0'], filter: 'metrics.acc >> 1' }],
      ['OR in a filter', 'runs/search', { experiment_ids: ['0'], filter: "params.a = '1' or params.b = '2'" }],
      ['string compared to a metric', 'runs/search', { experiment_ids: ['0'], filter: "metrics.acc = 'high'" }],
      ['unknown attribute', 'runs/search', { experiment_ids: ['0'], filter: "attributes.color = 'red'" }],
      ['bad order_by', 'runs/search', { experiment_ids: ['0'], order_by: ['metrics.acc SIDEWAYS'] }],
      ['max_results over 50,000', 'runs/search', { experiment_ids: ['0'], max_results: 50_001 }],
      ['bad page token', 'runs/search', { experiment_ids: ['0'], page_token: '%%%not-a-token' }],
      ['unknown run_view_type', 'runs/search', { experiment_ids: ['0'], run_view_type: 'SOME' }],
      ['unknown status', 'runs/update', { run_id: runId, status: 'DONE' }],
      ['empty experiment name', 'experiments/create', { name: '' }],
      ['experiment name over 500 characters', 'experiments/create', { name: 'e'.repeat(501) }],
    ];
    for (const [what, endpoint, body] of cases) assertError(await send(ep, 'POST', api(endpoint), { body }), 400, 'INVALID_PARAMETER_VALUE', what);
    await send(ep, 'POST', api('runs/log-parameter'), { body: { run_id: runId, key: 'lr', value: '0.1' } });
    assertError(await send(ep, 'POST', api('runs/log-parameter'), { body: { run_id: runId, key: 'lr', value: '0.2' } }), 400, 'INVALID_PARAMETER_VALUE', 'changing a param');
    assertError(await send(ep, 'POST', api('runs/log-batch'), { body: { run_id: runId, params: [{ key: 'lr', value: '0.3' }] } }), 400, 'INVALID_PARAMETER_VALUE', 'changing a param in a batch');
    assert.equal((await send(ep, 'POST', api('runs/log-parameter'), { body: { run_id: runId, key: 'lr', value: '0.1' } })).status, 200, 'the same value again is fine');
    assertError(await send(ep, 'POST', api('runs/log-metric'), { raw: '{}', body: undefined, headers: {} }), 400, 'INVALID_PARAMETER_VALUE', 'missing Content-Type');
    assertError(await send(ep, 'POST', api('runs/log-metric'), { raw: '{}', headers: { 'Content-Type': 'text/plain' } }), 400, 'INVALID_PARAMETER_VALUE', 'wrong Content-Type');
    assertError(await send(ep, 'GET', `${api('metrics/get-history')}?run_id=${runId}&metric_key=a&max_results=x`), 400, 'INVALID_PARAMETER_VALUE', 'non-integer max_results in a query');
    const big = JSON.stringify({ run_id: runId, tags: [{ key: 'big', value: 'x'.repeat(1_000_001) }] });
    const tooLarge = await send(ep, 'POST', api('runs/log-batch'), { raw: big, headers: { 'Content-Type': 'application/json' } });
    assertError(tooLarge, 400, 'INVALID_PARAMETER_VALUE', 'a log-batch body over 1 MB');
    assert.match(tooLarge.json.message, /at most 1000000 bytes/);
    await send(ep, 'POST', api('runs/delete'), { body: { run_id: runId } });
    assertError(await send(ep, 'POST', api('runs/log-metric'), { body: { run_id: runId, key: 'a', value: 1, timestamp: 1 } }), 400, 'INVALID_PARAMETER_VALUE', 'writing to a deleted run');
    await send(ep, 'POST', api('runs/restore'), { body: { run_id: runId } });
    assert.ok(!fs.readdirSync(tracking.layout.runDir(runId)).some((f) => f !== 'events.jsonl' && f !== 'artifacts'), 'refused writes left nothing behind');
  });

  it('400 BAD_REQUEST for bodies that are not JSON objects', async () => {
    for (const raw of ['{"run_id": ', 'not json', '[1, 2]', '42', 'null']) {
      assertError(await send(ep, 'POST', api('runs/log-metric'), { raw, headers: { 'Content-Type': 'application/json' } }), 400, 'BAD_REQUEST', `body ${raw}`);
    }
    const doubleEncoded = JSON.stringify(JSON.stringify({ run_id: runId, key: 'twice', value: 1, timestamp: 1 }));
    assert.equal((await send(ep, 'POST', api('runs/log-metric'), { raw: doubleEncoded, headers: { 'Content-Type': 'application/json' } })).status, 200, 'older clients double-encode');
  });

  it('400 RESOURCE_ALREADY_EXISTS (not 409) for an experiment name in use', async () => {
    assert.equal((await send(ep, 'POST', api('experiments/create'), { body: { name: 'dup' } })).status, 200);
    assertError(await send(ep, 'POST', api('experiments/create'), { body: { name: 'dup' } }), 400, 'RESOURCE_ALREADY_EXISTS', 'duplicate experiment');
    assertError(await send(ep, 'POST', api('experiments/create'), { body: { name: 'Default' } }), 400, 'RESOURCE_ALREADY_EXISTS', 'Default exists');
  });

  it('401 UNAUTHENTICATED without the token or with another', async () => {
    const none = await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`, { headers: { Authorization: undefined } });
    assertError(none, 401, 'UNAUTHENTICATED', 'no token');
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assertError(await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`, { headers: { Authorization: 'Bearer wrong' } }), 401, 'UNAUTHENTICATED', 'wrong token');
    assertError(await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`, { headers: { Authorization: `Basic ${ep.token}` } }), 401, 'UNAUTHENTICATED', 'not Bearer');
    assertError(await send(ep, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/x.txt`, { raw: 'x', headers: { Authorization: undefined } }), 401, 'UNAUTHENTICATED', 'upload without token');
    assert.ok(!fs.existsSync(path.join(tracking.layout.artifactsDir(runId), 'x.txt')));
  });

  it('403 PERMISSION_DENIED for a foreign Host header (DNS rebinding)', async () => {
    for (const host of ['evil.example:80', `attacker.test:${new URL(ep.uri).port}`, '127.0.0.1:1', undefined]) {
      assertError(await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`, { headers: { Host: host } }), 403, 'PERMISSION_DENIED', `Host ${host}`);
    }
    assert.equal((await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`, { headers: { Host: `localhost:${new URL(ep.uri).port}` } })).status, 200);
  });

  it('404 RESOURCE_DOES_NOT_EXIST for unknown runs, experiments and artifacts', async () => {
    const unknownRun = 'f'.repeat(32);
    assertError(await send(ep, 'GET', `${api('runs/get')}?run_id=${unknownRun}`), 404, 'RESOURCE_DOES_NOT_EXIST', 'unknown run');
    assertError(await send(ep, 'POST', api('runs/log-metric'), { body: { run_id: unknownRun, key: 'a', value: 1, timestamp: 1 } }), 404, 'RESOURCE_DOES_NOT_EXIST', 'log to unknown run');
    assert.ok(!fs.existsSync(tracking.layout.runDir(unknownRun)), 'no folder made for an unknown run');
    assertError(await send(ep, 'GET', `${api('experiments/get')}?experiment_id=999`), 404, 'RESOURCE_DOES_NOT_EXIST', 'unknown experiment');
    assertError(await send(ep, 'POST', api('runs/create'), { body: { experiment_id: '999' } }), 404, 'RESOURCE_DOES_NOT_EXIST', 'run in unknown experiment');
    assertError(await send(ep, 'POST', api('runs/delete-tag'), { body: { run_id: runId, key: 'never-set' } }), 404, 'RESOURCE_DOES_NOT_EXIST', 'delete unknown tag');
    assertError(await send(ep, 'GET', `/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/none.bin`), 404, 'RESOURCE_DOES_NOT_EXIST', 'missing artifact');
  });

  it('404 ENDPOINT_NOT_FOUND for calls this server does not have (MLflow 3 clients fall back)', async () => {
    for (const [method, p] of [
      ['POST', '/api/2.0/mlflow/logged-models'], ['GET', '/api/2.0/mlflow/logged-models/m-1'], ['POST', '/api/2.0/mlflow/runs/outputs'],
      ['POST', '/api/3.0/mlflow/traces'], ['GET', '/'], ['DELETE', api('runs/get')], ['GET', api('runs/create')], ['POST', '/api/2.0/mlflow-artifacts/mpu/create/x'],
    ]) {
      assertError(await send(ep, method, p, method === 'POST' ? { body: {} } : {}), 404, 'ENDPOINT_NOT_FOUND', `${method} ${p}`);
    }
  });

  it('409 RESOURCE_CONFLICT for an upload where a folder (or a file in the way) already is', async () => {
    const base = `/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts`;
    assert.equal((await send(ep, 'PUT', `${base}/folder/inner.txt`, { raw: 'a' })).status, 200);
    assertError(await send(ep, 'PUT', `${base}/folder`, { raw: 'b' }), 409, 'RESOURCE_CONFLICT', 'file over a folder');
    assertError(await send(ep, 'PUT', `${base}/folder/inner.txt/deeper.txt`, { raw: 'c' }), 409, 'RESOURCE_CONFLICT', 'folder through a file');
    fs.symlinkSync('/tmp', path.join(tracking.layout.artifactsDir(runId), 'link'));
    assertError(await send(ep, 'PUT', `${base}/link/escape.txt`, { raw: 'd' }), 409, 'RESOURCE_CONFLICT', 'through a symbolic link');
    assert.ok(!fs.existsSync('/tmp/escape.txt'));
  });

  it('400 for path traversal in artifact paths, and nothing is written outside the artifact root', async () => {
    const base = `/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts`;
    for (const evil of ['../escape.txt', '..%2Fescape.txt', 'a/../../escape.txt', '%2e%2e/escape.txt', 'a//b.txt', 'nul%00.txt', 'back%5Cslash.txt', './x.txt']) {
      const r = await send(ep, 'PUT', `${base}/${evil}`, { raw: 'evil' });
      assert.ok(r.status === 400, `${evil}: ${r.status} ${r.text}`);
      assert.ok(['INVALID_PARAMETER_VALUE', 'BAD_REQUEST'].includes(r.json.error_code));
    }
    assert.ok(!fs.existsSync(path.join(tracking.layout.runDir(runId), 'escape.txt')));
    assert.ok(!fs.existsSync(path.join(tracking.layout.runsDir, 'escape.txt')));
  });

  it('429 REQUEST_LIMIT_EXCEEDED beyond the requests served at once', async () => {
    const limited = await startMlflowServer(tracking, { limits: { maxInFlight: 1 } });
    try {
      const url = new URL(limited.uri);
      // Hold one upload open: its body never ends.
      const held = http.request({ host: '127.0.0.1', port: Number(url.port), method: 'PUT', path: `/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/slow.bin`, headers: { Authorization: `Bearer ${limited.token}`, Host: url.host, 'Content-Length': '100' } });
      held.on('error', () => undefined);
      held.write('partial');
      await new Promise((r) => setTimeout(r, 100));
      assertError(await send(limited, 'GET', `${api('runs/get')}?run_id=${runId}`), 429, 'REQUEST_LIMIT_EXCEEDED', 'second request at once');
      held.destroy();
    } finally {
      await limited.stop();
    }
    await eventually('the broken upload left nothing', () => !fs.readdirSync(tracking.layout.artifactsDir(runId)).some((f) => f.startsWith('.mlops-upload-') || f === 'slow.bin'));
  });

  it('500 INTERNAL_ERROR only for a fault of the server itself, with an MLflow error body', async () => {
    const broken = { getRun: () => { throw new TypeError('a bug'); } } as unknown as MlflowBackend;
    const logged: string[] = [];
    const server = new MlflowServer(broken, { token: 't0k', log: (m) => logged.push(m) });
    await server.start();
    try {
      const r = await send({ uri: server.uri, token: 't0k' }, 'GET', `${api('runs/get')}?run_id=x`);
      assertError(r, 500, 'INTERNAL_ERROR', 'a thrown bug');
      assert.match(logged.join('\n'), /a bug/);
    } finally {
      await server.stop();
    }
  });

  it('answers malformed HTTP with a 400 and an MLflow body, and keeps serving', async () => {
    const net = await import('node:net');
    const url = new URL(ep.uri);
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(url.port), '127.0.0.1', () => socket.write('GARBAGE\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.match(reply, /"error_code":"BAD_REQUEST"/);
    assert.equal((await send(ep, 'GET', `${api('runs/get')}?run_id=${runId}`)).status, 200);
  });
});

describe('MLflow endpoint: the latest value of a metric is MLflow\'s (step, timestamp, value) maximum', () => {
  const suite = endpointSuite();

  const newRun = async (name: string) => (await send(suite.ep, 'POST', api('runs/create'), { body: { experiment_id: '0', run_name: name, start_time: T0 } })).json.run.info.run_id as string;
  const logMetric = async (runId: string, key: string, value: number | string, step: number, timestamp: number) => {
    const r = await send(suite.ep, 'POST', api('runs/log-metric'), { body: { run_id: runId, key, value, timestamp, step } });
    assert.equal(r.status, 200, r.text);
  };

  it('a metric logged at step 5 then at step 2 reads step 5\'s value in get_run, search filters and order_by', async () => {
    const late = await newRun('step-5-then-2');
    await logMetric(late, 'loss', 0.5, 5, T0 + 1);
    await logMetric(late, 'loss', 0.9, 2, T0 + 2); // later in time, lower step
    await logMetric(late, 'acc', 0.7, 3, T0 + 3);
    await logMetric(late, 'acc', 0.6, 3, T0 + 3); // same step and time: the larger value stands
    const other = await newRun('in-order');
    await logMetric(other, 'loss', 0.7, 1, T0 + 1);

    const got = await send(suite.ep, 'GET', `${api('runs/get')}?run_id=${late}`);
    const metrics = Object.fromEntries(got.json.run.data.metrics.map((m: { key: string }) => [m.key, m]));
    assert.deepEqual(metrics.loss, { key: 'loss', value: 0.5, timestamp: T0 + 1, step: 5 });
    assert.deepEqual(metrics.acc, { key: 'acc', value: 0.7, timestamp: T0 + 3, step: 3 });

    const search = async (body: object) => (await send(suite.ep, 'POST', api('runs/search'), { body: { experiment_ids: ['0'], ...body } })).json.runs?.map((r: any) => r.info.run_name) ?? [];
    assert.deepEqual(await search({ filter: 'metrics.loss = 0.5' }), ['step-5-then-2']);
    assert.deepEqual(await search({ filter: 'metrics.loss > 0.8' }), []);
    assert.deepEqual(await search({ order_by: ['metrics.loss ASC'] }), ['step-5-then-2', 'in-order']);
    assert.deepEqual(await search({ order_by: ['metrics.loss DESC'] }), ['in-order', 'step-5-then-2']);

    const shown = suite.tracking.getRun(late)!.metrics.find((m) => m.key === 'loss')!;
    assert.deepEqual([shown.latest, shown.step], [0.5, 5], 'mlops runs show agrees with the endpoint');
    await suite.tracking.reindex();
    const again = await send(suite.ep, 'GET', `${api('runs/get')}?run_id=${late}`);
    assert.deepEqual(again.json.run.data.metrics, got.json.run.data.metrics, 'a reindex keeps the same latest points');
  });
});

describe('MLflow endpoint: update_experiment renames an experiment and its runs follow', () => {
  const suite = endpointSuite();

  it('renames; get, get-by-name, search and the index see the new name, also after a reindex', async () => {
    const id = (await send(suite.ep, 'POST', api('experiments/create'), { body: { name: 'mnist' } })).json.experiment_id as string;
    const runId = (await send(suite.ep, 'POST', api('runs/create'), { body: { experiment_id: id, run_name: 'lenet', start_time: T0 } })).json.run.info.run_id as string;
    const renamed = await send(suite.ep, 'POST', api('experiments/update'), { body: { experiment_id: id, new_name: 'digits' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual(renamed.json, {});
    const check = async (when: string) => {
      assert.equal((await send(suite.ep, 'GET', `${api('experiments/get')}?experiment_id=${id}`)).json.experiment.name, 'digits', when);
      assertError(await send(suite.ep, 'GET', `${api('experiments/get-by-name')}?experiment_name=mnist`), 404, 'RESOURCE_DOES_NOT_EXIST', `${when}: the old name is free`);
      assert.equal((await send(suite.ep, 'GET', `${api('experiments/get-by-name')}?experiment_name=digits`)).json.experiment.experiment_id, id, when);
      const runs = (await send(suite.ep, 'POST', api('runs/search'), { body: { experiment_ids: [id] } })).json.runs;
      assert.deepEqual(runs.map((r: any) => [r.info.run_id, r.info.experiment_id]), [[runId, id]], when);
      assert.equal(suite.tracking.getRun(runId)!.experiment, 'digits', `${when}: the Runs view and the CLI group the run under the new name`);
      const names = (await send(suite.ep, 'POST', api('experiments/search'), { body: {} })).json.experiments.map((e: any) => e.name).sort();
      assert.deepEqual(names, ['Default', 'digits'], `${when}: the old name does not come back`);
    };
    await check('after the rename');
    await suite.tracking.reindex();
    await check('after a reindex');
    const reused = await send(suite.ep, 'POST', api('experiments/create'), { body: { name: 'mnist' } });
    assert.equal(reused.status, 200, 'the old name can name a new experiment');
    assert.notEqual(reused.json.experiment_id, id);
  });

  it('refuses a name in use, the Default experiment and an unknown id', async () => {
    const a = (await send(suite.ep, 'POST', api('experiments/create'), { body: { name: 'a' } })).json.experiment_id as string;
    await send(suite.ep, 'POST', api('experiments/create'), { body: { name: 'b' } });
    assertError(await send(suite.ep, 'POST', api('experiments/update'), { body: { experiment_id: a, new_name: 'b' } }), 400, 'RESOURCE_ALREADY_EXISTS', 'a name in use');
    assertError(await send(suite.ep, 'POST', api('experiments/update'), { body: { experiment_id: '0', new_name: 'x' } }), 400, 'INVALID_PARAMETER_VALUE', 'the Default experiment');
    assertError(await send(suite.ep, 'POST', api('experiments/update'), { body: { experiment_id: '424242', new_name: 'x' } }), 404, 'RESOURCE_DOES_NOT_EXIST', 'an unknown experiment');
    assertError(await send(suite.ep, 'POST', api('experiments/update'), { body: { experiment_id: a } }), 400, 'INVALID_PARAMETER_VALUE', 'no new_name');
  });
});
