import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Tracking } from '../../src/core/tracking/tracking';
import { metricEvents, tmpWorkspace, writeRun } from './helpers';

const digestOf = (db: string): string => `${db}.sha256`;

describe('opening tracking.db without blocking: the integrity check only for files this engine did not save', () => {
  it('a tracking.db damaged inside, its header and size intact, is still rebuilt with the message', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 30));
    (await Tracking.open(layout.root)).close();
    assert.ok(fs.existsSync(digestOf(layout.trackingDb)), 'saving records the digest of what was saved');
    const bytes = fs.readFileSync(layout.trackingDb);
    bytes.fill(0xa5, 4096); // every page after the first: garbage, the same length
    fs.writeFileSync(layout.trackingDb, bytes);
    const messages: string[] = [];
    const t = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
    assert.equal(t.getRun(id)!.metrics[0].count, 30);
    assert.match(messages.join('\n'), /tracking\.db was unusable: .*; rebuilt it from 1 run log\./);
    t.close();
  });

  it('a tracking.db without its digest (saved by an older version) opens as it is, silently, and is not checked again', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 12));
    (await Tracking.open(layout.root)).close();
    const saved = fs.readFileSync(layout.trackingDb);
    fs.rmSync(digestOf(layout.trackingDb));
    const messages: string[] = [];
    const t = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
    assert.equal(t.getRun(id)!.metrics[0].count, 12);
    assert.deepEqual(messages, []);
    t.close();
    assert.deepEqual(fs.readFileSync(layout.trackingDb), saved, 'nothing changed, so nothing was saved');
    assert.ok(fs.existsSync(digestOf(layout.trackingDb)), 'the checked file got its digest');
  });

  it('a reader (another process owns the index) checks a tracking.db without digest but writes nothing, not even the digest', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 4));
    const owner = await Tracking.open(layout.root);
    fs.rmSync(digestOf(layout.trackingDb));
    const reader = await Tracking.open(layout.root);
    assert.ok(reader.readOnly);
    assert.equal(reader.getRun(id)!.metrics[0].count, 4);
    reader.close();
    assert.equal(fs.existsSync(digestOf(layout.trackingDb)), false);
    owner.close();
  });

  it('a stale digest (tracking.db replaced by another copy) only means the check runs: a good file opens silently', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 5));
    (await Tracking.open(layout.root)).close();
    fs.writeFileSync(digestOf(layout.trackingDb), '0'.repeat(64));
    const messages: string[] = [];
    const t = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
    assert.equal(t.getRun(id)!.metrics[0].count, 5);
    assert.deepEqual(messages, []);
    t.close();
  });
});

describe('sql.js loaded for a responsive thread (the extension host)', () => {
  const sqliteModule = path.join(__dirname, '..', '..', 'src', 'core', 'tracking', 'sqlite.js');

  it('the warm-up thread runs the index statements on the compiled module and reports done', async () => {
    const wasm = fs.readFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'));
    const module = await (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object> } }).WebAssembly.compile(wasm);
    const worker = new Worker(path.join(path.dirname(sqliteModule), 'sqliteWarmup.js'), { workerData: { module } });
    const answer = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(answer, 'done');
  });

  it('loadSqlJsWarm gives a working sql.js that opens a real tracking.db', async () => {
    const layout = tmpWorkspace();
    writeRun(layout, metricEvents('loss', 3));
    (await Tracking.open(layout.root)).close();
    const script = `require(${JSON.stringify(sqliteModule)}).loadSqlJsWarm().then((SQL) => {
      const db = new SQL.Database(require('node:fs').readFileSync(${JSON.stringify(layout.trackingDb)}));
      console.log(JSON.stringify(db.exec('SELECT COUNT(*) FROM runs')[0].values[0][0]));
    })`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1');
  });
});
