import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRemoteRun } from '../../src/core/compute/remoteRun';
import { Tracking } from '../../src/core/tracking/tracking';
import { isProcessAlive } from '../../src/core/workspace/processes';
import type { MlopsLayout } from '../../src/core/workspace/layout';
import { cliPath } from './helpers';
import { gitProject, until } from './remoteHelpers';
import { startSshd, type TestSshd } from './sshd';

/** A git project holding `files`, with the target declared in its mlops.yaml. */
function project(sshd: TestSshd, files: Record<string, string>): MlopsLayout {
  return gitProject(`targets:\n${sshd.entry()}`, files);
}

const TRAIN = `
import os, sys, time
import mlops_workbench as mw
mw.log_param("lr", "0.01")
mw.log_metric("loss", 0.9, step=0)
mw.flush()
print("epoch 0 done", flush=True)
release = sys.argv[1]
while not os.path.exists(release):  # the test lets the run end once it saw the metric locally
    time.sleep(0.05)
mw.log_metric("loss", 0.4, step=1)
os.makedirs("out", exist_ok=True)
with open("out/model.txt", "w") as f:
    f.write("weights from " + os.path.basename(os.getcwd()))
mw.log_artifact("out/model.txt")
print("trained on", open("data/config.txt").read().strip())
`;

describe('a run on a real sshd target (host PATH without node or rsync)', () => {
  let sshd: TestSshd;
  before(async () => { sshd = await startSshd(); });
  after(async () => { await sshd?.stop(); });

  it('ships the project with its uncommitted change, streams a metric back while running, and brings artifacts home', async () => {
    const ws = project(sshd, { 'train.py': TRAIN, 'data/config.txt': 'committed\n' });
    fs.writeFileSync(path.join(ws.root, 'data/config.txt'), 'uncommitted edit\n');
    const release = path.join(ws.root, 'release');
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: sshd.target(), command: 'python3', args: ['train.py', release], onOutput: (t) => (output += t) });
    const events = ws.eventsFile(run.runId);
    await until('the first loss streamed into the local event log', () => fs.existsSync(events) && /"key":"loss"/.test(fs.readFileSync(events, 'utf8')));
    assert.ok(!/"run_end"/.test(fs.readFileSync(events, 'utf8')), 'the metric arrived while the run was still running');
    await until('live output', () => output.includes('epoch 0 done'));
    fs.writeFileSync(release, '');
    const outcome = await run.finished;
    assert.deepEqual(outcome, { status: 'FINISHED', exitCode: 0, error: undefined });
    assert.match(output, /trained on uncommitted edit/);
    assert.equal(fs.readFileSync(path.join(ws.artifactsDir(run.runId), 'model.txt'), 'utf8'), 'weights from code');

    const t = await Tracking.open(ws.root);
    const detail = t.getRun(run.runId)!;
    t.close();
    assert.equal(detail.status, 'FINISHED');
    assert.equal(detail.name, 'train-1', 'numbered like a local run of train.py');
    assert.equal(detail.params.lr, '0.01');
    assert.equal(detail.metrics.find((m) => m.key === 'loss')!.count, 2);
    assert.equal(detail.tags['mlops.target'], 'gpu-box');
    assert.ok(detail.tags['mlops.host'], 'the host is recorded');
    assert.deepEqual(detail.artifacts.map((a) => a.path).sort(), ['git-diff.patch', 'model.txt', 'output.log']);
  });

  it('survives killing its ssh connection mid-run: it reattaches and loses or repeats nothing', async () => {
    const ws = project(sshd, { 'train.py': TRAIN, 'data/config.txt': 'v1\n' });
    const release = path.join(ws.root, 'release');
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: sshd.target(), command: 'python3', args: ['train.py', release], onOutput: (t) => (output += t) });
    await until('live output', () => output.includes('epoch 0 done'));
    const follower = () => spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout.split('\n')
      .map((l) => l.trim().split(/\s+/)).find(([, ppid, ...args]) => Number(ppid) === process.pid && /runner\.py (follow|launch)/.test(args.join(' ')));
    const [pid] = await until('the ssh connection that follows the run', follower);
    process.kill(Number(pid), 'SIGKILL');
    await until('the reattach', () => output.includes('reattaching'));
    fs.writeFileSync(release, '');
    const outcome = await run.finished;
    assert.equal(outcome.status, 'FINISHED');
    assert.equal(output.match(/epoch 0 done/g)!.length, 1, 'output is not repeated after reattaching');
    const t = await Tracking.open(ws.root);
    const detail = t.getRun(run.runId)!;
    t.close();
    assert.equal(detail.metrics.find((m) => m.key === 'loss')!.count, 2);
    assert.ok(detail.artifacts.some((a) => a.path === 'model.txt'));
  });

  it('mlops runs cancel kills the remote process group; the run ends KILLED', async () => {
    const ws = project(sshd, { 'sleepy.py': 'import subprocess\nprint("ready", flush=True)\nsubprocess.call(["sleep", "300"])\n' });
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: sshd.target(), command: 'python3', args: ['sleepy.py'], onOutput: (t) => (output += t) });
    await until('the job to start', () => output.includes('ready'));
    assert.ok(isProcessAlive(run.job.pid!), 'the detached job runs on the host');
    const cancel = spawnSync(process.execPath, [cliPath, 'runs', 'cancel', run.runId.slice(0, 10)], { cwd: ws.root, encoding: 'utf8' });
    assert.equal(cancel.status, 0, cancel.stderr);
    assert.match(cancel.stdout, /Cancelled run .* on gpu-box/);
    const outcome = await run.finished;
    assert.equal(outcome.status, 'KILLED');
    assert.equal(outcome.exitCode, 128 + 15);
    await until('the job and its child to be gone', () => !isProcessAlive(run.job.pid!));
    // A zombie (stat Z) is gone already; it only waits for whoever reaps orphans here.
    const left = () => spawnSync('ps', ['-eo', 'pgid=,stat=,args='], { encoding: 'utf8' }).stdout.split('\n')
      .filter((l) => l.trim().startsWith(`${run.job.pid} `) && !/^\S+\s+Z/.test(l.trim()));
    await until('nothing of the process group to be left', () => left().length === 0 || undefined, 30_000).catch(() => assert.deepEqual(left(), []));
  });

  it('mlops run --target streams the output and exits with the remote command\'s own code', () => {
    const ws = project(sshd, { 'fail.py': 'import sys\nprint("remote says hi", flush=True)\nsys.exit(3)\n' });
    const r = spawnSync(process.execPath, [cliPath, 'run', '--target', 'gpu-box', '--', 'python3', 'fail.py'], { cwd: ws.root, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /remote says hi/);
    assert.match(r.stderr, /run [0-9a-f]{32} FAILED/);
  });

  it('a failed start says why and leaves no local run', async () => {
    const ws = project(sshd, { 'train.py': 'print(1)\n' });
    const target = { ...sshd.target(), workdir: '/proc/not-writable' };
    await assert.rejects(startRemoteRun({ layout: ws, target, command: 'python3', args: ['train.py'] }), /Starting the run failed on target "gpu-box": .*(cannot create|Permission|No such file|mkdir)/);
    assert.deepEqual(fs.existsSync(ws.runsDir) ? fs.readdirSync(ws.runsDir) : [], []);
  });
});
