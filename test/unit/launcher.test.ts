import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { launchTrackedRun } from '../../src/core/tracking/launcher';
import { Tracking } from '../../src/core/tracking/tracking';
import { fixtures, tmpWorkspace } from './helpers';

const script = (layout: { root: string }, name: string, body: string): string => {
  const file = path.join(layout.root, name);
  fs.writeFileSync(file, body);
  return file;
};

/** Alive and not a zombie waiting to be reaped (this container's init may reap late). */
function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('launching a tracked run (real Python processes)', () => {
  it('records output, capture and the client metrics of a finished script', async () => {
    const layout = tmpWorkspace();
    const file = script(layout, 'train.py', [
      'import mlops_workbench as mlops',
      'mlops.log_param("lr", 0.1)',
      'for i in range(3): mlops.log_metric("loss", 1.0 / (i + 1), step=i)',
      'print("done training")',
    ].join('\n'));
    let seen = '';
    const run = launchTrackedRun({ layout, command: 'python3', args: [file], cwd: layout.root, source: 'script', onOutput: (t) => (seen += t) });
    const outcome = await run.finished;
    assert.deepEqual(outcome, { status: 'FINISHED', exitCode: 0, error: undefined });
    assert.match(seen, /done training/);
    const t = await Tracking.open(layout.root);
    const detail = t.getRun(run.runId)!;
    assert.equal(detail.name, 'train-1');
    assert.equal(detail.source, 'script');
    assert.equal(detail.params.lr, '0.1');
    assert.equal(detail.metrics[0].count, 3);
    const c = detail.capture;
    assert.deepEqual(c.argv, ['python3', file]);
    assert.equal(c.cwd, layout.root);
    assert.equal(c.host, os.hostname());
    assert.equal(c.user, os.userInfo().username);
    assert.match(c.python!.version, /^3\.\d+\.\d+$/);
    assert.ok(path.isAbsolute(c.python!.path));
    assert.ok(c.packages!.length > 0 && c.packages!.every((p) => /^[^=]+==\S+$/.test(p)), 'packages as name==version');
    const log = detail.artifacts.find((a) => a.path === 'output.log')!;
    assert.equal(fs.readFileSync(path.join(layout.artifactsDir(run.runId), 'output.log'), 'utf8').trim(), 'done training');
    assert.equal(log.size, 'done training\n'.length);
    t.close();
  });

  it('captures the git commit, branch and the uncommitted diff as an artifact', async () => {
    const layout = tmpWorkspace();
    const git = (...args: string[]) => execFileSync('git', ['-C', layout.root, ...args], { stdio: 'pipe' });
    git('init', '-q', '-b', 'main');
    const file = script(layout, 'job.py', 'print(1)\n');
    git('add', 'job.py');
    git('-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '-m', 'first');
    fs.appendFileSync(file, 'print(2)\n');
    const run = launchTrackedRun({ layout, command: 'python3', args: [file], cwd: layout.root, source: 'script' });
    await run.finished;
    const t = await Tracking.open(layout.root);
    const { capture, artifacts } = t.getRun(run.runId)!;
    assert.equal(capture.git!.commit, git('rev-parse', 'HEAD').toString().trim());
    assert.equal(capture.git!.branch, 'main');
    assert.equal(capture.git!.dirty, true);
    assert.ok(artifacts.some((a) => a.path === 'git-diff.patch'));
    assert.match(fs.readFileSync(path.join(layout.artifactsDir(run.runId), 'git-diff.patch'), 'utf8'), /\+print\(2\)/);
    t.close();
  });

  it('records GPUs from nvidia-smi (a fake nvidia-smi printing real H200 output: no GPU on this machine)', async () => {
    const layout = tmpWorkspace();
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-smi-'));
    const csv = fs.readFileSync(path.join(fixtures, 'gpu-host', 'nvidia-smi-query.csv'), 'utf8').split('\n')[2];
    fs.writeFileSync(path.join(bin, 'nvidia-smi'), `#!/bin/sh\necho "${csv}"\n`, { mode: 0o755 });
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      const run = launchTrackedRun({ layout, command: 'true', args: [], cwd: layout.root, source: 'command' });
      await run.finished;
      const t = await Tracking.open(layout.root);
      assert.equal(t.getRun(run.runId)!.capture.gpus![0].name, 'NVIDIA H200');
      t.close();
    } finally {
      process.env.PATH = oldPath;
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it('marks a failing script FAILED with its exit code', async () => {
    const layout = tmpWorkspace();
    const file = script(layout, 'bad.py', 'import sys\nsys.exit(3)\n');
    const outcome = await launchTrackedRun({ layout, command: 'python3', args: [file], cwd: layout.root, source: 'script' }).finished;
    assert.equal(outcome.status, 'FAILED');
    assert.equal(outcome.exitCode, 3);
  });

  it('stops a sleeping script and its children, marking it KILLED', async () => {
    const layout = tmpWorkspace();
    const file = script(layout, 'sleepy.py', [
      'import subprocess, sys, time',
      'child = subprocess.Popen(["sleep", "300"])',
      'print(child.pid, flush=True)',
      'time.sleep(300)',
    ].join('\n'));
    let out = '';
    const run = launchTrackedRun({ layout, command: 'python3', args: [file], cwd: layout.root, source: 'script', onOutput: (t) => (out += t) });
    while (!/^\d+/.test(out)) await new Promise((r) => setTimeout(r, 50));
    const grandchild = Number(out.trim());
    const outcome = await run.stop();
    assert.equal(outcome.status, 'KILLED');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!isRunning(grandchild), 'the child process of the script is gone too');
    const t = await Tracking.open(layout.root);
    assert.equal(t.getRun(run.runId)!.status, 'KILLED');
    t.close();
  });

  it('fails clearly when the interpreter does not exist', async () => {
    const layout = tmpWorkspace();
    const outcome = await launchTrackedRun({ layout, command: '/nonexistent/python3', args: ['x.py'], cwd: layout.root, source: 'script' }).finished;
    assert.equal(outcome.status, 'FAILED');
    assert.match(outcome.error!, /Cannot start "\/nonexistent\/python3": it was not found\. Check the interpreter setting/);
  });
});
