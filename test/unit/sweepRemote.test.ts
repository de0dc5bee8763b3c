// A sweep whose trials run on an ssh target (a real sshd on 127.0.0.1): each trial is a remote
// run that carries the sweep's tags and its params, so it groups under the sweep like a local one.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readSweeps } from '../../src/core/pipelines/sweeps/config';
import { runSweep } from '../../src/core/pipelines/sweeps/runSweep';
import { Tracking } from '../../src/core/tracking/tracking';
import { mlops } from './helpers';
import { gitProject } from './remoteHelpers';
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
      `targets:\n  ${t.name}:\n    type: ssh\n    host: ${t.host}\n    config: ${t.config}\n    workdir: ${t.workdir}`,
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
});
