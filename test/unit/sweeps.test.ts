// Hyperparameter sweeps: the search space and its errors, TPE against random
// search on a known function, the early-stopping rules, and real sweeps of
// Python trials through the launcher (parallel trials, a weak one stopped early,
// a sweep resumed after it was cut short), and `mlops sweep` in a terminal.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readSweeps } from '../../src/core/pipelines/sweeps/config';
import { EarlyStopper, type Progress } from '../../src/core/pipelines/sweeps/earlyStopping';
import { runSweep, type SweepEvent } from '../../src/core/pipelines/sweeps/runSweep';
import { gridPoints, parseSpace, sampleRandom, SpaceError, type Params } from '../../src/core/pipelines/sweeps/space';
import { appendSweepRecord, readSweepState } from '../../src/core/pipelines/sweeps/sweepLog';
import { suggestTpe, type Observation } from '../../src/core/pipelines/sweeps/tpe';
import { newRunId } from '../../src/core/tracking/eventWriter';
import { appendEvents } from '../../src/core/tracking/eventWriter';
import { Tracking } from '../../src/core/tracking/tracking';
import { ConfigError } from '../../src/core/workspace/config';
import { mlops, rng, tmpWorkspace } from './helpers';

// A trial: accuracy climbs towards a ceiling set by how far lr is from 0.3.
const TRIAL = `import argparse, time, math
import mlops_workbench as mlops
p = argparse.ArgumentParser()
p.add_argument('--lr', type=float)
p.add_argument('--steps', type=int, default=16)
a = p.parse_args()
ceiling = 1 - (a.lr - 0.3) ** 2
for step in range(a.steps):
    mlops.log_metric('val_accuracy', ceiling * (1 - math.exp(-(step + 1) / 3)), step=step)
    time.sleep(0.12)
`;

function project(sweeps: string) {
  const layout = tmpWorkspace();
  fs.writeFileSync(path.join(layout.root, 'train.py'), TRIAL);
  fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), `objectives:\n  val_accuracy: {goal: maximize}\nsweeps:\n${sweeps}`);
  return layout;
}

