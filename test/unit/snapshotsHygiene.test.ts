import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SnapshotError, SnapshotStore, snapshotsGitDir } from '../../src/core/snapshots';
import type { MlopsLayout } from '../../src/core/workspace/layout';
import { tmpWorkspace } from './helpers';
import { assertFsck, gitCli, refsOf, savedStatCache, tempFilesIn, writeTree } from './snapshotHelpers';

/** `git count-objects -v`'s garbage count: files in the object store git does not recognise. */
function gitGarbage(layout: MlopsLayout): number {
  const out = gitCli(['--git-dir', snapshotsGitDir(layout), 'count-objects', '-v']);
  return Number(/^garbage: (\d+)$/m.exec(out)?.[1]);
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

describe('snapshot store hygiene', () => {
  it('makes a whole store when the workspace had no .mlops/ yet at open: git fsck passes, and the stat cache holds', async () => {
    const layout = tmpWorkspace();
    writeTree(layout.root, { 'data/a.csv': 'x,1\n' });
    fs.rmSync(layout.dir, { recursive: true });
    const store = await SnapshotStore.open(layout); // nothing may be created yet: a store that reads as none
    assert.deepEqual(await store.list(), []);
    const info = await store.snapshot(['data'], { message: 'first' });
    assertFsck(layout);
    assert.equal(gitCli(['--git-dir', snapshotsGitDir(layout), 'rev-parse', 'refs/heads/snapshots']).trim(), info.id);
    assert.equal(savedStatCache(layout).pathsUnder('.').length, 1, 'the cache belongs to the store made');
  });

  it('removes the temp files a SIGKILLed snapshot left, at the next snapshot; git fsck passes', async () => {
    const layout = tmpWorkspace();
    const files: Record<string, string | Buffer> = { 'models/weights.bin': crypto.randomBytes(96 * 1024 * 1024) };
    for (let i = 0; i < 2000; i++) files[`data/part-${i}.csv`] = crypto.randomBytes(3000).toString('hex');
    writeTree(layout.root, files);
    await (await SnapshotStore.open(layout)).snapshot(['data/part-0.csv'], { message: 'a first snapshot, so the store exists' });

    // A child snapshots everything (a pack of small files, a large streamed object); it is killed mid-write.
    const storeModule = path.join(__dirname, '..', '..', 'src', 'core', 'snapshots', 'index.js');
    const layoutModule = path.join(__dirname, '..', '..', 'src', 'core', 'workspace', 'layout.js');
    const script = `
      const { SnapshotStore } = require(${JSON.stringify(storeModule)});
      const { MlopsLayout } = require(${JSON.stringify(layoutModule)});
      SnapshotStore.open(new MlopsLayout(process.argv[1])).then((s) => s.snapshot(['data', 'models'], { message: 'killed' }));`;
    const child = spawn(process.execPath, ['-e', script, layout.root], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let left: string[] = [];
    let running = true;
    void exited.then(() => { running = false; });
    while (running && left.length < 2) {
      left = tempFilesIn(layout);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await exited;
    left = tempFilesIn(layout);
    assert.ok(left.length > 0, 'the child was killed while it had temp files open (if it finished first, the machine was faster than this test expects)');
    assert.ok(left.every((f) => fs.existsSync(f)));

    writeTree(layout.root, { 'data/part-0.csv': 'changed\n' });
    const info = await (await SnapshotStore.open(layout)).snapshot(['data/part-0.csv'], { message: 'next' });
    assert.deepEqual(tempFilesIn(layout), [], 'the next snapshot removed the killed one\'s temp files');
    assert.equal(gitGarbage(layout), 0);
    assertFsck(layout);
    assert.equal(gitCli(['--git-dir', snapshotsGitDir(layout), 'log', '--format=%H', '-1']).trim(), info.id);
  });

  it('removes temp files of writers that are gone, and keeps those of a writer still running', async () => {
    const layout = tmpWorkspace();
    writeTree(layout.root, { 'data/a.csv': 'a\n1\n' });
    const store = await SnapshotStore.open(layout);
    await store.snapshot(['data'], { message: 'first' });
    const gitdir = snapshotsGitDir(layout);
    const dead = deadPid();
    const abandoned = [
      path.join(gitdir, 'objects', `tmp_obj_${dead}_0a1b2c3d4e5f`),
      path.join(gitdir, 'objects', 'pack', `tmp_pack_${dead}_0a1b2c3d4e5f`),
      path.join(gitdir, 'objects', 'pack', `pack-${'1'.repeat(40)}.idx.${dead}.tmp`),
      path.join(gitdir, 'refs', 'heads', `snapshots.${dead}.0a1b2c3d.tmp`),
    ];
    const live = path.join(gitdir, 'objects', `tmp_obj_${process.pid}_0a1b2c3d4e5f`);
    for (const f of [...abandoned, live]) fs.writeFileSync(f, crypto.randomBytes(1000));
    assert.ok(gitGarbage(layout) > 0, 'git sees the leftovers as garbage');

    writeTree(layout.root, { 'data/a.csv': 'a\n2\n' });
    await store.snapshot(['data'], { message: 'second' });
    for (const f of abandoned) assert.ok(!fs.existsSync(f), `${path.basename(f)} was removed`);
    assert.ok(fs.existsSync(live), 'a temp file of a running writer is kept');
    fs.rmSync(live);
    assert.equal(gitGarbage(layout), 0);
    assertFsck(layout);
  });

  for (const [what, content] of [
    ['garbage text', 'not a commit id\n'],
    ['an id the store lacks', `${'0123456789abcdef'.repeat(3).slice(0, 40)}\n`],
    ['nothing (an empty file)', ''],
  ] as const) {
    it(`refuses to commit on a chain ref holding ${what}, names the ref and the repair; git log and fsck stay healthy`, async () => {
      const layout = tmpWorkspace();
      writeTree(layout.root, { 'data/a.csv': 'a\n1\n' });
      const good = await (await SnapshotStore.open(layout)).snapshot(['data'], { message: 'good' });
      const gitdir = snapshotsGitDir(layout);
      const refFile = path.join(gitdir, 'refs', 'heads', 'snapshots');
      fs.writeFileSync(refFile, content);
      const refsBefore = refsOf(layout);

      writeTree(layout.root, { 'data/a.csv': 'a\n2\n' });
      const store = await SnapshotStore.open(layout);
      await assert.rejects(store.snapshot(['data'], { message: 'on a broken chain' }), (e: unknown) => {
        assert.ok(e instanceof SnapshotError);
        assert.equal(e.code, 'broken-chain', e.message);
        assert.match(e.message, /refs\/heads\/snapshots \(\.mlops\/snapshots\.git\/refs\/heads\/snapshots\) is broken/);
        assert.match(e.message, /No snapshot was made/);
        assert.match(e.message, /mlops snapshots list/);
        assert.match(e.message, /echo <id> > \.mlops\/snapshots\.git\/refs\/heads\/snapshots/);
        return true;
      });
      assert.equal(refsOf(layout), refsBefore, 'no ref moved');
      const commits = gitCli(['--git-dir', gitdir, 'cat-file', '--batch-all-objects', '--batch-check=%(objecttype) %(objectname)']).split('\n').filter((l) => l.startsWith('commit '));
      assert.deepEqual(commits, [`commit ${good.id}`], 'no commit was written (new blobs and trees may be: unreferenced, harmless)');
      assert.deepEqual((await store.list()).filter((s) => !s.damaged).map((s) => s.id), [good.id], 'list still shows the good snapshot');

      // The repair the message names works, and the chain goes on from the good snapshot.
      fs.writeFileSync(refFile, `${good.id}\n`);
      const next = await store.snapshot(['data'], { message: 'after the repair' });
      assert.equal(next.parent, good.id);
      assertFsck(layout);
      assert.deepEqual(gitCli(['--git-dir', gitdir, 'log', '--format=%H']).trim().split('\n'), [next.id, good.id]);
    });
  }
});
