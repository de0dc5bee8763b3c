import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cancelRemoteRun } from '../../src/core/compute/cancelRun';
import { startRemoteRun, type RemoteRun } from '../../src/core/compute/remoteRun';
import { ShipRecord } from '../../src/core/compute/shipRecord';
import { Project } from '../../src/core/project';
import { cleanTarget, surveyTarget } from '../../src/core/compute/targetCleanup';
import type { MlopsLayout } from '../../src/core/workspace/layout';
import { mlops, tmpWorkspace } from './helpers';
import { gitProject, until } from './remoteHelpers';
import { startSshd, type TestSshd } from './sshd';

/** git's blob id of a file's content: the name of its object in the host's cache. */
const blobId = (text: string) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0${text}`).digest('hex');

/** Writes model.txt into the run's artifacts (as the Python client's log_artifact does), then prints data.txt. */
const TRAIN = 'import os\nd = os.path.join(os.environ["MLOPS_RUN_DIR"], "artifacts")\nos.makedirs(d, exist_ok=True)\nopen(os.path.join(d, "model.txt"), "w").write("weights\\n" * 100)\nprint(open("data.txt").read())\n';

describe('cleaning up a target\'s host: job folders and its object cache (a real sshd)', () => {
  let sshd: TestSshd;
  before(async () => { sshd = await startSshd(); });
  after(async () => { await sshd?.stop(); });

  const project = (files: Record<string, string>) => gitProject(`targets:\n${sshd.entry()}`, files);
  const run = (ws: MlopsLayout, script: string) => startRemoteRun({ layout: ws, target: sshd.target(), command: 'python3', args: [script] });
  async function finished(ws: MlopsLayout, script: string): Promise<{ runId: string; sent: number }> {
    const r = await run(ws, script);
    assert.equal((await r.finished).status, 'FINISHED');
    return { runId: r.runId, sent: shipped(ws, r.runId) };
  }
  const shipped = (ws: MlopsLayout, runId: string) => {
    const capture = fs.readFileSync(ws.eventsFile(runId), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; capture?: { shipped: { sent: number } } }).find((e) => e.type === 'capture');
    return capture!.capture!.shipped.sent;
  };
  const jobThere = (runId: string) => fs.existsSync(path.join(sshd.workdir, runId));
  const cached = (oid: string) => fs.existsSync(path.join(sshd.workdir, '.cache', 'objects', oid.slice(0, 2), oid.slice(2)));
  const recorded = (ws: MlopsLayout) => (JSON.parse(fs.readFileSync(path.join(ws.dir, 'targets', 'gpu-box', 'shipped.json'), 'utf8')) as { objects: string[] }).objects;

  it('removes ended runs\' job folders whose artifacts are home and the cached files only they used; running jobs, missing artifacts, young runs and other workspaces stay', async () => {
    const a = project({ 'train.py': TRAIN, 'data.txt': 'v1\n', 'sleep.py': 'import time\ntime.sleep(120)\n' });
    const a1 = await finished(a, 'train.py');
    fs.rmSync(path.join(a.artifactsDir(a1.runId), 'model.txt')); // used and removed here after it came home: it did come
    fs.writeFileSync(path.join(a.root, 'data.txt'), 'v2\n'); // v1 is now in a1's job folder only
    const a2 = await finished(a, 'train.py');
    // A run from before the record of what came home, whose artifact is not here: judged by the artifacts folder.
    const job = path.join(a.runDir(a2.runId), 'remote.json');
    const { artifacts, ...older } = JSON.parse(fs.readFileSync(job, 'utf8')) as { artifacts: Record<string, number> };
    assert.deepEqual(Object.keys(artifacts).sort(), ['git-diff.patch', 'model.txt', 'output.log'], 'what came home is recorded with the run');
    fs.writeFileSync(job, JSON.stringify(older));
    fs.rmSync(path.join(a.artifactsDir(a2.runId), 'model.txt'));
    let sleeper: RemoteRun | undefined = await run(a, 'sleep.py');
    await sleeper.detach(); // still running there
    const b = project({ 'train.py': TRAIN, 'data.txt': 'v1\n' }); // another workspace, same workdir, sharing v1
    const b1 = await finished(b, 'train.py');

    const young = await surveyTarget(a, sshd.target(), 7);
    assert.deepEqual(young.jobs.map((j) => [j.runId, j.keep]), [
      [a1.runId, 'ended today (kept for 7)'], [a2.runId, 'ended today (kept for 7)'], [sleeper.runId, 'still running'],
    ].sort((x, y) => x[0]!.localeCompare(y[0]!)));
    assert.equal(young.others, 1, 'workspace b\'s job folder is counted, not listed');
    assert.ok(young.jobs.every((j) => j.bytes > 0), 'each job\'s own files (its run folder, output) have a size');

    const done = await cleanTarget(a, sshd.target(), 0);
    assert.deepEqual(done.removed, [a1.runId]);
    assert.deepEqual(Object.fromEntries(done.kept.map((k) => [k.runId, k.keep])), {
      [a2.runId]: 'its artifact model.txt is not home', [sleeper.runId]: 'still running',
    });
    assert.ok(!jobThere(a1.runId) && jobThere(a2.runId) && jobThere(sleeper.runId) && jobThere(b1.runId));
    assert.ok(cached(blobId('v1\n')), 'v1 stays: workspace b\'s job links to it');
    assert.equal(done.pruned, 0);

    // Workspace b's folder goes when b cleans: then v1 is used by no job and leaves the cache.
    const bDone = await cleanTarget(b, sshd.target(), 0);
    assert.deepEqual(bDone.removed, [b1.runId]);
    assert.ok(!cached(blobId('v1\n')), 'v1 pruned');
    assert.ok(cached(blobId('v2\n')), 'v2 stays: a2 and the sleeper link to it');
    assert.ok(cached(blobId(TRAIN)), 'train.py stays: a2 and the sleeper link to it');
    assert.ok(!recorded(b).includes(blobId('v1\n')), 'b\'s ship record forgot what was pruned');
    assert.equal(bDone.pruned, 1, 'only v1 was b1\'s alone');

    // The next run sends exactly the pruned file again, with no "missing" round trip, and works.
    fs.writeFileSync(path.join(b.root, 'data.txt'), 'v1\n');
    const b2 = await finished(b, 'train.py');
    assert.equal(b2.sent, 1, 'only data.txt (v1) went again');

    await cancelRemoteRun(a, sleeper.runId);
    await until('the cancelled job to end there', () => fs.existsSync(path.join(sshd.workdir, sleeper!.runId, 'exit')));
    sleeper = undefined;
  });

  it('waits for a job being put together (materialize holds the cache lock) before it prunes', async () => {
    const ws = project({ 'train.py': TRAIN, 'data.txt': 'solo\n' });
    await finished(ws, 'train.py');
    const lock = path.join(sshd.workdir, '.cache', 'lock');
    const released = path.join(sshd.workdir, 'released-by-holder');
    const holder = spawn('python3', ['-c', `import fcntl, os, time\nfd = os.open(${JSON.stringify(lock)}, os.O_RDWR)\nfcntl.flock(fd, fcntl.LOCK_SH)\nprint("held", flush=True)\ntime.sleep(1.5)\nopen(${JSON.stringify(released)}, "w").close()\n`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => holder.stdout!.once('data', r));
    const done = await cleanTarget(ws, sshd.target(), 0);
    assert.ok(fs.existsSync(released), 'clean ran only after the holder let go');
    assert.equal(done.removed.length, 1);
    fs.rmSync(released);
  });

  it('takes any number of runs: 10,000 of them (more than one ssh request holds) in one survey', async () => {
    const ws = project({ 'train.py': TRAIN, 'data.txt': 'many\n' });
    const real = await finished(ws, 'train.py');
    for (let i = 0; i < 10_000; i++) {
      const runId = `${i.toString(16).padStart(8, '0')}${'0'.repeat(24)}`;
      fs.mkdirSync(ws.runDir(runId), { recursive: true });
      fs.writeFileSync(path.join(ws.runDir(runId), 'remote.json'), JSON.stringify({ target: 'gpu-box', host: 'h', dir: `/nowhere/${runId}` }));
    }
    const survey = await surveyTarget(ws, sshd.target(), 0);
    assert.deepEqual(survey.jobs.map((j) => [j.runId, j.keep]), [[real.runId, undefined]], 'the runs with no folder there are not listed');
  });

  it('knows the job folder of a run deleted here as this workspace\'s: it goes once its job has ended, however young', async () => {
    const ws = project({ 'train.py': TRAIN, 'data.txt': 'deleted\n' });
    const [kept, gone] = [await finished(ws, 'train.py'), await finished(ws, 'train.py')];
    const before = await surveyTarget(ws, sshd.target(), 7); // the workdir holds earlier tests' folders too
    const p = await Project.open(ws.root);
    p.deleteRun(gone.runId);
    const audited = p.audit.entries().at(-1)!;
    p.close();
    assert.ok(!fs.existsSync(ws.runDir(gone.runId)), 'its run folder is gone here');
    assert.deepEqual([audited.action, audited.subject], ['delete', [gone.runId]], 'the deletion is in the audit trail');

    const survey = await surveyTarget(ws, sshd.target(), 7);
    assert.deepEqual(survey.jobs.map((j) => [j.runId, j.keep, j.deleted]), [[kept.runId, 'ended today (kept for 7)', undefined], [gone.runId, undefined, true]]);
    assert.equal(survey.others, before.others, 'not counted as another workspace\'s');
    const dry = mlops(ws.root, 'targets', 'clean', 'gpu-box', '--dry-run');
    assert.match(dry.stdout, new RegExp(`${gone.runId} \\(deleted here\\) .* go`));
    const done = await cleanTarget(ws, sshd.target(), 7);
    assert.deepEqual(done.removed, [gone.runId]);
    assert.ok(!jobThere(gone.runId) && jobThere(kept.runId));
  });

  it('mlops targets clean: --dry-run says what would go and removes nothing; bad arguments and targets with nothing to clean say so', async () => {
    const ws = project({ 'train.py': TRAIN, 'data.txt': 'cli\n' });
    const r = await finished(ws, 'train.py');
    const dry = mlops(ws.root, 'targets', 'clean', 'gpu-box', '--dry-run', '--older-than-days', '0');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /gpu-box: 1 job folder of this workspace's runs; 1 would go/);
    assert.match(dry.stdout, new RegExp(`${r.runId} .* go`));
    assert.ok(jobThere(r.runId), 'a dry run removes nothing');
    const real = mlops(ws.root, 'targets', 'clean', 'gpu-box', '--older-than-days', '0');
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /removed 1 job folder/);
    assert.ok(!jobThere(r.runId));
    const bad = mlops(ws.root, 'targets', 'clean', 'gpu-box', '--older-than-days', 'soon');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--older-than-days takes a number of days/);
    const local = mlops(ws.root, 'targets', 'clean', 'local');
    assert.equal(local.code, 1);
    assert.match(local.stderr, /runs in the workspace itself: its runs leave nothing elsewhere/);
  });
});

describe('the ship record and a clean-up at the same time', () => {
  it('a ship that saves after a clean-up pruned its objects does not bring the pruned ids back', () => {
    const ws = tmpWorkspace();
    const shell = { name: 'gpu-box', type: 'ssh' as const, host: 'gpu-box' };
    ShipRecord.load(ws, 'gpu-box', shell, '~/runs').save(['a'.repeat(40), 'b'.repeat(40)]);
    const shipping = ShipRecord.load(ws, 'gpu-box', shell, '~/runs'); // a run starts shipping
    ShipRecord.load(ws, 'gpu-box', shell, '~/runs').forget(['a'.repeat(40)]); // a clean-up prunes a
    shipping.save(['c'.repeat(40)]); // the run's job held c
    const record = JSON.parse(fs.readFileSync(path.join(ws.dir, 'targets', 'gpu-box', 'shipped.json'), 'utf8')) as { objects: string[] };
    assert.deepEqual(record.objects.sort(), ['b'.repeat(40), 'c'.repeat(40)]);
  });
});
