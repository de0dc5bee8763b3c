// What the MLflow endpoint added below it: the event types tag_delete, artifact_delete and
// lifecycle (read by ingest into tracking.db, kept by a reindex), the experiments log
// (.mlops/experiments.jsonl), and MLflow's rule for a metric's latest value.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { MlflowBackend } from '../../src/core/mlflow/backend';
import { ExperimentLog, experimentsFile } from '../../src/core/mlflow/experiments';
import { RequestMessage } from '../../src/core/mlflow/request';
import { validateEvent } from '../../src/core/tracking/events';
import { appendEvents } from '../../src/core/tracking/eventWriter';
import { runDetailJson } from '../../src/core/tracking/runJson';
import { Tracking } from '../../src/core/tracking/tracking';
import { endpointWithRun, tmpWorkspace, writeRun } from './helpers';

describe('event log: tag_delete, artifact_delete and lifecycle', () => {
  it('validates the new event types', () => {
    assert.equal(validateEvent({ type: 'tag_delete', time: 1, key: 'a' })?.type, 'tag_delete');
    assert.equal(validateEvent({ type: 'artifact_delete', time: 1, path: 'a/b.txt' })?.type, 'artifact_delete');
    assert.equal(validateEvent({ type: 'lifecycle', time: 1, stage: 'deleted' })?.type, 'lifecycle');
    assert.throws(() => validateEvent({ type: 'tag_delete', time: 1, key: '' }), /tag_delete key/);
    assert.throws(() => validateEvent({ type: 'artifact_delete', time: 1 }), /artifact_delete without "path"/);
    assert.throws(() => validateEvent({ type: 'lifecycle', time: 1, stage: 'archived' }), /lifecycle with unknown stage "archived"/);
  });

  it('ingest removes deleted tags and artifacts and records the lifecycle, incrementally and on reindex', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, [
      { type: 'tag', key: 'keep', value: '1' }, { type: 'tag', key: 'drop', value: '2' },
      { type: 'artifact', path: 'a.txt', size: 1, sha256: 'x' }, { type: 'artifact', path: 'dir/b.txt', size: 2, sha256: 'y' },
    ]);
    const t = await Tracking.open(layout.root);
    assert.deepEqual(t.getRun(id)!.tags, { drop: '2', keep: '1' });
    appendEvents(layout.eventsFile(id), [{ type: 'tag_delete', key: 'drop' }, { type: 'artifact_delete', path: 'dir/b.txt' }, { type: 'lifecycle', stage: 'deleted' }]);
    t.refresh([id]);
    const lifecycle = () => t.query('SELECT lifecycle FROM runs WHERE id = ?', [id])[0].lifecycle;
    assert.deepEqual(t.getRun(id)!.tags, { keep: '1' });
    assert.deepEqual(t.getRun(id)!.artifacts.map((a) => a.path), ['a.txt']);
    assert.equal(lifecycle(), 'deleted');
    const before = runDetailJson(t.getRun(id)!);
    await t.reindex();
    assert.deepEqual(runDetailJson(t.getRun(id)!), before);
    assert.equal(lifecycle(), 'deleted');
    appendEvents(layout.eventsFile(id), [{ type: 'lifecycle', stage: 'active' }, { type: 'tag', key: 'drop', value: '3' }]);
    t.refresh([id]);
    assert.equal(lifecycle(), 'active');
    assert.deepEqual(t.getRun(id)!.tags, { drop: '3', keep: '1' });
    t.close();
  });

  it('a delete and a set of the same tag in one batch: the later one wins', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, [
      { type: 'tag', key: 'a', value: '1' }, { type: 'tag_delete', key: 'a' },
      { type: 'tag_delete', key: 'b' }, { type: 'tag', key: 'b', value: '2' },
    ]);
    const t = await Tracking.open(layout.root);
    assert.deepEqual(t.getRun(id)!.tags, { b: '2' });
    t.close();
  });
});

