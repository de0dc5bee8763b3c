import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SnapshotStore, snapshotsGitDir } from '../../src/core/snapshots';
import { tmpWorkspace } from './helpers';
import { assertFsck, gitCli, savedStatCache, writeTree } from './snapshotHelpers';

/** Files old enough that the stat cache trusts them (not "racily clean"). */
function age(root: string, rels: string[], seconds: number): void {
  const t = Date.now() / 1000 - seconds;
  for (const r of rels) fs.utimesSync(path.join(root, r), t, t);
}

describe('re-snapshot with the stat cache: an unchanged file is not read, a changed one always is', () => {
  it('finds a file whose content changed with its size kept (only its mtime tells), one whose size changed, and one removed', async () => {
    const layout = tmpWorkspace();
    const files = { 'data/a.csv': 'x,1\n', 'data/b.csv': 'y,2\n', 'data/sub/c.csv': 'z,3\n', 'data/sub/d.csv': 'w,4\n' };
    writeTree(layout.root, files);
    age(layout.root, Object.keys(files), 60);
    const store = await SnapshotStore.open(layout);
    const first = await store.snapshot(['data'], { message: 'first' });
    const again = await store.snapshot(['data'], { message: 'unchanged' });
    assert.deepEqual(await store.diff(first.id, again.id), { added: [], removed: [], changed: [] });

    fs.writeFileSync(path.join(layout.root, 'data/a.csv'), 'x,9\n'); // same size
    age(layout.root, ['data/a.csv'], 30); // a new mtime, still old enough to be trusted later
    fs.appendFileSync(path.join(layout.root, 'data/sub/c.csv'), 'more\n');
    age(layout.root, ['data/sub/c.csv'], 30);
    fs.rmSync(path.join(layout.root, 'data/sub/d.csv'));
    const changed = await store.snapshot(['data'], { message: 'changed' });
    const d = await store.diff(again.id, changed.id);
    assert.deepEqual(d.changed.map((c) => c.path), ['data/a.csv', 'data/sub/c.csv']);
    assert.deepEqual(d.removed.map((r) => r.path), ['data/sub/d.csv']);
    assert.equal(Buffer.from(await store.readFile(changed.id, 'data/a.csv')).toString(), 'x,9\n');
    assert.equal(Buffer.from(await store.readFile(changed.id, 'data/sub/c.csv')).toString(), 'z,3\nmore\n');
    assert.equal(changed.fileCount, 3);
    assertFsck(layout);
  });
});

/** The tree `git add -A data && git write-tree` makes of the workspace now (the .mlopsignore patterns as git excludes). */
function gitTree(root: string): string {
  const gitDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-gittree-'));
  try {
    gitCli(['init', '-q', '--bare', gitDir]);
    const ignore = path.join(root, '.mlopsignore');
    fs.writeFileSync(path.join(gitDir, 'info', 'exclude'), `.mlops/\n${fs.existsSync(ignore) ? fs.readFileSync(ignore, 'utf8') : ''}`);
    const git = ['--git-dir', gitDir, '--work-tree', root, '-c', 'core.bare=false'];
    gitCli([...git, 'add', '-A', 'data'], root);
    return gitCli([...git, 'write-tree'], root).trim();
  } finally {
    fs.rmSync(gitDir, { recursive: true, force: true });
  }
}

describe('re-snapshot reuses the trees of folders in which nothing changed, and only those', () => {
  it('holds exactly what git would after a lone removal, an empty folder, a .mlopsignore change and an in-place restore', async () => {
    const layout = tmpWorkspace();
    const files = { 'data/a.csv': 'x,1\n', 'data/b.csv': 'y,2\n', 'data/sub/c.csv': 'z,3\n', 'data/sub/d.csv': 'w,4\n', 'data/sub/deep/e.csv': 'v,5\n' };
    writeTree(layout.root, files);
    age(layout.root, Object.keys(files), 60);
    const store = await SnapshotStore.open(layout);
    const treeOf = (id: string): string => gitCli(['--git-dir', snapshotsGitDir(layout), 'rev-parse', `${id}^{tree}`]).trim();
    const snap = async (what: string): Promise<string> => {
      const id = (await store.snapshot(['data'], { message: what })).id;
      assert.equal(treeOf(id), gitTree(layout.root), `${what}: the snapshot's tree is the one git makes of the same files`);
      return id;
    };

    const first = await snap('first');
    await snap('unchanged'); // every folder's tree comes from the cache
    assert.equal(savedStatCache(layout).tree('data')?.oid, gitCli(['--git-dir', snapshotsGitDir(layout), 'rev-parse', `${first}:data`]).trim());

    fs.rmSync(path.join(layout.root, 'data/sub/d.csv')); // no other file changes: only the count tells
    await snap('one file removed');
    fs.mkdirSync(path.join(layout.root, 'data/sub/empty')); // git keeps no empty folder
    await snap('an empty folder');
    fs.writeFileSync(path.join(layout.root, '.mlopsignore'), 'data/b.csv\ndata/sub/deep/\n');
    await snap('b.csv and a folder excluded');
    fs.rmSync(path.join(layout.root, '.mlopsignore'));
    await snap('excluded no more');

    await store.restore(first, { overwrite: true }); // brings d.csv back: its entry is new, its folders' trees are dropped
    const restored = await snap('after an in-place restore');
    assert.equal(treeOf(restored), treeOf(first));
    assertFsck(layout);
  });

  it('keeps no tree recorded by a process that another one saved over meanwhile (its file entries may have changed)', async () => {
    const layout = tmpWorkspace();
    writeTree(layout.root, { 'data/a.csv': 'x,1\n', 'data/b.csv': 'y,2\n' });
    age(layout.root, ['data/a.csv', 'data/b.csv'], 60);
    await (await SnapshotStore.open(layout)).snapshot(['data'], { message: 'first' });
    const mine = savedStatCache(layout);
    const other = savedStatCache(layout);
    const a = fs.lstatSync(path.join(layout.root, 'data/a.csv'));
    other.set('data/a.csv', a, 'f'.repeat(40), Date.now());
    other.save();
    mine.setTree('data', 'e'.repeat(40), 2);
    mine.set('data/b.csv', fs.lstatSync(path.join(layout.root, 'data/b.csv')), 'd'.repeat(40), Date.now());
    mine.setTree('data', 'e'.repeat(40), 2);
    mine.save();
    const saved = savedStatCache(layout);
    assert.equal(saved.tree('data'), undefined, 'the tree recorded over a newer save is dropped');
    assert.equal(saved.recordedBlob('data/a.csv'), 'f'.repeat(40), "the other process's entry is kept");
    assert.equal(saved.recordedBlob('data/b.csv'), 'd'.repeat(40), "this process's entry is merged");
  });
});