describe('sweeps', () => {
  it('read the search space, and name what is wrong in it', () => {
    const space = parseSpace({ lr: { loguniform: [1e-4, 0.1] }, batch: [16, 32], drop: { uniform: [0, 0.5], steps: 3 }, layers: { int: [1, 2] } }, 'mlops.yaml: sweep "s"');
    assert.deepEqual(space.map((d) => d.kind), ['loguniform', 'choice', 'uniform', 'int']);
    const grid = gridPoints(space);
    assert.equal(grid.length, 5 * 2 * 3 * 2, 'every combination');
    assert.deepEqual(grid[0], { lr: 1e-4, batch: 16, drop: 0, layers: 1 });
    const random = rng(3);
    for (let i = 0; i < 200; i++) {
      const p = sampleRandom(space, random) as { lr: number; layers: number };
      assert.ok(p.lr >= 1e-4 && p.lr <= 0.1 && [1, 2].includes(p.layers));
    }
    assert.throws(() => parseSpace({ lr: { loguniform: [0, 1] } }, 'w'), (e: Error) => e instanceof SpaceError && /low > 0/.test(e.message));
    assert.throws(() => parseSpace({ lr: { uniform: [1, 0] } }, 'w'), /low < high/);
    assert.throws(() => parseSpace({ lr: { normal: [0, 1] } }, 'w'), /exactly one of choice, uniform, loguniform or int/);
  });

  it('mlops.yaml errors name the sweep, the key and the fix', () => {
    const layout = project('  s:\n    cmd: python3 train.py\n    budget: 2\n    space: {lr: {uniform: [0, 1]}}\n    early_stopping: {rule: sometimes}\n');
    assert.throws(() => readSweeps(layout.root), (e: Error) => e instanceof ConfigError && /sweep "s": early_stopping needs rule: median or rule: asha/.test(e.message));
    fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), 'sweeps:\n  s:\n    cmd: python3 train.py\n    budget: 3\n    space: {lr: {uniform: [0, 1]}}\n');
    assert.throws(() => readSweeps(layout.root), /name the metric to optimise with objective/);
    fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), 'sweeps:\n  s:\n    cmd: python3 train.py\n    budjet: 3\n    space: {lr: {uniform: [0, 1]}}\n');
    assert.throws(() => readSweeps(layout.root), /unknown key "budjet"/);
  });

  it('TPE beats random search\'s median best on a known 2-D function over 10 seeded repeats', () => {
    // A narrow valley off-centre (minimum 0 at (0.7, -1.3)) in [-5, 5]².
    const f = (p: Params) => ((p.x as number) - 0.7) ** 2 + 4 * ((p.y as number) + 1.3) ** 2;
    const space = parseSpace({ x: { uniform: [-5, 5] }, y: { uniform: [-5, 5] } }, 'test');
    const bestOf = (suggest: (obs: Observation[], random: () => number) => Params, seed: number) => {
      const random = rng(seed);
      const obs: Observation[] = [];
      for (let i = 0; i < 40; i++) {
        const params = suggest(obs, random);
        obs.push({ params, loss: f(params) });
      }
      return Math.min(...obs.map((o) => o.loss));
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const seeds = Array.from({ length: 10 }, (_, i) => 100 + i);
    const tpe = median(seeds.map((s) => bestOf((obs, r) => suggestTpe(space, obs, r), s)));
    const random = median(seeds.map((s) => bestOf((_obs, r) => sampleRandom(space, r), s)));
    assert.ok(tpe < random, `TPE median best ${tpe} should beat random search's ${random}`);
  });

  it('the median rule stops a trial below the others\' running averages; ASHA keeps the best 1/eta at a rung', () => {
    const curve = (level: number, n: number): Progress[] => Array.from({ length: n }, (_, step) => ({ step, loss: -level * (1 - Math.exp(-(step + 1) / 3)) }));
    const curves = new Map([['a', curve(0.9, 10)], ['b', curve(0.85, 10)], ['c', curve(0.88, 10)], ['weak', curve(0.4, 6)], ['fine', curve(0.95, 6)]]);
    const median = new EarlyStopper({ rule: 'median', minSteps: 5, minTrials: 3 });
    assert.match(median.judge('weak', curves) ?? '', /median stopping rule at step 5/);
    assert.equal(median.judge('fine', curves), undefined);
    assert.equal(new EarlyStopper({ rule: 'median', minSteps: 8, minTrials: 3 }).judge('weak', curves), undefined, 'not before min_steps');
    const asha = new EarlyStopper({ rule: 'asha', minSteps: 2, eta: 3 });
    assert.equal(asha.judge('fine', curves), undefined);
    assert.match(asha.judge('weak', curves) ?? '', /ASHA at rung 2 steps: not in the best 1 of 5/);
  });

  it('runs 12 trials 3 at a time, stops a weak one early, and the best has the best value', async () => {
    const layout = project('  lr-search:\n    cmd: python3 train.py\n    method: random\n    budget: 12\n    parallel: 3\n    seed: 4\n    early_stopping: {rule: median, min_steps: 5, min_trials: 2}\n    space:\n      lr: {uniform: [0, 1]}\n');
    const [sweep] = readSweeps(layout.root);
    let running = 0, most = 0;
    const events: SweepEvent[] = [];
    const result = await runSweep({ layout, sweep, cwd: layout.root, onEvent: (e) => {
      events.push(e);
      if (e.type === 'trial-started') most = Math.max(most, ++running);
      if (e.type === 'trial-ended') running--;
    } });
    assert.equal(result.reason, 'budget reached');
    assert.equal(result.trials.length, 12);
    assert.equal(most, 3, 'three trials at a time, never more');
    const stopped = result.trials.filter((t) => t.status === 'STOPPED');
    assert.ok(stopped.length >= 1, `a weak trial is stopped early: ${result.trials.map((t) => `${t.params.lr}:${t.status}`).join(', ')}`);
    assert.ok(result.trials.filter((t) => t.status === 'FINISHED').length >= 1);
    const best = result.best!;
    assert.equal(best.value, Math.max(...result.trials.map((t) => t.value ?? -Infinity)));
    // Each trial is an ordinary run: its params, the sweep's tags, and the stop reason.
    const tracking = await Tracking.open(layout.root);
    try {
      const run = tracking.getRun(stopped[0].runId)!;
      assert.equal(run.status, 'KILLED');
      assert.equal(run.experiment, 'lr-search');
      assert.equal(run.params.lr, String(stopped[0].params.lr));
      assert.match(run.tags['mlops.sweep.stopped'], /median stopping rule/);
      assert.equal(run.tags['mlops.sweep'], 'lr-search');
    } finally {
      tracking.close();
    }
    const state = readSweepState(layout, 'lr-search');
    assert.deepEqual(state.trials.map((t) => t.status), result.trials.map((t) => t.status), 'the log says what happened');
  });

  it('resumes a sweep cut short: finished trials count, an interrupted one runs again with its params', async () => {
    const layout = project('  s:\n    cmd: python3 train.py --steps 3\n    method: random\n    budget: 3\n    parallel: 2\n    space:\n      lr: {uniform: [0, 1]}\n');
    // An earlier start: trial 1 finished, trial 2 was running when the sweep's process died.
    const done = newRunId(), cut = newRunId();
    for (const [id, end] of [[done, true], [cut, false]] as const) {
      fs.mkdirSync(layout.runDir(id), { recursive: true });
      appendEvents(layout.eventsFile(id), [
        { type: 'run_start', schema: 1, run_id: id, name: `s-${id.slice(0, 3)}`, experiment: 's', source: 'command' },
        { type: 'metric', key: 'val_accuracy', value: 0.5, step: 0 },
        ...(end ? [{ type: 'run_end' as const, status: 'FINISHED' as const, exit_code: 0 }] : []),
      ]);
    }
    appendSweepRecord(layout, 's', { type: 'sweep_start', time: 1, pid: 999_999 });
    appendSweepRecord(layout, 's', { type: 'trial', time: 2, trial: 1, run_id: done, params: { lr: 0.1 } });
    appendSweepRecord(layout, 's', { type: 'trial', time: 3, trial: 2, run_id: cut, params: { lr: 0.25 } });
    const events: SweepEvent[] = [];
    const result = await runSweep({ layout, sweep: readSweeps(layout.root)[0], cwd: layout.root, onEvent: (e) => events.push(e) });
    assert.deepEqual(events[0], { type: 'resumed', finished: 1, interrupted: 1 });
    assert.deepEqual(result.trials.map((t) => t.status), ['FINISHED', 'LOST', 'FINISHED', 'FINISHED']);
    assert.equal(result.trials[0].value, 0.5, 'the finished trial keeps its value');
    assert.equal(result.trials[2].params.lr, 0.25, 'the interrupted trial runs again first, with its params');
    assert.equal(result.trials.filter((t) => t.status !== 'LOST').length, 3, 'the budget counts trials with a result');
    assert.match(fs.readFileSync(layout.eventsFile(cut), 'utf8'), /"type":"run_end"[^\n]*"status":"KILLED"/, 'the interrupted run is ended, not left RUNNING');
  });

  it('mlops sweep run / status --json / stop in a terminal', () => {
    const layout = project('  grid:\n    cmd: python3 train.py --steps 2\n    method: grid\n    parallel: 2\n    space:\n      lr: [0.1, 0.3]\n');
    const run = mlops(layout.root, 'sweep', 'run', 'grid');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Best: trial \d \(lr=0\.3\) val_accuracy=/);
    assert.match(run.stderr, /trial 1 started \(lr=0\.1\)/);
    const status = mlops(layout.root, 'sweep', 'status', 'grid', '--json');
    const json = JSON.parse(status.stdout);
    assert.equal(json.running, false);
    assert.equal(json.trials.length, 2);
    assert.equal(json.best.params.lr, 0.3);
    const stop = mlops(layout.root, 'sweep', 'stop', 'grid');
    assert.match(stop.stdout, /is not running/);
    const missing = mlops(layout.root, 'sweep', 'run', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No sweep "nope": mlops.yaml declares grid/);
  });
});
