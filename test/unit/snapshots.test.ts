import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SnapshotError, SnapshotStore, snapshotsGitDir, type SnapshotProgress } from '../../src/core/snapshots';
import { tmpWorkspace } from './helpers';
import { assertFsck, gitCli, refsOf, savedStatCache, tempFilesIn, writeTree } from './snapshotHelpers';

async function workspaceWithData() {
  const layout = tmpWorkspace();
  writeTree(layout.root, {
    'data/train.csv': 'x,y\n1,2\n3,4\n',
    'data/test.csv': 'x,y\n5,6\n',
    'data/images/a.png': crypto.randomBytes(70_000),
    'data/images/b.png': crypto.randomBytes(1000),
    'models/model.onnx': crypto.randomBytes(600_000), // streamed (larger than the small-file limit)
    'notes.md': '# notes\n',
  });
  const store = await SnapshotStore.open(layout);
  return { layout, store };
}

describe('snapshot store: snapshot, list, show, diff, read', () => {
  it('creates .mlops/snapshots.git as a bare repository and snapshots files and folders at their workspace paths', async () => {
    const { layout, store } = await workspaceWithData();
    assert.equal(gitCli(['--git-dir', snapshotsGitDir(layout), 'rev-parse', '--is-bare-repository']).trim(), 'true');
    const info = await store.snapshot(['data', 'models/model.onnx'], { message: 'raw data', author: 'Ada <ada@example.com>' });
    assert.match(info.id, /^[0-9a-f]{40}$/);
    assert.equal(info.message, 'raw data');
    assert.equal(info.author, 'Ada');
    assert.deepEqual(info.paths, ['data', 'models/model.onnx']);
    assert.equal(info.fileCount, 5);
    assert.equal(info.totalBytes, 12 + 8 + 70_000 + 1000 + 600_000);
    assert.deepEqual(info.tags, []);
    assert.ok(Math.abs(info.time - Date.now()) < 5000);

    const { files } = await store.show(info.id);
    assert.deepEqual(files.map((f) => [f.path, f.size]), [
      ['data/images/a.png', 70_000], ['data/images/b.png', 1000], ['data/test.csv', 8], ['data/train.csv', 12], ['models/model.onnx', 600_000],
    ]);
    // The tree is plain git: git itself reads the same files and content.
    assert.deepEqual(gitCli(['--git-dir', snapshotsGitDir(layout), 'ls-tree', '-r', '--name-only', info.id]).trim().split('\n'), files.map((f) => f.path));
    assert.equal(gitCli(['--git-dir', snapshotsGitDir(layout), 'show', `${info.id}:data/train.csv`]), 'x,y\n1,2\n3,4\n');
    const model = Buffer.from(await store.readFile(info.id, 'models/model.onnx'));
    assert.ok(model.equals(fs.readFileSync(path.join(layout.root, 'models/model.onnx'))));
    assert.equal(files[4].blob, gitCli(['hash-object', path.join(layout.root, 'models/model.onnx')]).trim());
    assertFsck(layout);
  });

  it('chains snapshots so git log lists them, lists them newest first, and git clone works', async () => {
    const { layout, store } = await workspaceWithData();
    const a = await store.snapshot(['data'], { message: 'first' });
    fs.appendFileSync(path.join(layout.root, 'data/train.csv'), '7,8\n');
    const b = await store.snapshot(['data'], { message: 'second' });
    const c = await store.snapshot(['notes.md'], { message: 'third' });
    assert.deepEqual((await store.list()).map((s) => s.id), [c.id, b.id, a.id]);
    assert.equal(b.parent, a.id);
    const gitDir = snapshotsGitDir(layout);
    assert.deepEqual(gitCli(['--git-dir', gitDir, 'log', '--format=%H %s']).trim().split('\n'), [`${c.id} third`, `${b.id} second`, `${a.id} first`]);
    assert.match(gitCli(['--git-dir', gitDir, 'log', '-1', '--format=%B', a.id]), /Mlops-Path: data/);
    const clone = path.join(layout.root, 'clone');
    gitCli(['clone', '-q', gitDir, clone]);
    assert.equal(fs.readFileSync(path.join(clone, 'notes.md'), 'utf8'), '# notes\n'); // the newest snapshot is checked out
    assertFsck(layout);
  });

  it('keeps other trailers in the message and the chosen paths across reopening', async () => {
    const { layout, store } = await workspaceWithData();
    const run = 'a'.repeat(32);
    const info = await store.snapshot([path.join(layout.root, 'data'), './notes.md'], { message: `for a run\n\nMlops-Run: ${run}` });
    const again = await SnapshotStore.open(layout);
    const [listed] = await again.list();
    assert.equal(listed.message, `for a run\n\nMlops-Run: ${run}`);
    assert.deepEqual(listed.paths, ['data', 'notes.md']);
    assert.equal(listed.id, info.id);
    assert.match(gitCli(['--git-dir', snapshotsGitDir(layout), 'log', '-1', '--format=%B']), new RegExp(`Mlops-Run: ${run}\nMlops-Files: 5\n`));
  });

  it('diffs two snapshots: added, removed and changed files with sizes', async () => {
    const { layout, store } = await workspaceWithData();
    const a = await store.snapshot(['data'], { message: 'a' });
    fs.writeFileSync(path.join(layout.root, 'data/train.csv'), 'x,y\n1,2\n3,4\n9,9\n');
    fs.rmSync(path.join(layout.root, 'data/images'), { recursive: true });
    writeTree(layout.root, { 'data/new/c.csv': 'c\n' });
    const b = await store.snapshot(['data'], { message: 'b' });
    const d = await store.diff(a.id, b.id);
    assert.deepEqual(d.added.map((f) => [f.path, f.size]), [['data/new/c.csv', 2]]);
    assert.deepEqual(d.removed.map((f) => [f.path, f.size]), [['data/images/a.png', 70_000], ['data/images/b.png', 1000]]);
    assert.deepEqual(d.changed.map((c) => [c.path, c.before.size, c.after.size]), [['data/train.csv', 12, 16]]);
    const none = await store.diff(b.id, b.id);
    assert.deepEqual(none, { added: [], removed: [], changed: [] });
  });

  it('honours .mlopsignore (gitignore syntax) and never stores .git folders or .mlops', async () => {
    const { layout, store } = await workspaceWithData();
    writeTree(layout.root, {
      '.mlopsignore': '# scratch\n*.tmp\ndata/images/\n!keep.tmp\n',
      'data/scratch.tmp': 'x',
      'data/keep.tmp': 'kept',
      'data/.git/HEAD': 'ref: refs/heads/main\n',
    });
    const info = await store.snapshot(['.'], { message: 'whole workspace' });
    const files = (await store.show(info.id)).files.map((f) => f.path);
    assert.deepEqual(files, ['.mlopsignore', 'data/keep.tmp', 'data/test.csv', 'data/train.csv', 'models/model.onnx', 'notes.md']);
    assert.deepEqual(info.paths, ['.']);
  });

  it('stores symbolic links inside the workspace as git links and keeps the executable bit', async () => {
    const { layout, store } = await workspaceWithData();
    fs.symlinkSync('train.csv', path.join(layout.root, 'data/latest.csv'));
    fs.symlinkSync('../models', path.join(layout.root, 'data/models-link'));
    writeTree(layout.root, { 'data/run.sh': '#!/bin/sh\necho hi\n' });
    fs.chmodSync(path.join(layout.root, 'data/run.sh'), 0o755);
    const info = await store.snapshot(['data'], { message: 'links' });
    const byPath = new Map((await store.show(info.id)).files.map((f) => [f.path, f]));
    assert.equal(byPath.get('data/latest.csv')!.mode, '120000');
    assert.equal(byPath.get('data/models-link')!.mode, '120000');
    assert.equal(byPath.get('data/run.sh')!.mode, '100755');
    assert.equal(Buffer.from(await store.readFile(info.id, 'data/latest.csv')).toString(), 'train.csv');
    const out = path.join(layout.root, 'restored');
    await store.restore(info.id, { to: out });
    assert.equal(fs.readlinkSync(path.join(out, 'data/latest.csv')), 'train.csv');
    assert.equal(fs.readFileSync(path.join(out, 'data/latest.csv'), 'utf8'), 'x,y\n1,2\n3,4\n');
    assert.ok(fs.statSync(path.join(out, 'data/run.sh')).mode & 0o100);
    assertFsck(layout);
  });

  it('resolves full ids, unique prefixes and tags; tags never move', async () => {
    const { layout, store } = await workspaceWithData();
    const a = await store.snapshot(['data'], { message: 'a' });
    const b = await store.snapshot(['notes.md'], { message: 'b' });
    assert.equal(await store.resolve(a.id), a.id);
    assert.equal(await store.resolve(a.id.slice(0, 7).toUpperCase()), a.id);
    await store.tag(a.id.slice(0, 8), 'v1');
    await store.tag('v1', 'v1'); // the same id again: fine
    await store.tag(b.id, 'team/latest');
    assert.equal(await store.resolve('v1'), a.id);
    assert.deepEqual((await store.list()).map((s) => s.tags), [['team/latest'], ['v1']]);
    await assert.rejects(store.tag(b.id, 'v1'), (e: SnapshotError) => e instanceof SnapshotError && e.code === 'tag-exists' && /already points at snapshot/.test(e.message));
    await assert.rejects(store.tag(b.id, 'bad name'), (e: SnapshotError) => e.code === 'bad-tag-name');
    await assert.rejects(store.tag(b.id, 'beef'), (e: SnapshotError) => e.code === 'bad-tag-name' && /looks like a snapshot id/.test(e.message));
    assert.equal(gitCli(['--git-dir', snapshotsGitDir(layout), 'rev-parse', 'v1']).trim(), a.id);
    assertFsck(layout);
  });

  it('returns the newest identical snapshot with reuseUnchanged instead of adding a commit', async () => {
    const { store } = await workspaceWithData();
    const a = await store.snapshot(['data'], { message: 'a' });
    await store.snapshot(['notes.md'], { message: 'other paths' });
    const again = await store.snapshot(['data'], { message: 'run input', reuseUnchanged: true });
    assert.equal(again.id, a.id);
    assert.equal(again.reused, true);
    const plain = await store.snapshot(['data'], { message: 'explicit' });
    assert.notEqual(plain.id, a.id);
    assert.equal((await store.list()).length, 3);
  });

  it('reports progress through scan, write and commit, and reads unchanged files never again (stat cache)', async () => {
    const { layout, store } = await workspaceWithData();
    const first: SnapshotProgress[] = [];
    await store.snapshot(['data', 'models'], { message: 'a', onProgress: (p) => first.push({ ...p }) });
    assert.deepEqual([...new Set(first.map((p) => p.phase))], ['scan', 'write', 'commit']);
    const writes = first.filter((p) => p.phase === 'write');
    assert.equal(writes[0].files, 0);
    assert.deepEqual(writes.at(-1), { phase: 'write', files: 5, totalFiles: 5, bytes: 671_020, totalBytes: 671_020 });

    const cached = savedStatCache(layout).pathsUnder('.').sort();
    assert.deepEqual(cached, ['data/images/a.png', 'data/images/b.png', 'data/test.csv', 'data/train.csv', 'models/model.onnx']);

    // Files written more than the racy window ago: all trusted, none read again.
    const old = Date.now() / 1000 - 60;
    for (const f of cached) fs.utimesSync(path.join(layout.root, f), old, old);
    await store.snapshot(['data', 'models'], { message: 'b' }); // re-hashes once (mtime changed)
    // Without the probe index (git's check of an unchanged selection: snapshotsProbe.test.ts) the scan asks the stat cache.
    fs.rmSync(path.join(layout.indexDir, 'snapshot-probe'), { recursive: true });
    const second: SnapshotProgress[] = [];
    await store.snapshot(['data', 'models'], { message: 'c', onProgress: (p) => second.push({ ...p }) });
    const firstWrite = second.find((p) => p.phase === 'write')!;
    assert.equal(firstWrite.files, 5, 'every file came from the stat cache before any was read');
    fs.appendFileSync(path.join(layout.root, 'data/test.csv'), '7,8\n');
    // Again without it: the probe index 'c' wrote vouches for the files only when 'c' ran in a later second
    // than the utimes above (gitProbe.ts), and then git would answer for them, not the stat cache.
    fs.rmSync(path.join(layout.indexDir, 'snapshot-probe'), { recursive: true });
    const third: SnapshotProgress[] = [];
    const changed = await store.snapshot(['data', 'models'], { message: 'd', onProgress: (p) => third.push({ ...p }) });
    assert.equal(third.find((p) => p.phase === 'write')!.files, 4, 'only the changed file is read');
    assert.equal(Buffer.from(await store.readFile(changed.id, 'data/test.csv')).toString(), 'x,y\n5,6\n7,8\n');
  });

  it('packs many small files into one pack that git verifies, and dedupes identical content', async () => {
    const layout = tmpWorkspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`data/part-${i % 7}/row-${i}.json`] = JSON.stringify({ i: i % 150 }); // 150 distinct contents
    writeTree(layout.root, files);
    const store = await SnapshotStore.open(layout);
    const info = await store.snapshot(['data'], { message: 'many' });
    const packDir = path.join(snapshotsGitDir(layout), 'objects', 'pack');
    const idx = fs.readdirSync(packDir).filter((f) => f.endsWith('.idx'));
    assert.equal(idx.length, 1);
    const verify = gitCli(['verify-pack', '-v', path.join(packDir, idx[0])]);
    assert.match(verify, /non delta: 150 objects/);
    assert.equal((await store.show(info.id)).files.length, 300);
    assert.equal(Buffer.from(await store.readFile(info.id, 'data/part-3/row-10.json')).toString(), '{"i":10}');
    assertFsck(layout);
  });

  it('lets two snapshots at once both land on the chain', async () => {
    const { layout, store } = await workspaceWithData();
    const other = await SnapshotStore.open(layout);
    const [a, b] = await Promise.all([store.snapshot(['data'], { message: 'a' }), other.snapshot(['models'], { message: 'b' })]);
    const log = gitCli(['--git-dir', snapshotsGitDir(layout), 'log', '--format=%H']).trim().split('\n');
    assert.deepEqual(new Set(log), new Set([a.id, b.id]));
    assertFsck(layout);
  });
});

