import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRemoteRun } from '../../src/core/compute/remoteRun';
import { cleanTarget } from '../../src/core/compute/targetCleanup';
import type { SlurmTarget } from '../../src/core/compute/targets';
import { Tracking } from '../../src/core/tracking/tracking';
import type { MlopsLayout } from '../../src/core/workspace/layout';
import { cliPath, tmpWorkspace } from './helpers';
import { startSlurm, type TestSlurm } from './slurm';

function gitProject(files: Record<string, string>, yaml: string): MlopsLayout {
  const ws = tmpWorkspace();
  fs.writeFileSync(path.join(ws.root, '.gitignore'), '.mlops/\n');
  fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), yaml);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(ws.root, name), text);
  spawnSync('git', ['init', '-q'], { cwd: ws.root });
  spawnSync('git', ['add', '.'], { cwd: ws.root });
  return ws;
}

async function until(what: string, probe: () => boolean, timeoutMs = 90_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !probe(); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

describe('a run on a real single-node Slurm cluster (munged, slurmctld, slurmd)', () => {
  let slurm: TestSlurm;
  let workdir: string;
  const saved = process.env.SLURM_CONF;
  before(async () => {
    slurm = await startSlurm();
    process.env.SLURM_CONF = slurm.conf; // how sbatch, scancel and the CLI find this cluster
    workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-slurm-jobs-'));
  });
  after(async () => {
    if (saved === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = saved;
    await slurm?.stop();
    if (workdir) fs.rmSync(workdir, { recursive: true, force: true });
  });
  const target = (extra: Partial<SlurmTarget> = {}): SlurmTarget => ({ name: 'cluster', type: 'slurm', workdir, partition: 'debug', time: '10', ...extra });
  const yaml = () => `targets:\n  cluster:\n    type: slurm\n    partition: debug\n    workdir: ${workdir}\n`;

  it('completes through sbatch with its metrics and artifacts in an ordinary local run; cleaning up removes its job folder there', async () => {
    const ws = gitProject({ 'train.py': 'import mlops_workbench as mw\nfor s in range(3):\n    mw.log_metric("loss", 1 / (s + 1), step=s)\nopen("m.txt", "w").write("slurm model")\nmw.log_artifact("m.txt")\nprint("done on slurm")\n' }, yaml());
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: target(), command: 'python3', args: ['train.py'], onOutput: (t) => (output += t) });
    assert.match(run.job.slurmJob ?? '', /^\d+$/);
    const outcome = await run.finished;
    assert.equal(outcome.status, 'FINISHED', output);
    assert.match(output, /done on slurm/);
    const t = await Tracking.open(ws.root);
    const detail = t.getRun(run.runId)!;
    t.close();
    assert.equal(detail.metrics.find((m) => m.key === 'loss')!.count, 3);
    assert.equal(detail.tags['mlops.target'], 'cluster');
    assert.equal(fs.readFileSync(path.join(ws.artifactsDir(run.runId), 'm.txt'), 'utf8'), 'slurm model');

    // Its job folder on the submit host (here) goes with Clean Up, its artifacts being home.
    assert.ok(fs.existsSync(path.join(workdir, run.runId)));
    const cleaned = await cleanTarget(ws, target(), 0);
    assert.deepEqual(cleaned.removed, [run.runId]);
    assert.ok(!fs.existsSync(path.join(workdir, run.runId)));
  });

  it('mlops runs cancel scancels the job and the run ends KILLED', async () => {
    const ws = gitProject({ 'sleepy.py': 'import time\nprint("ready", flush=True)\ntime.sleep(300)\n' }, yaml());
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: target(), command: 'python3', args: ['sleepy.py'], onOutput: (t) => (output += t) });
    await until('the job to run', () => output.includes('ready'));
    const cancel = spawnSync(process.execPath, [cliPath, 'runs', 'cancel', run.runId], { cwd: ws.root, encoding: 'utf8' });
    assert.equal(cancel.status, 0, cancel.stderr);
    const outcome = await run.finished;
    assert.equal(outcome.status, 'KILLED');
    const state = spawnSync('scontrol', ['-o', 'show', 'job', run.job.slurmJob!], { encoding: 'utf8' }).stdout;
    assert.match(state, /JobState=CANCELLED/);
  });

  it('a job whose runner dies (Slurm then ends the job) ends the run with Slurm\'s state instead of hanging', async () => {
    const ws = gitProject({ 'sleepy.py': 'import time\nprint("ready", flush=True)\ntime.sleep(300)\n' }, yaml());
    let output = '';
    const run = await startRemoteRun({ layout: ws, target: target(), command: 'python3', args: ['sleepy.py'], onOutput: (t) => (output += t) });
    await until('the job to run', () => output.includes('ready'));
    const pids = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim().split(/\s+/));
    const pidOf = (match: (args: string) => boolean) => Number(pids.find((p) => match(p.slice(1).join(' ')))![0]);
    const runner = pidOf((args) => args.endsWith('runner.py run . -- python3 sleepy.py'));
    const command = pidOf((args) => args === 'python3 sleepy.py');
    process.kill(runner, 'SIGKILL'); // as the OOM killer would
    // Slurm's linuxproc tracking loses the orphaned command; a real cluster's cgroup tracking would end it.
    after(() => { try { process.kill(command, 'SIGKILL'); } catch { /* gone */ } });
    const outcome = await run.finished;
    assert.equal(outcome.status, 'FAILED');
    assert.match(outcome.error ?? '', new RegExp(`Slurm job ${run.job.slurmJob} ended as [A-Z_]+ before the runner recorded`));
  });

  it('a gres the cluster does not have is refused at submit with Slurm\'s reason, and no local run is left', async () => {
    const ws = gitProject({ 'train.py': 'print(1)\n' }, yaml());
    await assert.rejects(startRemoteRun({ layout: ws, target: target({ gpus: '1' }), command: 'python3', args: ['train.py'] }),
      /sbatch failed on target "cluster": .*(gres|generic resource)/i);
    assert.deepEqual(fs.existsSync(ws.runsDir) ? fs.readdirSync(ws.runsDir) : [], []);
  });
});
