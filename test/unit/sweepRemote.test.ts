// A sweep whose trials run on an ssh target (a real sshd on 127.0.0.1): each trial is a remote
// run that carries the sweep's tags and its params, so it groups under the sweep like a local one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRemoteJob, startRemoteRun } from '../../src/core/compute/remoteRun';
import { readSweeps } from '../../src/core/pipelines/sweeps/config';
import { runSweep, type SweepEvent } from '../../src/core/pipelines/sweeps/runSweep';
import { appendSweepRecord } from '../../src/core/pipelines/sweeps/sweepLog';
import { isProcessAlive } from '../../src/core/workspace/processes';
import { Tracking } from '../../src/core/tracking/tracking';
import { mlops } from './helpers';
import { gitProject, until } from './remoteHelpers';
import { startSshd, type TestSshd } from './sshd';

const TRIAL = `import argparse
import mlops_workbench as mlops
p = argparse.ArgumentParser()
p.add_argument('--lr', type=float)
a = p.parse_args()
for step in range(3):
    mlops.log_metric('val_accuracy', (1 - (a.lr - 0.3) ** 2) * (step + 1) / 3, step=step)
`;

describe('a sweep on a real sshd target', () => {
  let sshd: TestSshd;
  before(async () => { sshd = await startSshd(); });
  after(async () => { await sshd?.stop(); });

  it('runs each trial there as a remote run tagged with the sweep and given its params; the best is judged from what streamed back', async () => {
    const t = sshd.target();
    const layout = gitProject([
      `targets:\n${sshd.entry()}`,
      'objectives:\n  val_accuracy: {goal: maximize}',
      `sweeps:\n  lr-grid:\n    cmd: python3 train.py\n    method: grid\n    parallel: 2\n    target: ${t.name}\n    space:\n      lr: {choice: [0.1, 0.3]}`, '',
    ].join('\n'), { 'train.py': TRIAL });
    const [sweep] = readSweeps(layout.root);
    const result = await runSweep({ layout, sweep, cwd: layout.root });
    assert.equal(result.reason, 'budget reached');
    assert.deepEqual(result.trials.map((x) => [x.params.lr, x.status]).sort(), [[0.1, 'FINISHED'], [0.3, 'FINISHED']]);
    assert.equal(result.best?.params.lr, 0.3);
    assert.equal(result.best?.value, 1);

    const tracking = await Tracking.open(layout.root);
    try {
      for (const trial of result.trials) {
        const run = tracking.getRun(trial.runId)!;
        assert.equal(run.tags['mlops.target'], t.name, 'it ran on the target');
        assert.equal(run.tags['mlops.sweep'], 'lr-grid');
        assert.equal(run.tags['mlops.sweep.trial'], String(trial.trial));
        assert.equal(run.params.lr, String(trial.params.lr));
        assert.equal(run.experiment, 'lr-grid');
      }
    } finally {
      tracking.close();
    }
    // Grouped under the sweep where a user looks for them.
    const listed = mlops(layout.root, 'runs', 'list', '--filter', "tags.mlops.sweep = 'lr-grid'", '--columns', 'params.lr', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { columns: Record<string, string> }[]).map((r) => r.columns['params.lr']).sort(), ['0.1', '0.3']);
    const status = mlops(layout.root, 'sweep', 'status', 'lr-grid');
    assert.match(status.stdout, /★/);
  });

  it('resuming a sweep whose process died ends the interrupted trial\'s job on the target, then runs it again', async () => {
    const t = sshd.target();
    const layout = gitProject([
      `targets:\n${sshd.entry()}`,
      'objectives:\n  val_accuracy: {goal: maximize}',
      `sweeps:\n  slow:\n    cmd: python3 slow.py\n    method: grid\n    target: ${t.name}\n    space:\n      lr: {choice: [0.2]}`, '',
    ].join('\n'), {});
    // The first start of the trial holds on; the one after the resume finishes (the marker is on this machine, as the host is).
    const marker = path.join(layout.root, 'first-start');
    fs.writeFileSync(path.join(layout.root, 'slow.py'), [
      'import os, time', 'import mlops_workbench as mlops',
      `if not os.path.exists(${JSON.stringify(marker)}):`, `    open(${JSON.stringify(marker)}, "w").close()`, '    time.sleep(600)',
      'mlops.log_metric("val_accuracy", 0.7, step=0)', '',
    ].join('\n'));
    // An earlier sweep process started trial 1 on the host, then died: its follower is gone, the job runs on.
    const first = await startRemoteRun({ layout, target: t, command: 'python3', args: ['slow.py', '--lr', '0.2'], name: 'slow-1', experiment: 'slow', tags: { 'mlops.sweep': 'slow', 'mlops.sweep.trial': '1' } });
    await until('the trial started on the host', () => fs.existsSync(marker));
    await first.detach();
    const { pid, dir } = readRemoteJob(layout, first.runId)!;
    assert.ok(isProcessAlive(pid!), 'the job outlived its follower');
    appendSweepRecord(layout, 'slow', { type: 'sweep_start', time: 1, pid: 999_999 });
    appendSweepRecord(layout, 'slow', { type: 'trial', time: 2, trial: 1, run_id: first.runId, params: { lr: 0.2 } });

    const events: SweepEvent[] = [];
    const result = await runSweep({ layout, sweep: readSweeps(layout.root)[0], cwd: layout.root, onEvent: (e) => events.push(e) });
    assert.deepEqual(events[0], { type: 'resumed', finished: 0, interrupted: 1 });
    assert.deepEqual(result.trials.map((x) => [x.params.lr, x.status]), [[0.2, 'LOST'], [0.2, 'FINISHED']]);
    assert.equal(result.best?.value, 0.7);
    await until('the interrupted job is gone from the host', () => !isProcessAlive(pid!));
    // Cancelled through the target (runner.py cancel: TERM, the runner records it), not killed as if it were a local process.
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'exit'), 'utf8')), { code: null, signal: 15 });
    const log = fs.readFileSync(layout.eventsFile(first.runId), 'utf8');
    assert.match(log, /"key":"mlops.sweep.interrupted","value":"the sweep stopped while this trial ran; it runs again"/);
    assert.match(log, /"type":"run_end"[^\n]*"status":"KILLED"/);
  });
});
