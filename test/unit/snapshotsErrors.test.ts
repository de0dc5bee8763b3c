import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import git from 'isomorphic-git';
import { SnapshotError, SnapshotStore, snapshotsGitDir, type SnapshotErrorCode } from '../../src/core/snapshots';
import { tmpWorkspace } from './helpers';
import { assertFsck, gitCli, refsOf, runStoreAsUser, tempFilesIn, writeTree } from './snapshotHelpers';

/** Asserts a SnapshotError with this code whose message matches every pattern. */
function rejectsWith(promise: Promise<unknown>, code: SnapshotErrorCode, ...patterns: RegExp[]): Promise<void> {
  return assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof SnapshotError, `expected a SnapshotError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

async function setup() {
  const layout = tmpWorkspace();
  writeTree(layout.root, {
    'data/a.csv': 'a\n1\n',
    'data/b.csv': 'b\n2\n',
    'models/weights.bin': crypto.randomBytes(700_000),
  });
  const store = await SnapshotStore.open(layout);
  const first = await store.snapshot(['data', 'models'], { message: 'good' });
  return { layout, store, first, refs: refsOf(layout) };
}

/** A folder outside the workspace, removed at the end. */
function outsideDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-outside-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('snapshot store: bad input is a clear error and loses nothing', () => {
  it('refuses paths outside the workspace', async () => {
    const { layout, store, refs } = await setup();
    await rejectsWith(store.snapshot(['../elsewhere'], { message: 'x' }), 'outside-workspace', /"\.\.\/elsewhere" is outside the workspace/, /Copy or move it into the workspace/);
    await rejectsWith(store.snapshot([outsideDir()], { message: 'x' }), 'outside-workspace', /outside the workspace/);
    await rejectsWith(store.snapshot(['data', '/etc/hostname'], { message: 'x' }), 'outside-workspace', /"\/etc\/hostname"/);
    await rejectsWith(store.snapshot(['nope.csv'], { message: 'x' }), 'not-found', /"nope\.csv" does not exist in the workspace/);
    await rejectsWith(store.snapshot(['.mlops'], { message: 'x' }), 'ignored', /own \.mlops folder/);
    assert.equal(refsOf(layout), refs);
  });

  it('refuses symbolic links that point outside the workspace (files, folders, and paths below them)', async () => {
    const { layout, store, refs } = await setup();
    const outside = outsideDir();
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(layout.root, 'data/secret-link'));
    await rejectsWith(store.snapshot(['data'], { message: 'x' }), 'symlink-outside', /"data\/secret-link" is a symbolic link to .*secret\.txt, outside the workspace/, /Replace the link with a copy/);
    fs.rmSync(path.join(layout.root, 'data/secret-link'));
    fs.symlinkSync('../../..', path.join(layout.root, 'data/up')); // relative, leaves the workspace
    await rejectsWith(store.snapshot(['data'], { message: 'x' }), 'symlink-outside', /"data\/up"/);
    fs.rmSync(path.join(layout.root, 'data/up'));
    fs.symlinkSync(outside, path.join(layout.root, 'ext'));
    await rejectsWith(store.snapshot(['ext'], { message: 'x' }), 'symlink-outside', /"ext" is a symbolic link/);
    await rejectsWith(store.snapshot(['ext/secret.txt'], { message: 'x' }), 'symlink-outside', /below a symbolic link/);
    // A link excluded by .mlopsignore is fine.
    writeTree(layout.root, { '.mlopsignore': 'ext\n' });
    fs.symlinkSync(outside, path.join(layout.root, 'data/ext'));
    assert.equal(refsOf(layout), refs);
    const ok = await store.snapshot(['data'], { message: 'without the link' });
    assert.deepEqual((await store.show(ok.id)).files.map((f) => f.path), ['data/a.csv', 'data/b.csv']);
  });

  it('refuses special files (a FIFO) instead of hanging on them', async () => {
    const { layout, store, refs } = await setup();
    const fifo = path.join(layout.root, 'data/pipe');
    const r = spawnSync('mkfifo', [fifo]);
    assert.equal(r.status, 0, 'mkfifo is needed for this test');
    await rejectsWith(store.snapshot(['data'], { message: 'x' }), 'special-file', /"data\/pipe" is a named pipe \(FIFO\)/, /exclude it in \.mlopsignore/);
    assert.equal(refsOf(layout), refs);
  });

  it('refuses unreadable files and folders, naming them (as a non-root user: root reads everything)', async () => {
    const { layout, refs } = await setup();
    writeTree(layout.root, { 'data/locked.csv': 'no\n', 'data/locked-dir/x.csv': 'no\n' });
    const script = `
      const { SnapshotStore, MlopsLayout } = require(process.env.STORE_BUNDLE);
      (async () => {
        const store = await SnapshotStore.open(new MlopsLayout(process.argv[1]));
        const out = [];
        for (const p of process.argv.slice(2)) {
          try { await store.snapshot([p], { message: 'x' }); out.push({ ok: true }); }
          catch (e) { out.push({ code: e.code, message: e.message }); }
        }
        console.log(JSON.stringify(out));
      })();`;
    const results: { code?: string; message?: string }[] = JSON.parse(runStoreAsUser(layout.root, script, ['data/locked.csv', 'data/locked-dir'], () => {
      fs.chmodSync(path.join(layout.root, 'data/locked.csv'), 0o000);
      fs.chmodSync(path.join(layout.root, 'data/locked-dir'), 0o000);
    }));
    fs.chmodSync(path.join(layout.root, 'data/locked-dir'), 0o755);
    assert.equal(results[0].code, 'unreadable');
    assert.match(results[0].message!, /Cannot read "data\/locked\.csv" \(permission denied\); give yourself read access/);
    assert.equal(results[1].code, 'unreadable');
    assert.match(results[1].message!, /Cannot read "data\/locked-dir"/);
    assert.equal(refsOf(layout), refs);
    assert.deepEqual(tempFilesIn(layout), []);
  });

  it('refuses a snapshot of nothing: no paths, empty folders, everything excluded', async () => {
    const { layout, store, refs } = await setup();
    await rejectsWith(store.snapshot([], { message: 'x' }), 'nothing-to-snapshot', /no paths were chosen/);
    await rejectsWith(store.snapshot([''], { message: 'x' }), 'nothing-to-snapshot', /an empty path/);
    fs.mkdirSync(path.join(layout.root, 'empty/inner'), { recursive: true });
    await rejectsWith(store.snapshot(['empty'], { message: 'x' }), 'nothing-to-snapshot', /"empty" holds no files/);
    writeTree(layout.root, { '.mlopsignore': '*.csv\nmodels/\n' });
    await rejectsWith(store.snapshot(['data'], { message: 'x' }), 'nothing-to-snapshot', /excluded by \.mlopsignore/);
    await rejectsWith(store.snapshot(['data/a.csv'], { message: 'x' }), 'ignored', /"data\/a\.csv" is excluded by \.mlopsignore; remove the matching pattern/);
    await rejectsWith(store.snapshot(['models/weights.bin'], { message: 'x' }), 'ignored', /"models\/weights\.bin" is excluded/);
    assert.equal(refsOf(layout), refs);
  });

  it('names an unknown, too short or ambiguous snapshot id', async () => {
    const { layout, store, first } = await setup();
    await rejectsWith(store.resolve('0123456789abcdef0123456789abcdef01234567'), 'unknown-snapshot', /No snapshot "0123456789abcdef0123456789abcdef01234567"/, /mlops snapshots list/);
    await rejectsWith(store.show('nosuchtag'), 'unknown-snapshot', /No snapshot "nosuchtag"/);
    await rejectsWith(store.restore('ffff0000', {}), 'unknown-snapshot');
    await rejectsWith(store.diff(first.id, 'abcdef'), 'unknown-snapshot');
    await rejectsWith(store.resolve('ab'), 'unknown-snapshot', /too short/);
    await rejectsWith(store.readFile(first.id, 'data/zzz.csv'), 'unknown-file', /has no file "data\/zzz\.csv"/);
    // A second snapshot whose id shares the first 4 hex digits (a commit crafted for it, as a fetch could bring).
    const gitdir = snapshotsGitDir(layout);
    const { commit } = await git.readCommit({ fs, gitdir, oid: first.id });
    const who = 'Ada <ada@example.com> 1700000000 +0000';
    let body = '';
    let oid = '';
    for (let i = 0; ; i++) {
      body = `tree ${commit.tree}\nauthor ${who}\ncommitter ${who}\n\ncrafted ${i}\n\nMlops-Files: 3\nMlops-Bytes: 1\nMlops-Path: data\n`;
      oid = crypto.createHash('sha1').update(`commit ${Buffer.byteLength(body)}\0${body}`).digest('hex');
      if (oid.startsWith(first.id.slice(0, 4))) break;
    }
    assert.equal(await git.writeObject({ fs, gitdir, type: 'commit', object: Buffer.from(body), format: 'content' }), oid);
    gitCli(['--git-dir', gitdir, 'update-ref', `refs/snapshots/${oid}`, oid]);
    await rejectsWith(store.resolve(first.id.slice(0, 4)), 'ambiguous-snapshot', /matches 2 snapshots/, /give more digits/);
    assert.equal(await store.resolve(first.id.slice(0, 12)), first.id);
    assertFsck(layout);
  });

  it('names a damaged object and suggests git fsck; the workspace and other snapshots are untouched', async () => {
    const { layout, store, first } = await setup();
    writeTree(layout.root, { 'other/c.csv': 'c\n3\n' });
    const other = await store.snapshot(['other'], { message: 'other' });
    const gitdir = snapshotsGitDir(layout);
    const weights = (await store.show(first.id)).files.find((f) => f.path === 'models/weights.bin')!;
    const loose = path.join(gitdir, 'objects', weights.blob.slice(0, 2), weights.blob.slice(2));
    assert.ok(fs.existsSync(loose), 'a large file is a loose object');
    fs.chmodSync(loose, 0o644);
    fs.truncateSync(loose, Math.floor(fs.statSync(loose).size / 2));

    // In place: the workspace's copy was edited; the restore must fail without touching anything.
    fs.writeFileSync(path.join(layout.root, 'models/weights.bin'), 'edited');
    fs.rmSync(path.join(layout.root, 'data/a.csv'));
    const damaged = new RegExp(`Object ${weights.blob} in \\.mlops/snapshots\\.git is damaged: it is truncated`);
    await rejectsWith(store.restore(first.id, { overwrite: true }), 'corrupt-object', damaged, /git --git-dir \.mlops\/snapshots\.git fsck/);
    assert.equal(fs.readFileSync(path.join(layout.root, 'models/weights.bin'), 'utf8'), 'edited');
    assert.ok(!fs.existsSync(path.join(layout.root, 'data/a.csv')), 'not even the healthy files were written');
    assert.deepEqual(fs.readdirSync(path.join(layout.root, 'models')), ['weights.bin']);
    await rejectsWith(store.restore(first.id, { to: 'out' }), 'corrupt-object', damaged);
    assert.ok(!fs.existsSync(path.join(layout.root, 'out/models')), 'no partial restore');
    await rejectsWith(store.readFile(first.id, 'models/weights.bin'), 'corrupt-object', damaged);
    // Truncated down to its header: even show notices.
    fs.truncateSync(loose, 4);
    await rejectsWith(store.show(first.id), 'corrupt-object', new RegExp(weights.blob));

    // A damaged tree: show names it.
    const tree = gitCli(['--git-dir', gitdir, 'rev-parse', `${other.id}^{tree}`]).trim();
    const treeFile = path.join(gitdir, 'objects', tree.slice(0, 2), tree.slice(2));
    fs.chmodSync(treeFile, 0o644);
    fs.writeFileSync(treeFile, fs.readFileSync(treeFile).subarray(0, 10));
    await rejectsWith(store.show(other.id), 'corrupt-object', new RegExp(`Object ${tree} .* is damaged`), /fsck/);

    // A damaged commit: list still shows every snapshot, naming the damaged one.
    const third = await store.snapshot(['data/b.csv'], { message: 'third' });
    const commitFile = path.join(gitdir, 'objects', third.id.slice(0, 2), third.id.slice(2));
    fs.chmodSync(commitFile, 0o644);
    fs.truncateSync(commitFile, 8);
    const reopened = await SnapshotStore.open(layout);
    const listed = await reopened.list();
    assert.deepEqual(listed.map((s) => s.id).sort(), [first.id, other.id, third.id].sort());
    assert.match(listed.find((s) => s.id === third.id)!.damaged!, new RegExp(`Object ${third.id} .* is damaged`));
    await rejectsWith(reopened.show(third.id), 'corrupt-object', new RegExp(third.id), /fsck/);

    // git fsck agrees, and everything else is still there.
    const fsck = spawnSync('git', ['--git-dir', gitdir, 'fsck', '--strict'], { encoding: 'utf8' });
    assert.notEqual(fsck.status, 0);
    assert.equal((await reopened.list()).filter((s) => !s.damaged).length, 2);
    assert.equal(Buffer.from(await reopened.readFile(first.id, 'data/b.csv')).toString(), 'b\n2\n');
  });

  it('names a damaged packed object', async () => {
    const layout = tmpWorkspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 100; i++) files[`data/f${i}.txt`] = `line ${i}\n`.repeat(20);
    writeTree(layout.root, files);
    const store = await SnapshotStore.open(layout);
    const info = await store.snapshot(['data'], { message: 'packed' });
    const packDir = path.join(snapshotsGitDir(layout), 'objects', 'pack');
    const pack = path.join(packDir, fs.readdirSync(packDir).find((f) => f.endsWith('.pack'))!);
    const bytes = fs.readFileSync(pack);
    for (let i = 40; i < bytes.length - 40; i += 7) bytes[i] ^= 0x55; // scramble every entry
    fs.chmodSync(pack, 0o644);
    fs.writeFileSync(pack, bytes);
    await rejectsWith(store.readFile(info.id, 'data/f7.txt'), 'corrupt-object', /is damaged/, /fsck/);
    await rejectsWith(store.restore(info.id, { to: 'out' }), 'corrupt-object', /is damaged/);
  });
});