describe('experiments log (.mlops/experiments.jsonl)', () => {
  it('always has Default as "0"; creates, tags, deletes and reloads experiments', () => {
    const layout = tmpWorkspace();
    const file = experimentsFile(layout);
    let now = 1000;
    const log = new ExperimentLog(file, () => now++);
    assert.equal(log.get('0')?.name, 'Default');
    const a = log.create('mnist', { artifactLocation: 's3://bucket/x' });
    const b = log.create('iris');
    assert.deepEqual([a.id, b.id], ['1', '2']);
    log.setTag(a.id, 'team', 'vision');
    log.setLifecycle(b.id, 'deleted');
    assert.throws(() => log.create('mnist'), /already exists/);
    const again = new ExperimentLog(file);
    assert.deepEqual(again.byName('mnist'), { id: '1', name: 'mnist', lifecycle: 'active', creationTime: 1000, lastUpdateTime: 1002, tags: new Map([['team', 'vision']]), artifactLocation: 's3://bucket/x' });
    assert.equal(again.get('2')?.lifecycle, 'deleted');
    assert.equal(again.create('third').id, '3');
  });

  it('keeps an import\'s preferred ids when free, and skips bad lines with a warning', () => {
    const layout = tmpWorkspace();
    const file = experimentsFile(layout);
    const log = new ExperimentLog(file);
    assert.equal(log.create('kept', { preferredId: '17' }).id, '17');
    assert.equal(log.create('taken', { preferredId: '17' }).id, '18');
    assert.equal(log.create('bad id', { preferredId: '../x' }).id, '19');
    fs.appendFileSync(file, 'not json\n{"type":"experiment","time":1,"id":"20","name":"kept"}\n{"type":"later_version","time":1,"id":"1"}\n{"type":"experiment_tag","time":1,"id":"404","key":"a","value":"b"}\n{"partial":');
    const again = new ExperimentLog(file);
    assert.deepEqual(again.warnings, ['line 4: not valid JSON', 'line 5: experiment name "kept" already belongs to id 17', 'line 7: tag for unknown experiment 404']);
    assert.equal(again.list().length, 4);
  });

  it('gives experiments named by runs an id on first sight, and a reindex does not change it', async () => {
    const layout = tmpWorkspace();
    writeRun(layout, [], undefined);
    const t = await Tracking.open(layout.root);
    const log = new ExperimentLog(experimentsFile(layout));
    const cli = log.forRunExperiment('from-cli', 5);
    assert.equal(log.forRunExperiment('from-cli', 6), cli);
    await t.reindex();
    assert.equal(new ExperimentLog(experimentsFile(layout)).byName('from-cli')?.id, cli.id);
    t.close();
  });
});

