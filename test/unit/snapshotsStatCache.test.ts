import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SnapshotStore } from '../../src/core/snapshots';
import { tmpWorkspace } from './helpers';
import { assertFsck, writeTree } from './snapshotHelpers';

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
