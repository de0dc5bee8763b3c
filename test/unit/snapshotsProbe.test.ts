import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SnapshotStore, snapshotsGitDir, type SnapshotProgress } from '../../src/core/snapshots';
import { probeFile } from '../../src/core/snapshots/gitProbe';
import { tmpWorkspace } from './helpers';
import { assertFsck, gitCli, runStoreAsUser, writeTree } from './snapshotHelpers';

/**
 * The probe: a re-snapshot answered by `git diff-files` and `git ls-files --others` over a git
 * index of the selection's last snapshot (src/core/snapshots/gitProbe.ts), and patched from
 * their answer (snapshotStore.ts). Whatever git cannot vouch for must go through a scan; each
 * change below must show in the next snapshot.
 */

/**
 * Files dated a minute back, past the stat cache's racy window, and a wait into the next second:
 * git compares whole seconds of ctime (which no one can set), so the probe vouches only for
 * files whose last change lies in an earlier second.
 */
async function settle(root: string, rels: string[]): Promise<void> {
  const old = Date.now() / 1000 - 60;
  for (const rel of rels) fs.lutimesSync(path.join(root, rel), old, old);
  await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)));
}

async function snapshotWithPhases(store: SnapshotStore, paths: string[]) {
  const progress: SnapshotProgress[] = [];
  const info = await store.snapshot(paths, { message: 'probe', onProgress: (p) => progress.push({ ...p }) });
  // The scan reports "write" (even with nothing to read); an answer from the probe goes from "scan" to "commit".
  return { info, probed: !progress.some((p) => p.phase === 'write'), files: (await store.show(info.id)).files };
}

/** A workspace snapshotted twice (the second time after its files settled), so the probe index vouches for every file. */
async function probedWorkspace(files: Record<string, string | Buffer>, paths = ['data']) {
  const layout = tmpWorkspace();
  writeTree(layout.root, files);
  await settle(layout.root, Object.keys(files));
  const store = await SnapshotStore.open(layout);
  await store.snapshot(paths, { message: 'first' });
  const again = await snapshotWithPhases(store, paths);
  assert.ok(again.probed, 'an unchanged re-snapshot is answered by the probe');
  return { layout, store, tree: again.files };
}

const contentOf = (files: { path: string; blob: string }[]) => files.map((f) => `${f.path} ${f.blob}`).join('\n');

