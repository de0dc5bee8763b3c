import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cliPath, mlops, tmpWorkspace } from './helpers';

describe('the mlops CLI', () => {
  it('runs a command as a tracked run and exits with its exit code', () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'job.py'), [
      'import os, sys, mlops_workbench as mlops',
      'mlops.log_param("epochs", 2)',
      'mlops.log_metric("loss", 0.5, step=0)',
      'mlops.log_metric("loss", 0.25, step=1)',
      'print("run id", os.environ["MLOPS_RUN_ID"])',
      'sys.exit(4)',
    ].join('\n'));
    const r = mlops(ws.root, 'run', '--name', 'exit-four', '--experiment', 'cli', '--', 'python3', 'job.py');
    assert.equal(r.code, 4, r.stderr);
    const runId = /run id ([0-9a-f]{32})/.exec(r.stdout)![1];
    const list = JSON.parse(mlops(ws.root, 'runs', 'list', '--json').stdout);
    assert.deepEqual(list.map((x: { id: string }) => x.id), [runId]);
    assert.deepEqual(Object.keys(list[0]).sort(), ['end_time', 'exit_code', 'experiment', 'id', 'name', 'source', 'start_time', 'status']);
    assert.equal(list[0].name, 'exit-four');
    assert.equal(list[0].experiment, 'cli');
    assert.equal(list[0].status, 'FAILED');
    const show = JSON.parse(mlops(ws.root, 'runs', 'show', runId.slice(0, 8), '--json').stdout);
    assert.equal(show.id, runId);
    assert.deepEqual(show.params, { epochs: '2' });
    assert.deepEqual(show.metrics, { loss: { latest: 0.25, step: 1, min: 0.25, max: 0.5, count: 2 } });
    assert.deepEqual(show.artifacts.map((a: { path: string }) => a.path), ['output.log']);
    assert.equal(show.capture.argv.join(' '), 'python3 job.py');
    assert.equal(show.exit_code, 4);
  });

  it('answers usage mistakes with a message and exit code 2', () => {
    const ws = tmpWorkspace();
    for (const args of [['run', 'python3'], ['runs', 'show'], ['frobnicate'], ['runs', 'list', '--bogus'], []]) {
      const r = mlops(ws.root, ...args);
      assert.equal(r.code, 2, `mlops ${args.join(' ')}`);
      assert.match(r.stderr + r.stdout, /Usage:/);
    }
    const unknown = mlops(ws.root, 'runs', 'show', 'feedbeef');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No run has the id "feedbeef"/);
  });

  it('loses no flushed metric when the script is killed with SIGKILL, and marks the run KILLED', async () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'doomed.py'), [
      'import os, time, mlops_workbench as mlops',
      'for i in range(100): mlops.log_metric("loss", 1.0 / (i + 1), step=i)',
      'mlops.flush()',
      'print("pid", os.getpid(), flush=True)',
      'time.sleep(300)',
    ].join('\n'));
    const child = spawn(process.execPath, [cliPath, 'run', '--', 'python3', 'doomed.py'], { cwd: ws.root });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    while (!/pid (\d+)/.test(out)) await new Promise((r) => setTimeout(r, 50));
    process.kill(Number(/pid (\d+)/.exec(out)![1]), 'SIGKILL');
    assert.equal(await exited, 137);
    const [run] = JSON.parse(mlops(ws.root, 'runs', 'list', '--json').stdout);
    const show = JSON.parse(mlops(ws.root, 'runs', 'show', run.id, '--json').stdout);
    assert.equal(show.metrics.loss.count, 100);
    assert.equal(show.status, 'KILLED');
  });

  it('reindex after deleting tracking.db gives the same runs show --json', () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'job.py'), [
      'import mlops_workbench as mlops',
      'mlops.log_params({"lr": 0.01, "layers": 3})',
      'for i in range(50): mlops.log_metrics({"loss": 1 / (i + 1), "acc": i / 50}, step=i)',
      'mlops.log_metric("weird", float("nan"))',
      'mlops.set_tag("stage", "dev")',
    ].join('\n'));
    assert.equal(mlops(ws.root, 'run', '--', 'python3', 'job.py').code, 0);
    const [run] = JSON.parse(mlops(ws.root, 'runs', 'list', '--json').stdout);
    const before = mlops(ws.root, 'runs', 'show', run.id, '--json').stdout;
    assert.match(before, /"latest": "NaN"/);
    fs.rmSync(ws.trackingDb);
    const re = mlops(ws.root, 'reindex');
    assert.equal(re.code, 0, re.stderr);
    assert.match(re.stdout, /Reindexed 1 runs/);
    assert.equal(mlops(ws.root, 'runs', 'show', run.id, '--json').stdout, before);
  });
});
