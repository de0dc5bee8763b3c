import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { MAX_INDEXED_PARAM_CHARS } from '../../src/core/tracking/ingest';
import { Tracking } from '../../src/core/tracking/tracking';
import { metricEvents, tmpWorkspace, writeRun } from './helpers';

async function open(root: string, messages: string[] = []): Promise<Tracking> {
  return Tracking.open(root, { onMessage: (m) => messages.push(m) });
}

describe('ingest of run event logs', () => {
  it('reads params, metrics, tags, artifacts and the end of a run', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, [
      { type: 'param', key: 'lr', value: '0.1' },
      ...metricEvents('loss', 5),
      { type: 'tag', key: 'team', value: 'vision' },
      { type: 'artifact', path: 'model.json', size: 12, sha256: 'ab' },
      { type: 'run_end', status: 'FINISHED', exit_code: 0, time: 1_700_000_005_000 },
    ]);
    const t = await open(layout.root);
    const run = t.getRun(id)!;
    assert.equal(run.status, 'FINISHED');
    assert.equal(run.exit_code, 0);
    assert.equal(run.end_time, 1_700_000_005_000);
    assert.deepEqual(run.params, { lr: '0.1' });
    assert.deepEqual(run.tags, { team: 'vision' });
    assert.deepEqual(run.artifacts, [{ path: 'model.json', size: 12, sha256: 'ab' }]);
    const loss = run.metrics[0];
    assert.equal(loss.key, 'loss');
    assert.equal(loss.count, 5);
    assert.equal(loss.step, 4);
    assert.equal(loss.latest, 1 / 5);
    assert.equal(loss.min, 1 / 5);
    assert.equal(loss.max, 1);
    const history = t.metricHistory(id, 'loss');
    assert.deepEqual([...history.steps], [0, 1, 2, 3, 4]);
    assert.deepEqual([...history.values], [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]);
    t.close();
  });

  it('reads only new lines on the next refresh, and waits for a line still being written', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 3));
    const t = await open(layout.root);
    fs.appendFileSync(layout.eventsFile(id), '{"type":"metric","time":1,"key":"loss","value":9,"step":3}\n{"type":"metric","time":2,"key":"lo');
    let result = t.refresh();
    assert.equal(result.lines, 1, 'only the one complete new line is read');
    assert.equal(t.getRun(id)!.metrics[0].count, 4);
    fs.appendFileSync(layout.eventsFile(id), 'ss","value":10,"step":4}\n');
    result = t.refresh();
    assert.equal(result.lines, 1);
    assert.equal(t.getRun(id)!.metrics[0].latest, 10);
    assert.equal(t.metricHistory(id, 'loss').values.length, 5);
    assert.equal(t.refresh().changed.length, 0, 'nothing new: nothing read');
    t.close();
  });

  it('skips malformed lines with a message naming the file and line, and reads the rest', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, []);
    fs.appendFileSync(layout.eventsFile(id), [
      '{"type":"param","time":1,"key":"a","value":"1"}',
      'this is not json',
      '{"type":"metric","time":1,"key":"loss","value":"high","step":0}',
      '[1,2,3]',
      '{"type":"metric","time":1,"key":"loss","value":0.5,"step":1.5}',
      '{"type":"param","time":1,"key":"b","value":"2"}',
      '',
    ].join('\n'));
    const messages: string[] = [];
    const t = await open(layout.root, messages);
    assert.deepEqual(t.getRun(id)!.params, { a: '1', b: '2' });
    const file = layout.eventsFile(id);
    assert.ok(messages.some((m) => m.startsWith(`${file}:3: not valid JSON`)), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith(`${file}:4: metric "loss" value "high" is not a number`)), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith(`${file}:5: not a JSON object`)));
    assert.ok(messages.some((m) => m.startsWith(`${file}:6: metric "loss" step is not an integer`)));
    t.close();
  });

  it('reads a line with bytes that are not UTF-8, replacing them and saying so', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, []);
    fs.appendFileSync(layout.eventsFile(id), Buffer.concat([
      Buffer.from('{"type":"param","time":1,"key":"name","value":"caf'), Buffer.from([0xe9, 0xff]), Buffer.from('"}\n'),
      Buffer.from('{"type":"param","time":1,"key":"ok","value":"yes"}\n'),
    ]));
    const messages: string[] = [];
    const t = await open(layout.root, messages);
    const params = t.getRun(id)!.params;
    assert.equal(params.name, 'caf\uFFFD\uFFFD');
    assert.equal(params.ok, 'yes');
    assert.ok(messages.some((m) => m.includes(':2: bytes that are not valid UTF-8')), messages.join('\n'));
    t.close();
  });

  it('keeps a 10 MB param in the log but indexes its first 64 KiB, with a message', async () => {
    const layout = tmpWorkspace();
    const big = 'x'.repeat(10 * 1024 * 1024);
    const id = writeRun(layout, [{ type: 'param', key: 'blob', value: big }]);
    const messages: string[] = [];
    const t = await open(layout.root, messages);
    assert.equal(t.getRun(id)!.params.blob.length, MAX_INDEXED_PARAM_CHARS);
    assert.ok(messages.some((m) => m.includes('param "blob" is 10485760 characters')), messages.join('\n'));
    assert.ok(fs.statSync(layout.eventsFile(id)).size > big.length, 'the log keeps the whole value');
    t.close();
  });

  it('keeps NaN and ±Infinity metric values; min and max ignore NaN', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, [
      { type: 'metric', key: 'loss', value: 2, step: 0 },
      { type: 'metric', key: 'loss', value: 'Infinity', step: 1 },
      { type: 'metric', key: 'loss', value: '-Infinity', step: 2 },
      { type: 'metric', key: 'loss', value: 'NaN', step: 3 },
    ]);
    const t = await open(layout.root);
    const loss = t.getRun(id)!.metrics[0];
    assert.ok(Number.isNaN(loss.latest));
    assert.equal(loss.min, -Infinity);
    assert.equal(loss.max, Infinity);
    const values = [...t.metricHistory(id, 'loss').values];
    assert.equal(values[1], Infinity);
    assert.ok(Number.isNaN(values[3]));
    t.close();
  });

  it('handles 10,000 metric keys in one run, including keys that are not file names', async () => {
    const layout = tmpWorkspace();
    const events = [];
    for (let i = 0; i < 10_000; i++) events.push({ type: 'metric' as const, key: `layer/${i}/grad norm`, value: i, step: 0 });
    events.push({ type: 'metric' as const, key: '../../escape', value: 1, step: 0 });
    const id = writeRun(layout, events);
    const t = await open(layout.root);
    const run = t.getRun(id)!;
    assert.equal(run.metrics.length, 10_001);
    assert.equal(t.metricHistory(id, 'layer/9999/grad norm').values[0], 9999);
    assert.equal(t.metricHistory(id, '../../escape').values[0], 1);
    assert.ok(!fs.existsSync(layout.dir + '/escape.f64'));
    t.close();
  });

  it('removes the rows of a run whose folder was deleted', async () => {
    const layout = tmpWorkspace();
    const keep = writeRun(layout, []);
    const gone = writeRun(layout, metricEvents('loss', 2));
    const t = await open(layout.root);
    fs.rmSync(layout.runDir(gone), { recursive: true });
    const result = t.refresh();
    assert.deepEqual(result.removed, [gone]);
    assert.deepEqual(t.listRuns().map((r) => r.id), [keep]);
    t.close();
  });

  it('renames a run through its log, so the name survives a reindex', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, []);
    const t = await open(layout.root);
    t.renameRun(id, '  baseline  ');
    assert.equal(t.getRun(id)!.name, 'baseline');
    await t.reindex();
    assert.equal(t.getRun(id)!.name, 'baseline');
    assert.throws(() => t.renameRun(id, '   '), /cannot be empty/);
    t.close();
  });

  it('reads a `metrics` line point by point, exactly as the equivalent `metric` lines', async () => {
    const layout = tmpWorkspace();
    const points: [string, number | 'NaN' | 'Infinity' | '-Infinity', number, number][] = [
      ['loss', 0.9, 0, 1_700_000_000_010], ['acc', 0.1, 0, 1_700_000_000_011], ['loss', 'NaN', 1, 1_700_000_000_020],
      ['loss', 0.5, 1, 1_700_000_000_021], ['acc', 'Infinity', 2, 1_700_000_000_030], ['acc', '-Infinity', 2, 1_700_000_000_030],
      ['loss', 0.7, 0, 1_700_000_000_040], ['a/b c', -0.25, 5, 1_700_000_000_050],
    ];
    const batched = writeRun(layout, [
      { type: 'param', key: 'lr', value: '0.1' },
      { type: 'metrics', points, time: 1_700_000_000_099 },
      { type: 'tag', key: 'after', value: 'yes' },
    ]);
    const single = writeRun(layout, [
      { type: 'param', key: 'lr', value: '0.1' },
      ...points.map(([key, value, step, time]) => ({ type: 'metric' as const, key, value, step, time })),
      { type: 'tag', key: 'after', value: 'yes' },
    ]);
    const messages: string[] = [];
    const t = await open(layout.root, messages);
    assert.deepEqual(messages.filter((m) => m.includes('events.jsonl')), []);
    const a = t.getRun(batched)!, b = t.getRun(single)!;
    assert.deepEqual(a.metrics, b.metrics);
    assert.deepEqual(a.params, b.params);
    assert.deepEqual(a.tags, { after: 'yes' });
    assert.equal(a.metrics.find((m) => m.key === 'loss')!.count, 4);
    for (const key of ['loss', 'acc', 'a/b c']) assert.deepEqual(t.metricHistory(batched, key), t.metricHistory(single, key), key);
    // The same again after a rebuild from the logs.
    await t.reindex();
    assert.deepEqual(t.getRun(batched)!.metrics, t.getRun(single)!.metrics);
    t.close();
  });

  it('skips a malformed `metrics` line whole, with a message naming the file and line', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, []);
    fs.appendFileSync(layout.eventsFile(id), [
      '{"type":"metrics","time":1,"points":[["loss",0.5,0,10]]}',
      '{"type":"metrics","time":1,"points":[["loss",0.4,1,11],["loss","high",2,12]]}',
      '{"type":"metrics","time":1,"points":{"loss":1}}',
      '{"type":"metrics","time":1,"points":[["",1,0,1]]}',
      '{"type":"metrics","time":1,"points":[["loss",1,0.5,1]]}',
      '{"type":"metrics","time":1,"points":[["loss",1,0]]}',
      '{"type":"metrics","time":1,"points":[["loss",0.3,3,13]]}',
      '',
    ].join('\n'));
    const messages: string[] = [];
    const t = await open(layout.root, messages);
    const file = layout.eventsFile(id);
    const loss = t.getRun(id)!.metrics.find((m) => m.key === 'loss')!;
    assert.equal(loss.count, 2, 'only the two good lines');
    assert.deepEqual([...t.metricHistory(id, 'loss').steps], [0, 3]);
    assert.ok(messages.some((m) => m.startsWith(`${file}:3: metrics point 1 ["loss","high",2,12] is not [key, value, step, timestamp]`)), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith(`${file}:4: metrics without a "points" list`)), messages.join('\n'));
    for (const line of [5, 6, 7]) assert.ok(messages.some((m) => m.startsWith(`${file}:${line}: metrics point 0 `)), `line ${line}: ${messages.join('\n')}`);
    t.close();
  });
});
