import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { describe, it } from 'node:test';
import { RECORD_BYTES } from '../../src/core/tracking/metricHistory';
import { runDetailJson } from '../../src/core/tracking/runJson';
import { Tracking } from '../../src/core/tracking/tracking';
import { metricEvents, tmpWorkspace, writeRun } from './helpers';

describe('tracking.db: saving, rebuilding and the writer lock', () => {
  it('saves atomically and reopens without reading the logs again', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 10));
    const first = await Tracking.open(layout.root);
    first.close();
    assert.ok(fs.existsSync(layout.trackingDb));
    assert.deepEqual(fs.readdirSync(layout.dir).filter((f) => f.endsWith('.tmp')), []);
    const second = await Tracking.open(layout.root);
    assert.equal(second.refresh().lines, 0);
    assert.equal(second.getRun(id)!.metrics[0].count, 10);
    second.close();
  });

  it('rebuilds a missing tracking.db to the same contents, silently (a first use, not damage)', async () => {
    const layout = tmpWorkspace();
    const ids = [writeRun(layout, [{ type: 'param', key: 'lr', value: '0.1' }, ...metricEvents('loss', 50)]), writeRun(layout, metricEvents('acc', 3))];
    const t = await Tracking.open(layout.root);
    const before = ids.map((id) => runDetailJson(t.getRun(id)!));
    t.close();
    fs.rmSync(layout.trackingDb);
    const messages: string[] = [];
    const again = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
    assert.deepEqual(ids.map((id) => runDetailJson(again.getRun(id)!)), before);
    assert.deepEqual(messages, []);
    again.close();
  });

  it('rebuilds a truncated or garbage tracking.db with a message, not an error', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 20));
    (await Tracking.open(layout.root)).close();
    for (const damage of [() => fs.truncateSync(layout.trackingDb, 1000), () => fs.writeFileSync(layout.trackingDb, 'garbage, not SQLite')]) {
      damage();
      const messages: string[] = [];
      const t = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
      assert.equal(t.getRun(id)!.metrics[0].count, 20);
      assert.match(messages.join('\n'), /tracking\.db was unusable: .*; rebuilt it from 1 run log\./);
      t.close();
    }
  });

  it('drops history points written after the last save (a crash between them) instead of doubling them', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 10));
    const t = await Tracking.open(layout.root);
    t.close();
    const dbAtSave = fs.readFileSync(layout.trackingDb);
    // More lines arrive, are ingested into the history files, but the process dies before saving.
    fs.appendFileSync(layout.eventsFile(id), metricEvents('loss', 5, 10).map((e) => JSON.stringify({ ...e, time: 1 }) + '\n').join(''));
    const crashed = await Tracking.open(layout.root);
    crashed.close();
    fs.writeFileSync(layout.trackingDb, dbAtSave);
    const t2 = await Tracking.open(layout.root);
    const history = t2.metricHistory(id, 'loss');
    assert.deepEqual([...history.steps], [...Array(15).keys()]);
    assert.equal(t2.getRun(id)!.metrics[0].count, 15);
    t2.close();
  });

  it('re-reads a run whose history file went missing', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, metricEvents('loss', 7));
    (await Tracking.open(layout.root)).close();
    fs.rmSync(layout.runHistoryDir(id), { recursive: true });
    const t = await Tracking.open(layout.root);
    assert.equal(t.metricHistory(id, 'loss').values.length, 7);
    assert.equal(fs.statSync(`${layout.runHistoryDir(id)}/loss.f64`).size, 7 * RECORD_BYTES);
    t.close();
  });

  it('lets one process write; a second opens read-only without a word, still sees new runs, and saves nothing', async () => {
    const layout = tmpWorkspace();
    writeRun(layout, []);
    const owner = await Tracking.open(layout.root);
    assert.equal(owner.readOnly, false);
    const messages: string[] = [];
    const reader = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
    assert.equal(reader.readOnly, true);
    assert.deepEqual(messages, [], 'reading while another process owns the index is the normal case');
    assert.match(reader.whyReadOnly!, new RegExp(`in use by process ${process.pid}`));
    const later = writeRun(layout, metricEvents('loss', 3));
    reader.refresh();
    assert.equal(reader.getRun(later)!.metrics[0].count, 3);
    const savedBefore = fs.statSync(layout.trackingDb).mtimeMs;
    reader.close();
    assert.equal(fs.statSync(layout.trackingDb).mtimeMs, savedBefore);
    assert.ok(fs.existsSync(layout.trackingLock), "a reader does not remove the writer's lock");
    owner.close();
    assert.ok(!fs.existsSync(layout.trackingLock));
  });

  it('marks a run KILLED when its process died without a run_end and its log went quiet', async () => {
    const layout = tmpWorkspace();
    const dead = spawnSync('true').pid!;
    const orphan = writeRun(layout, [{ type: 'capture', capture: { pid: dead, host: os.hostname() } }, ...metricEvents('loss', 3)]);
    const recent = writeRun(layout, [{ type: 'capture', capture: { pid: dead, host: os.hostname() } }]);
    const alive = writeRun(layout, [{ type: 'capture', capture: { pid: process.pid, host: os.hostname() } }]);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(layout.eventsFile(orphan), old, old);
    fs.utimesSync(layout.eventsFile(alive), old, old);
    const messages: string[] = [];
    const t = await Tracking.open(layout.root, { onMessage: (m) => messages.push(m) });
    assert.equal(t.getRun(orphan)!.status, 'KILLED');
    assert.equal(t.getRun(orphan)!.metrics[0].count, 3, 'its metrics stay');
    assert.equal(t.getRun(recent)!.status, 'RUNNING', 'a log written seconds ago may still get its launcher\'s run_end');
    assert.equal(t.getRun(alive)!.status, 'RUNNING');
    assert.match(messages.join('\n'), new RegExp(`lost its process ${dead} without ending; marked it KILLED`));
    t.close();
  });

  it('takes over a lock left by a process that died', async () => {
    const layout = tmpWorkspace();
    fs.writeFileSync(layout.trackingLock, JSON.stringify({ pid: spawnSync('true').pid!, host: os.hostname(), since: 0 }));
    const t = await Tracking.open(layout.root);
    assert.equal(t.readOnly, false);
    t.close();
  });
});
