import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands';
import { RequestMessage } from '../../src/core/mlflow/request';
import { cliPath, endpointWithRun, mlops, tmpWorkspace, writeRun } from './helpers';

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

  it('answers usage mistakes with one line and where the usage is, exit code 2; no arguments print the usage', () => {
    const ws = tmpWorkspace();
    for (const [args, hint] of [
      [['run', 'python3'], 'mlops run --help'], [['runs', 'show'], 'mlops runs show --help'], [['frobnicate'], 'mlops --help'],
      [['runs', 'list', '--bogus'], 'mlops runs list --help'], [['runs'], 'mlops runs --help'], [['models', 'frob'], 'mlops models --help'],
    ] as [string[], string][]) {
      const r = mlops(ws.root, ...args);
      assert.equal(r.code, 2, `mlops ${args.join(' ')}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, `mlops ${args.join(' ')}: one line, then the hint, not the whole help:\n${r.stderr}`);
      assert.match(lines[0], /^mlops: \S/);
      assert.equal(lines[1], `Run "${hint}" for usage.`);
      assert.equal(r.stdout, '');
    }
    const none = mlops(ws.root);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^Usage:/m);
    const unknown = mlops(ws.root, 'runs', 'show', 'feedbeef');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No run has the id "feedbeef"/);
  });

  it('a mistyped command leaves no .mlops/ in a folder that had none, and removes nothing from one that has', () => {
    const ws = tmpWorkspace();
    const bare = path.join(ws.root, 'no-workspace-here');
    fs.mkdirSync(bare);
    const mistakes = [
      ['snapshot', '--bogus'], ['models', 'register', 'x'], ['models', 'alias'], ['reproduce'], ['evaluate', '--bogus'],
      ['validate', '--bogus'], ['monitor', 'run', '--bogus'], ['report', '--bogus'], ['reindex', '--bogus'], ['audit', 'verify', 'extra'],
    ];
    for (const args of mistakes) {
      const r = mlops(bare, ...args);
      assert.equal(r.code, 2, `mlops ${args.join(' ')}: ${r.stderr}`);
      assert.deepEqual(fs.readdirSync(bare), [], `mlops ${args.join(' ')} left ${fs.readdirSync(bare).join(', ')} behind`);
    }
    assert.match(mlops(bare, 'reindex', '--bogus').stderr, /"reindex" takes no arguments \(got "--bogus"\)/);
    // Where a workspace exists, a mistake keeps what it holds.
    const runId = writeRun(ws, []);
    for (const args of mistakes) assert.equal(mlops(ws.root, ...args).code, 2, `mlops ${args.join(' ')}`);
    assert.deepEqual(JSON.parse(mlops(ws.root, 'runs', 'list', '--json').stdout).map((r: { id: string }) => r.id), [runId]);
  });

  it('mlops <command> --help prints that command\'s usage for every command in the table, and a group\'s', () => {
    const ws = tmpWorkspace();
    const forms = COMMANDS.map((c) => [...c.name.split(' '), '--help']);
    forms.push(['help', 'runs', 'list'], ['models', 'register', 'x.onnx', '-h']);
    for (const args of forms) {
      const command = COMMANDS.find((c) => c.name === args.filter((a) => a !== 'help').slice(0, c.name.split(' ').length).join(' '))!;
      const r = mlops(ws.root, ...args);
      assert.equal(r.code, 0, `mlops ${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stdout.startsWith(`Usage: mlops ${command.name}`), `mlops ${args.join(' ')}:\n${r.stdout}`);
      assert.ok(r.stdout.includes(command.summary));
    }
    const group = mlops(ws.root, 'snapshots', '--help');
    assert.equal(group.code, 0);
    for (const sub of ['list', 'show', 'diff', 'restore', 'tag', 'push', 'fetch']) assert.match(group.stdout, new RegExp(`^Usage: mlops snapshots ${sub}`, 'm'));
    const run = mlops(ws.root, 'run', '--', 'python3', '-c', 'import sys; print("args", sys.argv[1:])', '--help');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /args \['--help'\]/, '--help after "--" belongs to the command that run starts');
  });

  it('arguments that do not fit a command answer with that command\'s usage line, the one its --help shows', () => {
    const ws = tmpWorkspace();
    const cases: [string[], string][] = [
      [['data', 'check'], ''], [['models', 'card', 'm'], ''], [['snapshots', 'diff', 'a'], ''], [['validate'], ''], [['models', 'promote', 'm'], ''],
      [['reproduce'], ''], [['report'], ''], [['monitor', 'status', 'x'], ''], [['evaluate', 'm:1'], ''],
      [['runs', 'show'], 'runs show needs exactly one run id. '], [['targets', 'test'], 'targets test needs one target name. '], [['import-mlflow'], 'import-mlflow needs the mlruns folder. '],
    ];
    for (const [args, why] of cases) {
      const command = COMMANDS.find((c) => c.name === args.slice(0, c.name.split(' ').length).join(' '))!;
      const r = mlops(ws.root, ...args);
      assert.equal(r.code, 2, `mlops ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.split('\n')[0], `mlops: ${why}Usage: mlops ${command.name} ${command.args}`, `mlops ${args.join(' ')}`);
      assert.ok(mlops(ws.root, ...command.name.split(' '), '--help').stdout.startsWith(`Usage: mlops ${command.name} ${command.args}\n`));
    }
    assert.deepEqual(JSON.parse(mlops(ws.root, 'reproduce', '--json').stderr), { error: `Usage: mlops reproduce ${COMMANDS.find((c) => c.name === 'reproduce')!.args}` });
  });

  it('with --json, errors are {"error": …} on stderr with the same exit codes', () => {
    const ws = tmpWorkspace();
    const usage = mlops(ws.root, 'runs', 'list', '--json', '--bogus');
    assert.equal(usage.code, 2);
    assert.deepEqual(JSON.parse(usage.stderr), { error: "Unknown option '--bogus'" });
    assert.equal(usage.stdout, '');
    const missing = mlops(ws.root, 'runs', 'show', 'feedbeef', '--json');
    assert.equal(missing.code, 2);
    assert.match(JSON.parse(missing.stderr).error, /No run has the id "feedbeef"/);
    const failed = mlops(ws.root, 'runs', 'list', '--experiment', 'NoSuch', '--json');
    assert.equal(failed.code, 1);
    assert.match(JSON.parse(failed.stderr).error, /No experiment is named "NoSuch"/);
    // Commands without JSON output of their own take --json too: their errors come as JSON.
    const serve = mlops(ws.root, 'serve', '--json');
    assert.equal(serve.code, 2);
    assert.match(JSON.parse(serve.stderr).error, /"serve" takes one model/);
    const exported = mlops(ws.root, 'export', 'docker', 'nosuch', '--json');
    assert.equal(exported.code, 1);
    assert.match(JSON.parse(exported.stderr).error, /No deployment is named "nosuch"/);
    const run = mlops(ws.root, 'run', '--json', '--', 'python3', '-c', 'import sys; print(sys.argv[1:])', '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\['--json'\]/, '--json after "--" belongs to the command that run starts');
  });

  it('runs list --experiment names an experiment that does not exist', () => {
    const ws = tmpWorkspace();
    writeRun(ws, []);
    const r = mlops(ws.root, 'runs', 'list', '--experiment', 'NoSuch');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trimEnd().split('\n').pop(), 'mlops: No experiment is named "NoSuch"; the experiments are: Default.');
    assert.equal(r.stdout, '');
  });

  it('runs list --filter (MLflow search syntax), --columns, --sort and --limit', () => {
    const ws = tmpWorkspace();
    const ids = [['0.1', 0.5], ['0.3', 0.9], ['0.01', 0.7]].map(([lr, acc], i) => writeRun(ws, [
      { type: 'param', key: 'lr', value: lr as string },
      { type: 'tag', key: 'stage', value: i === 2 ? 'prod' : 'dev' },
      { type: 'metric', key: 'acc', value: acc as number, step: 0 },
    ]));
    const list = (...args: string[]) => {
      const r = mlops(ws.root, 'runs', 'list', '--json', ...args);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { id: string; columns?: Record<string, unknown> }[];
    };
    const idsOf = (runs: { id: string }[]) => runs.map((r) => r.id);
    assert.deepEqual(idsOf(list('--filter', 'metrics.acc > 0.6')).sort(), [ids[1], ids[2]].sort());
    assert.deepEqual(idsOf(list('--filter', "params.lr = '0.1' or tags.stage = 'prod'")).sort(), [ids[0], ids[2]].sort());
    assert.deepEqual(idsOf(list('--sort', 'metrics.acc DESC')), [ids[1], ids[2], ids[0]]);
    assert.deepEqual(idsOf(list('--sort', 'params.lr', '--limit', '2')), [ids[2], ids[0]], 'params sort as strings, as in MLflow');
    assert.deepEqual(idsOf(list('--limit', '1')).length, 1);
    assert.deepEqual(list('--sort', 'metrics.acc', '--columns', 'acc,params.lr', '--columns', 'tags.stage').map((r) => r.columns),
      [{ acc: 0.5, 'params.lr': '0.1', 'tags.stage': 'dev' }, { acc: 0.7, 'params.lr': '0.01', 'tags.stage': 'prod' }, { acc: 0.9, 'params.lr': '0.3', 'tags.stage': 'dev' }]);
    const text = mlops(ws.root, 'runs', 'list', '--columns', 'acc,lr,missing', '--sort', 'metrics.acc DESC', '--filter', 'metrics.acc >= 0.7');
    assert.equal(text.code, 0, text.stderr);
    const [header, first, second, extra] = text.stdout.trimEnd().split('\n');
    assert.match(header, /STATUS +STARTED +DURATION +ACC +LR +MISSING$/);
    assert.match(first, new RegExp(`^${ids[1].slice(0, 12)} .* 0\\.9 +0\\.3 +-$`));
    assert.match(second, new RegExp(`^${ids[2].slice(0, 12)} .* 0\\.7 +0\\.01 +-$`));
    assert.equal(extra, undefined);
    const none = mlops(ws.root, 'runs', 'list', '--filter', 'metrics.acc > 2');
    assert.equal(none.stdout, 'No runs match.\n');
    for (const [args, message] of [
      [['--filter', 'metrics.acc >> 1'], /^mlops: --filter: Invalid filter/], [['--sort', 'metrics.acc SIDEWAYS'], /^mlops: --sort: Invalid order_by clause/],
      [['--limit', '0'], /^mlops: --limit needs a whole number above 0/],
    ] as [string[], RegExp][]) {
      const bad = mlops(ws.root, 'runs', 'list', ...args);
      assert.equal(bad.code, 2, args.join(' '));
      assert.match(bad.stderr, message);
    }
  });

  it('runs show shows the datasets an MLflow client logged with mlflow.log_input', async () => {
    const { tracking, ep, runId, layout } = await endpointWithRun();
    ep.backend.logInputs(new RequestMessage({
      run_id: runId,
      datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'mnist-train', digest: 'abc123', source_type: 'local', source: '{"uri": "data/"}' } }],
    }));
    await ep.stop();
    tracking.close();
    const text = mlops(layout.root, 'runs', 'show', runId);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Datasets \(logged with mlflow\.log_input\)\n  mnist-train \(train\)  digest abc123  local \{"uri": "data\/"\}$/m);
    const json = JSON.parse(mlops(layout.root, 'runs', 'show', runId, '--json').stdout);
    assert.deepEqual(json.datasets, [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'mnist-train', digest: 'abc123', source_type: 'local', source: '{"uri": "data/"}' } }]);
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
