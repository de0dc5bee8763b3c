import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRemoteRun } from '../../src/core/compute/remoteRun';
import type { MlopsLayout } from '../../src/core/workspace/layout';
import { cliPath, repoRoot } from './helpers';
import { gitProject } from './remoteHelpers';
import { startSshd, type TestSshd } from './sshd';

interface Shipped { files: number; sent: number; bytes: number }

function project(sshd: TestSshd, files: Record<string, string>, more = ''): MlopsLayout {
  return gitProject(`targets:\n${sshd.entry()}${more}`, files);
}

/** Runs `args` on the target to its end; its output, and what its capture says was shipped. */
async function runThere(sshd: TestSshd, ws: MlopsLayout, args: string[]): Promise<{ output: string; shipped: Shipped; status: string }> {
  let output = '';
  const run = await startRemoteRun({ layout: ws, target: sshd.target(), command: 'python3', args, onOutput: (t) => (output += t) });
  const outcome = await run.finished;
  return { output, shipped: captureOf(ws, run.runId).shipped as Shipped, status: outcome.status };
}

function events(ws: MlopsLayout, runId: string): Record<string, unknown>[] {
  return fs.readFileSync(ws.eventsFile(runId), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function captureOf(ws: MlopsLayout, runId: string): Record<string, unknown> {
  return events(ws, runId).find((e) => e.type === 'capture')!.capture as Record<string, unknown>;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Prints every file under the job's code folder as JSON: path → [sha256, executable]. */
const LIST = `
import hashlib, json, os
out = {}
for d, _, names in os.walk("."):
    for n in names:
        p = os.path.join(d, n)[2:]
        if "__pycache__" in p: continue
        out[p] = [hashlib.sha256(open(p, "rb").read()).hexdigest(), os.access(p, os.X_OK)]
print("FILES " + json.dumps(out, sort_keys=True))
`;

function listed(output: string): Record<string, [string, boolean]> {
  return JSON.parse(/^FILES (.*)$/m.exec(output)![1]) as Record<string, [string, boolean]>;
}

describe('shipping a job to a real sshd target (host PATH without node or rsync)', () => {
  let sshd: TestSshd;
  before(async () => { sshd = await startSshd(); });
  after(async () => { await sshd?.stop(); });

  it('the host has no node and no rsync: the job runs with sh, tar and python3 only', async () => {
    const ws = project(sshd, { 'which.py': 'import shutil\nprint("tools", shutil.which("node"), shutil.which("rsync"), bool(shutil.which("tar")))\n' });
    const r = await runThere(sshd, ws, ['which.py']);
    assert.equal(r.status, 'FINISHED');
    assert.match(r.output, /tools None None True/);
  });

  it('a second run after changing one file sends exactly that one file; the job sees every file as it is here', async () => {
    const files: Record<string, string> = { 'list.py': LIST };
    for (let i = 0; i < 30; i++) files[`pkg/m${i}.py`] = `VALUE = ${i}\n`;
    const ws = project(sshd, files);
    const first = await runThere(sshd, ws, ['list.py']);
    assert.equal(first.status, 'FINISHED');
    const all = 33; // with mlops.yaml and .gitignore
    assert.deepEqual([first.shipped.files, first.shipped.sent], [all, all]);
    const record = JSON.parse(fs.readFileSync(path.join(ws.dir, 'targets', 'gpu-box', 'shipped.json'), 'utf8')) as { objects: string[] };
    assert.equal(record.objects.length, all, 'the record holds what the host now has');

    fs.writeFileSync(path.join(ws.root, 'pkg/m7.py'), 'VALUE = "changed, not committed"\n');
    const second = await runThere(sshd, ws, ['list.py']);
    assert.deepEqual(second.shipped, { files: all, sent: 1, bytes: Buffer.byteLength('VALUE = "changed, not committed"\n') });
    const there = listed(second.output);
    assert.equal(Object.keys(there).length, all);
    for (const [rel, text] of Object.entries({ ...files, 'pkg/m7.py': 'VALUE = "changed, not committed"\n' })) assert.equal(there[rel][0], sha256(text), rel);

    const third = await runThere(sshd, ws, ['list.py']);
    assert.equal(third.shipped.sent, 0, 'nothing changed: nothing sent');

    fs.mkdirSync(path.join(ws.root, 'notes'));
    fs.writeFileSync(path.join(ws.root, 'notes/new.py'), 'NEW = 1\n');
    fs.writeFileSync(path.join(ws.root, 'ignored.log'), 'git ignores me\n');
    fs.appendFileSync(path.join(ws.root, '.gitignore'), '*.log\n');
    fs.rmSync(path.join(ws.root, 'pkg/m3.py'));
    const fourth = await runThere(sshd, ws, ['list.py']);
    assert.equal(fourth.shipped.sent, 2, 'the new file and the changed .gitignore');
    const now = listed(fourth.output);
    assert.ok(now['notes/new.py'] && !now['pkg/m3.py'] && !now['ignored.log'], 'a new file goes, a deleted one and an ignored one do not');
  });

  it('a wiped host cache is noticed and refilled, and the run still succeeds', async () => {
    const ws = project(sshd, { 'list.py': LIST, 'a.txt': 'alpha\n', 'b.txt': 'beta\n' });
    assert.equal((await runThere(sshd, ws, ['list.py'])).status, 'FINISHED');
    fs.rmSync(path.join(sshd.workdir, '.cache'), { recursive: true });
    const again = await runThere(sshd, ws, ['list.py']);
    assert.equal(again.status, 'FINISHED');
    assert.equal(again.shipped.sent, 5, 'the record claimed all five (with mlops.yaml and .gitignore); the host said they were missing; they went again');
    assert.equal(listed(again.output)['b.txt'][0], sha256('beta\n'));
    assert.equal((await runThere(sshd, ws, ['list.py'])).shipped.sent, 0, 'the cache holds them again');
  });

  it('a job that rewrites a shipped file in place does not spoil the next run\'s copy', async () => {
    const ws = project(sshd, { 'spoil.py': 'print("read", open("state.txt").read().strip())\nopen("state.txt", "w").write("spoiled\\n")\n', 'state.txt': 'pristine\n' });
    assert.match((await runThere(sshd, ws, ['spoil.py'])).output, /read pristine/);
    const second = await runThere(sshd, ws, ['spoil.py']);
    assert.match(second.output, /read pristine/);
    assert.equal(second.shipped.sent, 1, 'the spoiled object was sent again');
  });

  it('hostile file names and an executable bit arrive as they are', async () => {
    const names = ['a b.txt', 'it\'s "quoted".txt', 'new\nline.txt', 'tab\there.txt', '-leading-dash.txt', '--rf', 'ünïcödé ✓/数据.txt', 'back\\slash.txt', `${'long-'.repeat(40)}.txt`];
    const files: Record<string, string> = { 'list.py': LIST, 'run.sh': '#!/bin/sh\necho hi\n' };
    names.forEach((n, i) => (files[n] = `content ${i}\n`));
    files['empty.txt'] = '';
    const ws = project(sshd, files);
    fs.chmodSync(path.join(ws.root, 'run.sh'), 0o755);
    const r = await runThere(sshd, ws, ['list.py']);
    assert.equal(r.status, 'FINISHED', r.output);
    const there = listed(r.output);
    assert.deepEqual(Object.keys(there).sort(), [...Object.keys(files), 'mlops.yaml', '.gitignore'].sort());
    for (const [rel, text] of Object.entries(files)) assert.equal(there[rel][0], sha256(text), rel);
    assert.equal(there['run.sh'][1], true, 'run.sh is executable there');
    assert.equal(there['a b.txt'][1], false);
  });

  it('a file git converts on checkout (line endings, filters) arrives as the working tree holds it, not as git stores it', async () => {
    const files = { 'list.py': LIST, '.gitattributes': '*.txt text\n', 'windows.txt': 'one\r\ntwo\r\n' };
    const ws = project(sshd, files);
    // An older mtime and a refreshed index: git no longer takes the file for racily clean, and vouches for it.
    fs.utimesSync(path.join(ws.root, 'windows.txt'), new Date('2020-01-01'), new Date('2020-01-01'));
    spawnSync('git', ['update-index', '--refresh'], { cwd: ws.root });
    assert.equal(spawnSync('git', ['diff-files', '--name-only'], { cwd: ws.root, encoding: 'utf8' }).stdout, '', 'git calls it unchanged');
    const r = await runThere(sshd, ws, ['list.py']);
    assert.equal(r.status, 'FINISHED', r.output);
    assert.equal(listed(r.output)['windows.txt'][0], sha256('one\r\ntwo\r\n'), 'git stores it with LF; the working tree has CRLF');
  });

  it('a project that is no git repository is refused with the fix, and leaves no local run', async () => {
    const ws = project(sshd, { 'train.py': 'print(1)\n' });
    fs.rmSync(path.join(ws.root, '.git'), { recursive: true });
    await assert.rejects(startRemoteRun({ layout: ws, target: sshd.target(), command: 'python3', args: ['train.py'] }), /is not a git repository .*Run "git init"/);
    assert.deepEqual(fs.existsSync(ws.runsDir) ? fs.readdirSync(ws.runsDir) : [], []);
  });

  it('the run\'s data snapshot goes through the same cache, arrives intact and is recorded on the run', () => {
    const ws = project(sshd, { 'list.py': LIST, '.gitignore': '.mlops/\ndata/\n' }, 'data:\n  - data\n');
    fs.mkdirSync(path.join(ws.root, 'data/raw'), { recursive: true });
    const table = 'x,y\n' + Array.from({ length: 2000 }, (_, i) => `${i},${i % 7}`).join('\n') + '\n';
    const blob = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 131) % 256));
    fs.writeFileSync(path.join(ws.root, 'data/train.csv'), table);
    fs.writeFileSync(path.join(ws.root, 'data/raw/blob.bin'), blob);
    const cli = () => spawnSync(process.execPath, [cliPath, 'run', '--target', 'gpu-box', '--', 'python3', 'list.py'], { cwd: ws.root, encoding: 'utf8', timeout: 120_000 });
    const first = cli();
    assert.equal(first.status, 0, first.stderr);
    const there = listed(first.stdout);
    assert.equal(there['data/train.csv'][0], sha256(table));
    assert.equal(there['data/raw/blob.bin'][0], sha256(blob));

    const runs = fs.readdirSync(ws.runsDir);
    const runId = runs[0];
    const input = events(ws, runId).find((e) => e.type === 'input')!;
    assert.match(String(input.snapshot), /^[0-9a-f]{40}$/);
    assert.deepEqual(input.paths, ['data']);
    assert.equal((captureOf(ws, runId).shipped as Shipped).sent, 5, 'list.py, mlops.yaml, .gitignore and the two data files');

    const second = cli();
    assert.equal(second.status, 0, second.stderr);
    const runId2 = fs.readdirSync(ws.runsDir).find((r) => !runs.includes(r))!;
    assert.equal((captureOf(ws, runId2).shipped as Shipped).sent, 0, 'unchanged data is not sent again');
    assert.equal(events(ws, runId2).find((e) => e.type === 'input')!.snapshot, input.snapshot, 'the same snapshot');
  });
});