describe('snapshot store: cancellation', () => {
  it('a snapshot cancelled while streaming a large file changes no ref and leaves no temp file', async () => {
    const { layout, store } = await workspaceWithData();
    const kept = await store.snapshot(['notes.md'], { message: 'kept' });
    writeTree(layout.root, { 'big/weights.bin': crypto.randomBytes(64 * 1024 * 1024) });
    const refs = refsOf(layout);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    await assert.rejects(
      store.snapshot(['big'], {
        message: 'cancelled',
        signal: controller.signal,
        onProgress: (p) => { if (p.phase === 'write' && !timer) timer = setTimeout(() => controller.abort(), 15); },
      }),
      (e: SnapshotError) => e instanceof SnapshotError && e.code === 'cancelled' && /cancelled; nothing was changed/.test(e.message),
    );
    assert.equal(refsOf(layout), refs);
    assert.deepEqual(tempFilesIn(layout), []);
    assert.deepEqual((await store.list()).map((s) => s.id), [kept.id]);
    assertFsck(layout);
  });

  it('a snapshot cancelled while packing small files leaves no temp pack', async () => {
    const layout = tmpWorkspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) files[`data/f${i}.txt`] = `row ${i}\n`.repeat(50);
    writeTree(layout.root, files);
    const store = await SnapshotStore.open(layout);
    const controller = new AbortController();
    await assert.rejects(
      store.snapshot(['data'], { message: 'x', signal: controller.signal, onProgress: (p) => { if (p.phase === 'write' && p.files === 0) setTimeout(() => controller.abort(), 10); } }),
      (e: SnapshotError) => e.code === 'cancelled',
    );
    assert.deepEqual(tempFilesIn(layout), []);
    assert.equal(refsOf(layout), '');
    assert.deepEqual(await store.list(), []);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(store.snapshot(['data'], { message: 'x', signal: aborted.signal }), (e: SnapshotError) => e.code === 'cancelled');
  });
});