describe('the endpoint\'s write path: logged first, indexed from memory a moment later', () => {
  const batch = (runId: string, from: number, n: number) => new RequestMessage({
    run_id: runId, metrics: Array.from({ length: n }, (_, i) => ({ key: 'loss', value: 1 / (from + i + 1), timestamp: 1000 + from + i, step: from + i })),
  });

  it('indexes coalesced writes exactly as a reindex of the log would', async () => {
    const layout = tmpWorkspace();
    const t = await Tracking.open(layout.root);
    const indexed: string[][] = [];
    const b = new MlflowBackend(t, { indexDelayMs: 60_000, onDidWrite: (ids) => indexed.push([...ids]) });
    const runId = b.createRun(new RequestMessage({ experiment_id: '0' })).run.info.run_id;
    indexed.length = 0;
    for (let i = 0; i < 5; i++) b.logBatch(batch(runId, i * 10, 10));
    assert.equal(t.getRun(runId)!.metrics.length, 0, 'not indexed yet: the writes wait to be indexed together');
    const logged = fs.readFileSync(layout.eventsFile(runId), 'utf8').split('\n').filter((l) => l.includes('"metrics"')).map((l) => JSON.parse(l).points.length);
    assert.deepEqual(logged, [10, 10, 10, 10, 10], 'but already in the log: one `metrics` line per log-batch');
    b.flush();
    assert.deepEqual(indexed, [[runId]]);
    const live = runDetailJson(t.getRun(runId)!);
    assert.equal(live.metrics.loss.count, 50);
    await t.reindex();
    assert.deepEqual(runDetailJson(t.getRun(runId)!), live);
    assert.deepEqual([...t.metricHistory(runId, 'loss').steps], [...Array(50).keys()]);
    b.dispose();
    t.close();
  });

  it('writes a log-batch\'s metrics as one `metrics` line, exactly as JSON.stringify would, and log-metric as a `metric` line', async () => {
    const layout = tmpWorkspace();
    const t = await Tracking.open(layout.root);
    const b = new MlflowBackend(t, { indexDelayMs: 60_000, now: () => 1_764_322_800_123 });
    const runId = b.createRun(new RequestMessage({ experiment_id: '0' })).run.info.run_id;
    const metrics = [
      { key: 'loss', value: 0.1 + 0.2, timestamp: 0, step: 0 }, { key: 'loss', value: 'NaN', timestamp: 999_999, step: 1 },
      { key: 'acc', value: 'Infinity', timestamp: 1_000_000, step: -3 }, { key: 'acc', value: '-Infinity', timestamp: 1_764_322_800_000, step: 2 },
      { key: 'ünï/cödé key', value: -0, timestamp: 1_764_322_800_001, step: 9_007_199_254_740_991 }, { key: 'small', value: 5e-324, timestamp: 12, step: '7' },
      { key: 'big', value: 1e21, timestamp: '1764322800002' },
    ];
    b.logBatch(new RequestMessage({ run_id: runId, metrics, params: [{ key: 'p', value: '1' }], tags: [{ key: 't', value: '2' }] }));
    b.logMetric(new RequestMessage({ run_id: runId, key: 'loss', value: 0.5, timestamp: 1_764_322_800_003, step: 4 }));
    const lines = fs.readFileSync(layout.eventsFile(runId), 'utf8').split('\n').filter(Boolean).map((l) => ({ text: l, e: JSON.parse(l) }));
    const types = lines.map((l) => l.e.type);
    assert.deepEqual(types.slice(types.indexOf('param')), ['param', 'metrics', 'tag', 'metric']);
    const line = lines.find((l) => l.e.type === 'metrics')!;
    assert.equal(line.text, JSON.stringify(line.e));
    assert.deepEqual(line.e, {
      type: 'metrics', time: 1_764_322_800_123, points: [
        ['loss', 0.1 + 0.2, 0, 0], ['loss', 'NaN', 1, 999_999], ['acc', 1.7976931348623157e308, -3, 1_000_000],
        ['acc', -1.7976931348623157e308, 2, 1_764_322_800_000], ['ünï/cödé key', 0, 9_007_199_254_740_991, 1_764_322_800_001],
        ['small', 5e-324, 7, 12], ['big', 1e21, 0, 1_764_322_800_002],
      ],
    });
    b.flush();
    const live = runDetailJson(t.getRun(runId)!);
    await t.reindex();
    assert.deepEqual(runDetailJson(t.getRun(runId)!), live);
    assert.equal(live.metrics.loss.count, 3);
    b.dispose();
    t.close();
  });

  it('stores a log-batch of plain metrics as the bytes it received (an `mlflow_metrics` line) and reads them back as the same points', async () => {
    const layout = tmpWorkspace();
    const t = await Tracking.open(layout.root);
    const b = new MlflowBackend(t, { indexDelayMs: 60_000, now: () => 1_764_322_800_123 });
    const runId = b.createRun(new RequestMessage({ experiment_id: '0' })).run.info.run_id;
    const plain = {
      run_id: runId, client: 'extra fields are kept in the log and ignored',
      metrics: [
        { key: 'loss', value: 0.25, timestamp: 1_764_322_800_000, step: 3 },
        { key: 'loss', value: -1.5, timestamp: 1_764_322_800_001 }, // no step: step 0
        { key: 'ünï/cödé key', value: 1e21, timestamp: 0, step: null },
        { key: 'acc', value: 5e-324, timestamp: 12, step: -7 },
      ],
    };
    // Pretty-printed, as some clients send it: its newlines must not split the log line.
    const body = Buffer.from(JSON.stringify(plain, null, 2));
    b.logBatch(new RequestMessage(JSON.parse(body.toString()), false, body));
    // Not plain: a "NaN" string value is rewritten as a `metrics` line; so is a batch with params.
    const nan = { run_id: runId, metrics: [{ key: 'loss', value: 'NaN', timestamp: 5, step: 4 }] };
    b.logBatch(new RequestMessage(nan, false, Buffer.from(JSON.stringify(nan))));
    const withParam = { run_id: runId, metrics: [{ key: 'acc', value: 0.5, timestamp: 6, step: 5 }], params: [{ key: 'lr', value: '0.1' }] };
    b.logBatch(new RequestMessage(withParam, false, Buffer.from(JSON.stringify(withParam))));

    const lines = fs.readFileSync(layout.eventsFile(runId), 'utf8').split('\n').filter(Boolean);
    const stored = lines.find((l) => l.includes('"mlflow_metrics"'))!;
    assert.equal(stored, `{"type":"mlflow_metrics","time":1764322800123,"request":${body.toString().replace(/\n/g, ' ')}}`);
    assert.deepEqual(JSON.parse(stored).request, plain);
    assert.deepEqual(lines.map((l) => JSON.parse(l).type).slice(-4), ['mlflow_metrics', 'metrics', 'param', 'metrics']);

    b.flush();
    const live = runDetailJson(t.getRun(runId)!);
    assert.equal(live.metrics.loss.count, 3);
    assert.equal(live.metrics['ünï/cödé key'].latest, 1e21);
    assert.equal(live.metrics.acc.count, 2);
    const history = t.metricHistory(runId, 'loss');
    await t.reindex();
    assert.deepEqual(runDetailJson(t.getRun(runId)!), live, 'a reindex from the log gives what the endpoint indexed from memory');
    assert.deepEqual(t.metricHistory(runId, 'loss'), history);
    assert.deepEqual([...history.steps], [3, 0, 4]);
    assert.deepEqual([...history.values], [0.25, -1.5, NaN]);
    b.dispose();
    t.close();
  });

  it('reads an `mlflow_metrics` line only when every metric is plain; a damaged one is skipped with a warning', async () => {
    const ok = validateEvent({ type: 'mlflow_metrics', time: 1, request: { run_id: 'x', metrics: [{ key: 'a', value: 1, timestamp: 2 }] } });
    assert.equal(ok?.type, 'mlflow_metrics');
    for (const bad of [{ key: 'a', value: 'NaN', timestamp: 2 }, { key: '', value: 1, timestamp: 2 }, { key: 'a', value: 1, timestamp: -1 }, { key: 'a', value: 1, timestamp: 2, step: 1.5 }, ['a', 1, 2, 3]]) {
      assert.throws(() => validateEvent({ type: 'mlflow_metrics', time: 1, request: { metrics: [bad] } }), /mlflow_metrics metric 0/);
    }
    assert.throws(() => validateEvent({ type: 'mlflow_metrics', time: 1, request: 'x' }), /without a request/);
    // 250 characters outside the BMP (500 UTF-16 units) are a valid key: MLflow counts characters.
    const astral = '\u{1D4D0}'.repeat(250);
    assert.equal(validateEvent({ type: 'metric', time: 1, key: astral, value: 1 })?.type, 'metric');
    assert.throws(() => validateEvent({ type: 'metric', time: 1, key: astral + 'x', value: 1 }));

    const layout = tmpWorkspace();
    const id = writeRun(layout, [{ type: 'metric', key: 'm', value: 1, step: 0 }]);
    fs.appendFileSync(layout.eventsFile(id), '{"type":"mlflow_metrics","time":5,"request":{"metrics":[{"key":"m","value":2,"timestamp":5,"step":1},{"key":"m","value":"oops","timestamp":6}]}}\n');
    appendEvents(layout.eventsFile(id), [{ type: 'mlflow_metrics', time: 7, request: { metrics: [{ key: 'm', value: 3, timestamp: 7, step: 2 }] } }]);
    const messages: string[] = [];
    const t = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
    assert.deepEqual([...t.metricHistory(id, 'm').values], [1, 3], 'the damaged line is skipped whole');
    assert.match(messages.join('\n'), /mlflow_metrics metric 1 .*line skipped/);
    t.close();
  });

  it('the server hands log-batch the body as received, except a double-encoded one', async () => {
    const { layout, tracking: t, ep, runId, postBatch: post } = await endpointWithRun();
    const request = { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }] };
    assert.equal((await post(`\n ${JSON.stringify(request)}\r\n`)).status, 200);
    assert.equal((await post(JSON.stringify(JSON.stringify({ ...request, metrics: [{ key: 'm', value: 2, timestamp: 2, step: 1 }] })))).status, 200);
    const types = fs.readFileSync(layout.eventsFile(runId), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).type);
    assert.deepEqual(types.slice(-2), ['mlflow_metrics', 'metrics']);
    await ep.stop();
    assert.deepEqual([...t.metricHistory(runId, 'm').values], [1, 2]);
    t.close();
  });

  it('falls back to reading the log when another writer appended in between, and never counts a line twice', async () => {
    const layout = tmpWorkspace();
    const t = await Tracking.open(layout.root);
    const b = new MlflowBackend(t, { indexDelayMs: 60_000 });
    const runId = b.createRun(new RequestMessage({ experiment_id: '0' })).run.info.run_id;
    b.logBatch(batch(runId, 0, 10));
    // The Python client inside the same run appends a line of its own.
    appendEvents(layout.eventsFile(runId), [{ type: 'param', key: 'from_python', value: '1' }, { type: 'metric', key: 'loss', value: 9, step: 100, time: 5000 }]);
    b.logBatch(batch(runId, 10, 10));
    // A refresh from elsewhere (the extension's file watcher) reads the pending lines first.
    t.refresh([runId]);
    b.logBatch(batch(runId, 20, 10));
    b.flush();
    const run = t.getRun(runId)!;
    assert.equal(run.params.from_python, '1');
    assert.equal(run.metrics.find((m) => m.key === 'loss')!.count, 31);
    const live = runDetailJson(run);
    await t.reindex();
    assert.deepEqual(runDetailJson(t.getRun(runId)!), live);
    b.dispose();
    t.close();
  });

  it('a run removed while writes were pending answers 404 afterwards, without a crash', async () => {
    const layout = tmpWorkspace();
    const t = await Tracking.open(layout.root);
    const b = new MlflowBackend(t, { indexDelayMs: 60_000 });
    const runId = b.createRun(new RequestMessage({ experiment_id: '0' })).run.info.run_id;
    b.logBatch(batch(runId, 0, 5));
    t.deleteRun(runId);
    b.flush();
    assert.throws(() => b.logBatch(batch(runId, 5, 5)), (err: Error & { code?: string }) => err.code === 'RESOURCE_DOES_NOT_EXIST');
    b.dispose();
    t.close();
  });
});