describe('runner.py materialize on its own', () => {
  const runner = path.join(repoRoot, 'src/core/compute/runner.py');

  it('refuses a manifest path that would leave the job folder, and writes nothing outside it', () => {
    for (const bad of ['code/../../escaped.txt', '/tmp/escaped.txt', 'code//x', 'runner.py', 'code/./x', 'code/..', 'code/']) {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-ship-'));
      const job = path.join(base, 'job');
      fs.mkdirSync(path.join(job, 'ship', 'objects'), { recursive: true });
      const text = 'escape\n';
      const oid = createHash('sha1').update(`blob ${text.length}\0${text}`).digest('hex');
      fs.writeFileSync(path.join(job, 'ship', 'objects', oid), text);
      fs.writeFileSync(path.join(job, 'ship', 'manifest'), `${oid} 644 ${bad}\0`);
      const r = spawnSync('python3', [runner, 'materialize', job], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, bad);
      assert.match(r.stderr, /refusing the path/, bad);
      assert.ok(!fs.existsSync(path.join(base, 'escaped.txt')) && !fs.existsSync('/tmp/escaped.txt'), bad);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('refuses an object whose content is not its id (a file changed while it was being shipped)', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-ship-'));
    const job = path.join(base, 'job');
    fs.mkdirSync(path.join(job, 'ship', 'objects'), { recursive: true });
    const oid = createHash('sha1').update('blob 4\0old\n').digest('hex');
    fs.writeFileSync(path.join(job, 'ship', 'objects', oid), 'new\n');
    fs.writeFileSync(path.join(job, 'ship', 'manifest'), `${oid} 644 code/state.txt\0`);
    const r = spawnSync('python3', [runner, 'materialize', job], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /state\.txt changed while it was being shipped/);
    assert.ok(!fs.existsSync(path.join(base, '.cache', 'objects', oid.slice(0, 2), oid.slice(2))), 'nothing wrong entered the cache');
    fs.rmSync(base, { recursive: true, force: true });
  });
});