describe('snapshot store: restore', () => {
  it('restores into a new folder, and refuses a folder that is not empty', async () => {
    const { layout, store } = await workspaceWithData();
    const info = await store.snapshot(['data', 'models'], { message: 'a' });
    const out = path.join(layout.root, 'out');
    const result = await store.restore(info.id, { to: 'out' });
    assert.deepEqual(result.written, ['data/images/a.png', 'data/images/b.png', 'data/test.csv', 'data/train.csv', 'models/model.onnx']);
    for (const f of result.written) assert.ok(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(layout.root, f))), f);
    await assert.rejects(store.restore(info.id, { to: out }), (e: SnapshotError) => e.code === 'target-not-empty' && /not empty/.test(e.message));
    await assert.rejects(store.restore(info.id, { to: path.join(layout.root, 'notes.md') }), (e: SnapshotError) => e.code === 'target-not-empty');
    await assert.rejects(store.restore(info.id, { to: '.mlops/x' }), (e: SnapshotError) => e.code === 'target-not-empty');
    const empty = path.join(layout.root, 'empty');
    fs.mkdirSync(empty);
    assert.equal((await store.restore(info.id, { to: empty })).written.length, 5);
    assertFsck(layout);
  });

  it('restores in place only after confirmation: it lists what would be overwritten and changes nothing', async () => {
    const { layout, store } = await workspaceWithData();
    const info = await store.snapshot(['data'], { message: 'a' });
    const train = path.join(layout.root, 'data/train.csv');
    fs.writeFileSync(train, 'edited\n');
    fs.rmSync(path.join(layout.root, 'data/test.csv'));
    writeTree(layout.root, { 'data/extra.csv': 'not in the snapshot\n' });

    const dry = await store.restore(info.id, {});
    assert.deepEqual(dry, { written: [], wouldOverwrite: ['data/train.csv'], overwritten: [] });
    assert.equal(fs.readFileSync(train, 'utf8'), 'edited\n');
    assert.ok(!fs.existsSync(path.join(layout.root, 'data/test.csv')), 'nothing is written before confirmation');

    const done = await store.restore(info.id, { overwrite: true });
    assert.deepEqual(done.written, ['data/test.csv', 'data/train.csv']);
    assert.deepEqual(done.overwritten, ['data/train.csv']);
    assert.equal(fs.readFileSync(train, 'utf8'), 'x,y\n1,2\n3,4\n');
    assert.equal(fs.readFileSync(path.join(layout.root, 'data/test.csv'), 'utf8'), 'x,y\n5,6\n');
    assert.equal(fs.readFileSync(path.join(layout.root, 'data/extra.csv'), 'utf8'), 'not in the snapshot\n', 'files outside the snapshot are left alone');
    assert.deepEqual(fs.readdirSync(path.join(layout.root, 'data')).filter((f) => f.includes('mlops-restore')), []);
    // Restored files get stat cache entries.
    assert.equal(savedStatCache(layout).recordedBlob('data/train.csv'), (await store.show(info.id)).files.find((f) => f.path === 'data/train.csv')!.blob);
    // Nothing differs now: a restore without overwrite succeeds and writes nothing.
    assert.deepEqual(await store.restore(info.id, {}), { written: [], wouldOverwrite: [], overwritten: [] });
    assertFsck(layout);
  });

  it('refuses an in-place restore where a folder stands for a file or a link for a folder', async () => {
    const { layout, store } = await workspaceWithData();
    const info = await store.snapshot(['data'], { message: 'a' });
    fs.rmSync(path.join(layout.root, 'data/test.csv'));
    fs.mkdirSync(path.join(layout.root, 'data/test.csv'));
    await assert.rejects(store.restore(info.id, {}), (e: SnapshotError) => e.code === 'restore-conflict' && /is a folder in the workspace but a file in the snapshot/.test(e.message));
    fs.rmdirSync(path.join(layout.root, 'data/test.csv'));
    fs.rmSync(path.join(layout.root, 'data/images'), { recursive: true });
    const elsewhere = fs.mkdtempSync(path.join(path.dirname(layout.root), 'elsewhere-'));
    fs.symlinkSync(elsewhere, path.join(layout.root, 'data/images'));
    try {
      await assert.rejects(store.restore(info.id, { overwrite: true }), (e: SnapshotError) => e.code === 'restore-conflict' && /symbolic link/.test(e.message));
      assert.deepEqual(fs.readdirSync(elsewhere), [], 'nothing was written through the link');
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