describe('snapshot store: an unchanged re-snapshot answered by git (the probe)', () => {
  it('writes a git index of the snapshot that git reads, keeps the store valid for git fsck, and answers with the same tree', async () => {
    const { layout, store, tree } = await probedWorkspace({ 'data/a.csv': 'a\n', 'data/sub/b.csv': 'b\n', 'data/run.sh': '#!/bin/sh\n' });
    const index = probeFile(layout.indexDir, ['data']);
    assert.ok(!fs.existsSync(path.join(snapshotsGitDir(layout), 'index')), 'the store has no index of its own');
    const entries = execIndex(layout, index).trim().split('\n');
    assert.deepEqual(entries.map((l) => l.split('\t')[1]), ['data/a.csv', 'data/run.sh', 'data/sub/b.csv']);
    assertFsck(layout);
    const third = await snapshotWithPhases(store, ['data']);
    assert.ok(third.probed);
    assert.equal(contentOf(third.files), contentOf(tree));
    assert.equal(third.info.fileCount, 3);
  });

  it('sees a same-size edit whose mtime was put back, even where the user\'s git config weakens the stat check', async () => {
    const { layout, store } = await probedWorkspace({ 'data/a.csv': 'aaaa\n', 'data/b.csv': 'b\n' });
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-probe-home-'));
    fs.writeFileSync(path.join(home, '.gitconfig'), '[core]\n\tcheckStat = minimal\n\ttrustctime = false\n');
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    try {
      const file = path.join(layout.root, 'data/a.csv');
      const before = fs.statSync(file);
      fs.writeFileSync(file, 'bbbb\n');
      fs.utimesSync(file, before.atime, before.mtime); // same size, same mtime: only ctime tells
      const next = await snapshotWithPhases(store, ['data']);
      assert.equal(next.probed, false);
      assert.equal(Buffer.from(await store.readFile(next.info.id, 'data/a.csv')).toString(), 'bbbb\n');
    } finally {
      process.env.HOME = savedHome;
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('sees a same-size edit with its mtime put back in the very second of the snapshot before it', async () => {
    const layout = tmpWorkspace();
    writeTree(layout.root, { 'data/a.csv': 'aaaa\n' });
    const file = path.join(layout.root, 'data/a.csv');
    const store = await SnapshotStore.open(layout);
    // Just past a second's start, so the edit below falls in the second of the snapshot (whole seconds are all git compares).
    await new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));
    const old = Date.now() / 1000 - 60;
    fs.utimesSync(file, old, old);
    await store.snapshot(['data'], { message: 'first' });
    const before = fs.statSync(file);
    fs.writeFileSync(file, 'bbbb\n');
    fs.utimesSync(file, before.atime, before.mtime);
    const next = await snapshotWithPhases(store, ['data']);
    assert.equal(next.probed, false);
    assert.equal(Buffer.from(await store.readFile(next.info.id, 'data/a.csv')).toString(), 'bbbb\n');
  });

  it('sees added, removed and re-typed files, a changed executable bit and a retargeted link', async () => {
    const { layout, store } = await probedWorkspace({ 'data/a.csv': 'a\n', 'data/b.csv': 'b\n', 'data/c.csv': 'c\n', 'data/d/e.csv': 'e\n', 'data/target.txt': 't\n' });
    fs.symlinkSync('target.txt', path.join(layout.root, 'data/link'));
    await settle(layout.root, ['data/link']);
    await store.snapshot(['data'], { message: 'with the link' });
    assert.ok((await snapshotWithPhases(store, ['data'])).probed, 'a settled link is vouched for');
    // Each change is dated a minute back, as the files before it: past the racy window, so the probe can vouch again after.
    const change = async (what: string, act: () => string[], check: (files: Map<string, { blob: string; mode: string }>) => void) => {
      await settle(layout.root, act());
      const next = await snapshotWithPhases(store, ['data']);
      assert.equal(next.probed, false, `${what}: the probe must not answer`);
      check(new Map(next.files.map((f) => [f.path, f])));
      assert.ok((await snapshotWithPhases(store, ['data'])).probed, `${what}: once snapshotted, the probe answers again`);
    };
    await change('a new file', () => {
      fs.writeFileSync(path.join(layout.root, 'data/new.csv'), 'n\n');
      return ['data/new.csv'];
    }, (f) => assert.ok(f.has('data/new.csv')));
    const blobOfA = (await store.show((await store.list())[0].id)).files.find((f) => f.path === 'data/a.csv')!.blob;
    // Content unchanged: the scan hashes it once and records its new stat, rather than git hashing it at every probe.
    await change('a touched file', () => {
      fs.utimesSync(path.join(layout.root, 'data/a.csv'), Date.now() / 1000 - 120, Date.now() / 1000 - 120);
      return [];
    }, (f) => assert.equal(f.get('data/a.csv')!.blob, blobOfA));
    await change('a removed file', () => {
      fs.rmSync(path.join(layout.root, 'data/b.csv'));
      return [];
    }, (f) => assert.ok(!f.has('data/b.csv')));
    await change('a file become a folder', () => {
      fs.rmSync(path.join(layout.root, 'data/c.csv'));
      writeTree(layout.root, { 'data/c.csv/inner.csv': 'i\n' });
      return ['data/c.csv/inner.csv'];
    }, (f) => assert.ok(f.has('data/c.csv/inner.csv') && !f.has('data/c.csv')));
    await change('an executable bit', () => {
      fs.chmodSync(path.join(layout.root, 'data/a.csv'), 0o755);
      return [];
    }, (f) => assert.equal(f.get('data/a.csv')!.mode, '100755'));
    const linkBefore = (await store.show((await store.list())[0].id)).files.find((f) => f.path === 'data/link')!.blob;
    await change('a retargeted link', () => {
      fs.rmSync(path.join(layout.root, 'data/link'));
      fs.symlinkSync('d/e.csv', path.join(layout.root, 'data/link'));
      return ['data/link'];
    }, (f) => assert.notEqual(f.get('data/link')!.blob, linkBefore));
    assert.equal(fs.readlinkSync(path.join(layout.root, 'data/link')), 'd/e.csv');
  });

  it('compares bytes as they are: a .gitattributes that converts line endings or filters content changes nothing', async () => {
    const { layout, store } = await probedWorkspace({ 'data/a.csv': 'x,y\n1,2\n', '.gitattributes': '* text=auto eol=lf\n*.csv filter=nosuch\n' }, ['data']);
    const file = path.join(layout.root, 'data/a.csv');
    const before = fs.statSync(file);
    fs.writeFileSync(file, 'x,y\r\n1,2\r\n'); // a text conversion would hash this as the old content
    fs.utimesSync(file, before.atime, before.mtime);
    const next = await snapshotWithPhases(store, ['data']);
    assert.equal(next.probed, false);
    assert.equal(Buffer.from(await store.readFile(next.info.id, 'data/a.csv')).toString(), 'x,y\r\n1,2\r\n');
  });

  it('keeps answering when new files are only ones .mlopsignore keeps out, and follows a changed .mlopsignore', async () => {
    const { layout, store } = await probedWorkspace({ 'data/a.csv': 'a\n', 'data/tmp/keep.csv': 'k\n', '.mlopsignore': '*.log\n' });
    fs.writeFileSync(path.join(layout.root, 'data/debug.log'), 'noise\n');
    const ignored = await snapshotWithPhases(store, ['data']);
    assert.ok(ignored.probed, 'an excluded new file changes nothing');
    assert.ok(!ignored.files.some((f) => f.path === 'data/debug.log'));
    fs.writeFileSync(path.join(layout.root, '.mlopsignore'), '*.log\ntmp/\n');
    const narrower = await snapshotWithPhases(store, ['data']);
    assert.equal(narrower.probed, false, 'other rules: the probe index no longer applies');
    assert.deepEqual(narrower.files.map((f) => f.path), ['data/a.csv']);
  });

  it('answers for hostile file names (newline, quotes, leading dash, pathspec magic, unicode) and for a selection of one file', async () => {
    const names = ['data/new\nline.csv', 'data/"quoted" \'name\'.csv', 'data/-rf', 'data/:(glob)*', 'data/日本語 ü.csv', 'data/back\\slash'];
    const files = Object.fromEntries(names.map((n, i) => [n, `${i}\n`]));
    const { layout, store, tree } = await probedWorkspace({ ...files, 'model.onnx': 'm' }, ['data', 'model.onnx']);
    assert.deepEqual(tree.map((f) => f.path).sort(), [...names, 'model.onnx'].sort());
    fs.writeFileSync(path.join(layout.root, 'data/-rf'), 'changed\n');
    const next = await snapshotWithPhases(store, ['data', 'model.onnx']);
    assert.equal(next.probed, false);
    assert.equal(Buffer.from(await store.readFile(next.info.id, 'data/-rf')).toString(), 'changed\n');
  });

  it('over 40 rounds of random edits, each snapshot (answered by git, patched from its answer, or scanned) has the tree, file count and bytes a fresh scan gives', async () => {
    const layout = tmpWorkspace();
    const root = layout.root;
    // mulberry32: seeded, so a failure names a round that replays.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    const files = () => (fs.readdirSync(path.join(root, 'data'), { recursive: true, encoding: 'utf8' }) as string[]).map((f) => `data/${f}`);
    const regular = () => files().filter((f) => fs.lstatSync(path.join(root, f)).isFile());
    const folders = () => ['data', ...files().filter((f) => fs.lstatSync(path.join(root, f)).isDirectory())];
    writeTree(root, { 'data/a/1.csv': '1\n', 'data/a/2.csv': '2\n', 'data/b/c/3.csv': '3\n', 'data/4.csv': '4\n' });
    const store = await SnapshotStore.open(layout);
    const edits: [string, () => void][] = [
      ['add', () => writeTree(root, { [`${folders()[random(folders().length)]}/n${random(1000)}.csv`]: `${random(1e6)}\n` })],
      ['add a folder', () => writeTree(root, { [`data/f${random(100)}/g${random(100)}/x.csv`]: `${random(1e6)}\n` })],
      ['edit', () => { const f = regular()[random(regular().length)]; if (f) fs.appendFileSync(path.join(root, f), `${random(10)}\n`); }],
      ['same-size edit, mtime put back', () => {
        const f = regular()[random(regular().length)];
        if (!f) return;
        const abs = path.join(root, f);
        const st = fs.statSync(abs);
        fs.writeFileSync(abs, Buffer.alloc(st.size, 65 + random(26)));
        fs.utimesSync(abs, st.atime, st.mtime);
      }],
      ['remove', () => { const f = regular()[random(regular().length)]; if (f && regular().length > 1) fs.rmSync(path.join(root, f)); }],
      ['chmod', () => { const f = regular()[random(regular().length)]; if (f) fs.chmodSync(path.join(root, f), random(2) ? 0o755 : 0o644); }],
      ['touch', () => { const f = regular()[random(regular().length)]; if (f) fs.utimesSync(path.join(root, f), new Date(), new Date(Date.now() - random(1e6))); }],
      ['link', () => {
        const at = path.join(root, 'data', `l${random(5)}`);
        fs.rmSync(at, { force: true, recursive: true });
        const target = regular()[random(regular().length)];
        if (target) fs.symlinkSync(path.relative(path.dirname(at), path.join(root, target)), at);
      }],
      ['file to folder', () => {
        const f = regular()[random(regular().length)];
        if (!f || regular().length < 2) return;
        fs.rmSync(path.join(root, f));
        writeTree(root, { [`${f}/inside.csv`]: 'i\n' });
      }],
      ['folder to file', () => {
        const d = folders().filter((x) => x !== 'data')[random(folders().length)];
        if (!d || regular().filter((f) => !f.startsWith(`${d}/`)).length < 1) return;
        fs.rmSync(path.join(root, d), { recursive: true });
        fs.writeFileSync(path.join(root, d), 'was a folder\n');
      }],
    ];
    const kinds = { answered: 0, patched: 0, scanned: 0 };
    for (let round = 0; round < 40; round++) {
      const [what, edit] = edits[random(edits.length)];
      const editing = random(2) === 0;
      if (editing) edit();
      // Mostly into the next second, so the probe index vouches for what the snapshot before saw.
      if (!editing || random(4) === 0) await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)));
      const progress: SnapshotProgress[] = [];
      const ours = await store.snapshot(['data'], { message: `round ${round}`, onProgress: (p) => progress.push({ ...p }) });
      // git's answer: no scan at all, or a scan of the files it named only.
      const scannedFiles = Math.max(0, ...progress.filter((p) => p.phase === 'scan').map((p) => p.files));
      kinds[!progress.some((p) => p.phase === 'write') ? 'answered' : scannedFiles < ours.fileCount ? 'patched' : 'scanned']++;
      const fresh = await store.snapshot(['data'], { message: 'fresh scan', from: root });
      assert.equal(contentOf((await store.show(ours.id)).files), contentOf((await store.show(fresh.id)).files), `round ${round} (${what})`);
      assert.equal(ours.fileCount, fresh.fileCount, `round ${round} (${what}): file count`);
      assert.equal(ours.totalBytes, fresh.totalBytes, `round ${round} (${what}): bytes`);
    }
    assertFsck(layout);
    assert.ok(kinds.answered > 3 && kinds.patched > 3 && kinds.scanned > 0, `each way taken: ${JSON.stringify(kinds)}`);
  });

  it('a new folder git cannot open (only a warning to git) is refused as unreadable, as a scan refuses it (as a non-root user)', async () => {
    const layout = tmpWorkspace();
    writeTree(layout.root, { 'data/a.csv': 'a\n' });
    fs.utimesSync(path.join(layout.root, 'data/a.csv'), Date.now() / 1000 - 60, Date.now() / 1000 - 60);
    const script = `
      const fs = require('node:fs');
      const { SnapshotStore, MlopsLayout } = require(process.env.STORE_BUNDLE);
      const root = process.argv[1];
      const nextSecond = () => new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));
      (async () => {
        const store = await SnapshotStore.open(new MlopsLayout(root));
        const phases = async () => { const p = new Set(); await store.snapshot(['data'], { message: 'x', onProgress: (e) => p.add(e.phase) }); return [...p].join(','); };
        await nextSecond();
        const first = await phases();
        const answered = await phases();
        fs.mkdirSync(root + '/data/locked');
        fs.writeFileSync(root + '/data/locked/x.csv', 'x');
        fs.chmodSync(root + '/data/locked', 0);
        let locked;
        try { await phases(); locked = { ok: true }; } catch (e) { locked = { code: e.code, message: e.message }; }
        fs.chmodSync(root + '/data/locked', 0o755);
        console.log(JSON.stringify({ first, answered, locked }));
      })();`;
    const out = JSON.parse(runStoreAsUser(layout.root, script, [], () => undefined));
    assert.equal(out.answered, 'scan,commit', 'the probe answered while nothing changed');
    assert.equal(out.locked.code, 'unreadable', JSON.stringify(out.locked));
    assert.match(out.locked.message, /Cannot read "data\/locked"/);
  });

  it('scans instead of patching when a folder of the last snapshot is missing from the store, and writes it again', async () => {
    const { layout, store } = await probedWorkspace({ 'data/sub/a.csv': 'a\n', 'data/b.csv': 'b\n' });
    const last = (await store.list())[0];
    const subTree = gitCli(['--git-dir', snapshotsGitDir(layout), 'rev-parse', `${last.id}:data/sub`]).trim();
    fs.rmSync(path.join(snapshotsGitDir(layout), 'objects', subTree.slice(0, 2), subTree.slice(2)));
    fs.writeFileSync(path.join(layout.root, 'data/b.csv'), 'b2\n');
    const next = await snapshotWithPhases(store, ['data']);
    assert.equal(Buffer.from(await store.readFile(next.info.id, 'data/b.csv')).toString(), 'b2\n');
    assert.equal(Buffer.from(await store.readFile(next.info.id, 'data/sub/a.csv')).toString(), 'a\n');
    assert.equal(gitCli(['--git-dir', snapshotsGitDir(layout), 'rev-parse', `${next.info.id}:data/sub`]).trim(), subTree);
    assert.ok(fs.existsSync(path.join(snapshotsGitDir(layout), 'objects', subTree.slice(0, 2), subTree.slice(2))));
  });

  it('scans as before where git is missing', async () => {
    const layout = tmpWorkspace();
    writeTree(layout.root, { 'data/a.csv': 'a\n' });
    await settle(layout.root, ['data/a.csv']);
    const savedPath = process.env.PATH;
    const store = await SnapshotStore.open(layout);
    const first = await store.snapshot(['data'], { message: 'first' });
    fs.rmSync(path.join(layout.indexDir, 'snapshot-probe'), { recursive: true, force: true });
    process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-no-git-'));
    try {
      const again = await snapshotWithPhases(store, ['data']);
      assert.equal(again.probed, false);
      assert.equal(contentOf(again.files), contentOf((await store.show(first.id)).files));
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

/** `git ls-files --stage` over the probe index, as the probe's git reads it. */
function execIndex(layout: { root: string }, index: string): string {
  const saved = process.env.GIT_INDEX_FILE;
  process.env.GIT_INDEX_FILE = index;
  try {
    return gitCli(['-c', 'core.bare=false', '--git-dir', path.join(layout.root, '.mlops', 'snapshots.git'), '--work-tree', layout.root, 'ls-files', '--stage'], layout.root);
  } finally {
    if (saved === undefined) delete process.env.GIT_INDEX_FILE;
    else process.env.GIT_INDEX_FILE = saved;
  }
}
