import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SnapshotError, SnapshotStore, snapshotsGitDir } from '../../src/core/snapshots';
import { tmpWorkspace } from './helpers';
import { assertFsck, bareRemote, gitCli, startGitHttpServer, writeTree, type GitHttpServer } from './snapshotHelpers';

describe('snapshot store: push and fetch through a real git http-backend', () => {
  let server: GitHttpServer;
  let remotes: string;
  before(async () => {
    remotes = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-remotes-'));
    server = await startGitHttpServer(remotes);
  });
  after(async () => {
    await server.close();
    fs.rmSync(remotes, { recursive: true, force: true });
  });

  it('pushes every snapshot and tag, and another workspace fetches and restores them', async () => {
    const remoteDir = bareRemote(remotes, 'shared.git');
    const url = server.url('shared.git');
    const alice = tmpWorkspace();
    writeTree(alice.root, { 'data/train.csv': 'x\n1\n', 'models/m.bin': crypto.randomBytes(800_000) });
    const store = await SnapshotStore.open(alice);
    const a = await store.snapshot(['data'], { message: 'data v1' });
    const b = await store.snapshot(['data', 'models'], { message: 'with model' });
    await store.tag(a.id, 'v1');

    const pushed = await store.push(url);
    assert.equal(pushed.chainPushed, true);
    assert.deepEqual(new Set(pushed.updated), new Set(['refs/heads/snapshots', `refs/snapshots/${a.id}`, `refs/snapshots/${b.id}`, 'refs/tags/v1']));
    // The remote is plain git: its log and refs say the same.
    assert.deepEqual(gitCli(['--git-dir', remoteDir, 'log', '--format=%H', 'snapshots']).trim().split('\n'), [b.id, a.id]);
    assert.equal(gitCli(['--git-dir', remoteDir, 'rev-parse', 'v1']).trim(), a.id);
    gitCli(['--git-dir', remoteDir, 'fsck', '--strict']);
    // Pushing again changes nothing.
    assert.deepEqual((await store.push(url)).updated, []);

    const bob = tmpWorkspace();
    const bobStore = await SnapshotStore.open(bob);
    const arrived = await bobStore.fetch(url);
    assert.deepEqual(new Set(arrived), new Set([a.id, b.id]));
    assert.deepEqual((await bobStore.list()).map((s) => [s.id, s.message, s.tags]), [[b.id, 'with model', []], [a.id, 'data v1', ['v1']]]);
    assertFsck(bob);
    await bobStore.restore('v1', {});
    assert.equal(fs.readFileSync(path.join(bob.root, 'data/train.csv'), 'utf8'), 'x\n1\n');
    await bobStore.restore(b.id, { to: 'b' });
    assert.ok(fs.readFileSync(path.join(bob.root, 'b/models/m.bin')).equals(fs.readFileSync(path.join(alice.root, 'models/m.bin'))));
    assert.deepEqual(await bobStore.fetch(url), [], 'nothing new the second time');

    // Bob's own chain diverges from the remote's: his snapshot still goes up under refs/snapshots.
    writeTree(bob.root, { 'data/extra.csv': 'e\n' });
    const c = await bobStore.snapshot(['data'], { message: 'bob adds data' });
    const bobPush = await bobStore.push(url);
    assert.equal(bobPush.chainPushed, false, 'his chain does not extend the remote one');
    assert.ok(bobPush.updated.includes(`refs/snapshots/${c.id}`));
    assert.equal(gitCli(['--git-dir', remoteDir, 'rev-parse', 'refs/heads/snapshots']).trim(), b.id, "alice's chain on the remote is untouched");
    gitCli(['--git-dir', remoteDir, 'fsck', '--strict']);

    assert.deepEqual(await store.fetch(url), [c.id]);
    assert.equal(Buffer.from(await store.readFile(c.id, 'data/extra.csv')).toString(), 'e\n');
    assertFsck(alice);
    // Tags never move on the remote either.
    await bobStore.tag(c.id, 'latest');
    await store.tag(b.id, 'latest');
    await bobStore.push(url);
    await assert.rejects(store.push(url), (e: SnapshotError) => e instanceof SnapshotError && e.code === 'tag-exists' && /already has tag "latest"/.test(e.message));
  });

  it('says clearly when the remote cannot be reached or is not a git repository', async () => {
    const layout = tmpWorkspace();
    writeTree(layout.root, { 'data/a.csv': 'a\n' });
    const store = await SnapshotStore.open(layout);
    await store.snapshot(['data'], { message: 'a' });
    await assert.rejects(store.push(server.url('missing.git')), (e: SnapshotError) => e.code === 'remote' && /Could not push to http:\/\/127\.0\.0\.1:\d+\/missing\.git/.test(e.message));
    await assert.rejects(store.fetch('http://127.0.0.1:9/nothing.git'), (e: SnapshotError) => e.code === 'remote' && /check the URL and that the server is reachable/.test(e.message));
    const readOnly = path.join(remotes, 'readonly.git');
    gitCli(['init', '-q', '--bare', readOnly]); // http.receivepack not enabled
    await assert.rejects(store.push(server.url('readonly.git')), (e: SnapshotError) => e.code === 'remote');
    assert.deepEqual(await store.fetch(server.url('readonly.git')), [], 'an empty remote has nothing to fetch');
    assertFsck(layout);
    assert.ok(fs.existsSync(snapshotsGitDir(layout)));
  });
});
