// The endpoint's batch reader thread: large log-batch bodies of plain metrics are parsed and
// summarised beside the main thread (plainBatch.ts, batchWorker.ts, batchReader.ts), and the
// result is exactly what reading them on the main thread gives.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { BatchReader } from '../../src/core/mlflow/batchReader';
import { readPlainBatch } from '../../src/core/mlflow/plainBatch';
import { runDetailJson } from '../../src/core/tracking/runJson';
import { endpointWithRun, tmpWorkspace } from './helpers';

/** A request of `n` plain metrics over three keys, with repeated and out-of-order steps (the latest-point rule matters). */
function plainRequest(runId: string, n: number, from = 0) {
  return {
    run_id: runId,
    metrics: Array.from({ length: n }, (_, i) => ({
      key: ['loss', 'acc', 'lr/group 0'][i % 3], value: Math.sin(from + i), timestamp: 1_764_322_800_000 + ((from + i) % 7), step: (from + i) % 11,
    })),
  };
}

describe('plain log-batch bodies read off the main thread', () => {
  it('summarises a plain batch exactly as applying its points one by one, and leaves everything else to the main thread', () => {
    const body = plainRequest('r1', 600);
    const batch = readPlainBatch(Buffer.from(JSON.stringify(body)))!;
    assert.equal(batch.runId, 'r1');
    assert.deepEqual(batch.summaries.map((s) => s.key), ['loss', 'acc', 'lr/group 0']);
    for (const s of batch.summaries) {
      const points = body.metrics.filter((m) => m.key === s.key);
      assert.equal(s.agg.count, points.length);
      assert.deepEqual([...s.records], points.flatMap((m) => [m.step, m.timestamp, m.value]));
      // MLflow's latest point: the greatest (step, timestamp, value).
      const latest = points.reduce((a, m) => (m.step > a.step || (m.step === a.step && (m.timestamp > a.timestamp || (m.timestamp === a.timestamp && m.value > a.value))) ? m : a));
      assert.equal(s.agg.latest, latest.value);
      assert.equal(s.agg.min, Math.min(...points.map((m) => m.value)));
      assert.equal(s.agg.max, Math.max(...points.map((m) => m.value)));
    }
    const notPlain: Array<[string, string | Buffer]> = [
      ['a "NaN" value', JSON.stringify({ run_id: 'r', metrics: [{ key: 'a', value: 'NaN', timestamp: 1 }] })],
      ['a param to log', JSON.stringify({ run_id: 'r', metrics: [{ key: 'a', value: 1, timestamp: 1 }], params: [{ key: 'p', value: '1' }] })],
      ['a key MLflow refuses', JSON.stringify({ run_id: 'r', metrics: [{ key: '../a', value: 1, timestamp: 1 }] })],
      ['more than 1000 metrics', JSON.stringify(plainRequest('r', 1001))],
      ['no metrics', JSON.stringify({ run_id: 'r', metrics: [] })],
      ['malformed JSON', '{"run_id": "r", "metrics": ['],
      ['a JSON list', '[1, 2]'],
      ['a double-encoded body', JSON.stringify(JSON.stringify(plainRequest('r', 3)))],
      ['bytes that are not UTF-8', Buffer.concat([Buffer.from('{"run_id":"\xff'), Buffer.from([0xff]), Buffer.from('","metrics":[{"key":"a","value":1,"timestamp":1}]}')])],
    ];
    for (const [what, text] of notPlain) assert.equal(readPlainBatch(Buffer.from(text)), undefined, what);
  });

  it('a large log-batch through the server goes through the thread, and indexes exactly as a reindex of the log', async () => {
    const { layout, tracking: t, ep, runId, postBatch } = await endpointWithRun();
    const post = (body: unknown) => postBatch(JSON.stringify(body));
    let threaded = 0;
    const logPlainBatch = ep.backend.logPlainBatch.bind(ep.backend);
    ep.backend.logPlainBatch = (batch) => {
      threaded++;
      return logPlainBatch(batch);
    };
    const big = plainRequest(runId, 1000);
    assert.ok(JSON.stringify(big).length >= 16 * 1024, 'large enough for the thread');
    // Concurrent requests, and one the thread leaves to the main thread (a NaN value).
    const replies = await Promise.all([
      post(big), post(plainRequest(runId, 1000, 1000)),
      post({ run_id: runId, metrics: [...plainRequest(runId, 999, 2000).metrics, { key: 'loss', value: 'NaN', timestamp: 1, step: 99 }] }),
    ]);
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
    // Errors keep MLflow's messages: an unknown run is 404 whichever thread read the body.
    const unknown = await post(plainRequest('0123456789abcdef0123456789abcdef', 1000));
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error_code: string }).error_code, 'RESOURCE_DOES_NOT_EXIST');

    assert.equal(threaded, 3, 'the two plain batches and the one for an unknown run were read by the thread');
    const types = fs.readFileSync(layout.eventsFile(runId), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).type);
    assert.deepEqual(types.filter((type) => type.includes('metrics')).sort(), ['metrics', 'mlflow_metrics', 'mlflow_metrics']);
    const got = await fetch(`${ep.uri}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: { Authorization: `Bearer ${ep.token}` } });
    assert.equal(got.status, 200, 'a read indexes what is pending first');
    const live = runDetailJson(t.getRun(runId)!);
    assert.equal(live.metrics.loss.count, 334 + 334 + 333 + 1);
    const history = t.metricHistory(runId, 'acc');
    await ep.stop();
    await t.reindex();
    assert.deepEqual(runDetailJson(t.getRun(runId)!), live);
    assert.deepEqual(t.metricHistory(runId, 'acc'), history);
    t.close();
  });

  it('without its thread (script missing, or the thread failed) every body is read on the main thread', async () => {
    const messages: string[] = [];
    const missing = new BatchReader((m) => messages.push(m), path.join(tmpWorkspace().root, 'no-such-worker.js'));
    assert.equal(await missing.read(Buffer.from(JSON.stringify(plainRequest('r', 3)))), undefined);
    assert.match(messages.join('\n'), /no-such-worker\.js is missing; log-batch bodies are read on the main thread/);
    await missing.dispose();

    // A real thread that fails on its first message.
    const failing = path.join(tmpWorkspace().root, 'failing-worker.js');
    fs.writeFileSync(failing, "require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom'); });\n");
    const reader = new BatchReader((m) => messages.push(m), failing);
    const body = Buffer.from(JSON.stringify(plainRequest('r', 3)));
    assert.deepEqual(await Promise.all([reader.read(body), reader.read(body)]), [undefined, undefined]);
    assert.match(messages.join('\n'), /the batch reader thread failed \(boom\)/);
    assert.equal(await reader.read(body), undefined, 'and it is not started again');
    await reader.dispose();
  });
});
