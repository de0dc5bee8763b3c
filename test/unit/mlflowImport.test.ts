// Importing an MLflow file store (test/fixtures/mlruns, MLflow's real layout) into a
// workspace, idempotently; and the headless commands `mlops server` and `mlops import-mlflow`.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { importMlruns, MlflowBackend } from '../../src/core/mlflow';
import { RequestMessage } from '../../src/core/mlflow/request';
import { runDetailJson } from '../../src/core/tracking/runJson';
import { Tracking } from '../../src/core/tracking/tracking';
import { fixtures, repoRoot, tmpWorkspace } from './helpers';

const MLRUNS = path.join(fixtures, 'mlruns');
const R1 = '6f0c3c3e5d0b4b7e9a1f2d3c4b5a6978';
const R2 = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';
const R3 = 'deadbeefcafe4bad8badf00d12345678';

function snapshotLogs(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of fs.readdirSync(path.join(root, '.mlops', 'runs'))) out[id] = fs.readFileSync(path.join(root, '.mlops', 'runs', id, 'events.jsonl'), 'utf8');
  return out;
}

describe('import of an MLflow file store (mlruns/)', () => {
  it('turns every MLflow run into an ordinary run with its params, metrics, tags, artifacts and status', async () => {
    const layout = tmpWorkspace();
    const tracking = await Tracking.open(layout.root);
    const backend = new MlflowBackend(tracking);
    const progress: string[] = [];
    const result = await importMlruns(tracking, backend.experiments, MLRUNS, { onProgress: (p) => progress.push(`${p.done}/${p.total}`) });
    assert.deepEqual(result.imported.sort(), [R2, R1, R3].sort());
    assert.deepEqual(result.skipped, []);
    assert.equal(result.experiments, 1, '"iris" is new; "Default" already existed');
    assert.equal(progress[progress.length - 1], '3/3');

    const r1 = tracking.getRun(R1)!;
    assert.equal(r1.name, 'bright-owl-12');
    assert.equal(r1.source, 'mlflow');
    assert.equal(r1.experiment, 'Default');
    assert.equal(r1.status, 'FINISHED');
    assert.equal(r1.start_time, 1764322800000);
    assert.equal(r1.end_time, 1764322812000);
    assert.deepEqual(r1.params, { epochs: '30', lr: '0.01', 'model/depth': '4' });
    const loss = r1.metrics.find((m) => m.key === 'loss')!;
    assert.deepEqual([loss.latest, loss.step, loss.count], [0.25, 2, 3]);
    const accuracy = r1.metrics.find((m) => m.key === 'accuracy')!;
    assert.deepEqual([accuracy.latest, accuracy.step, accuracy.count], [0.875, 0, 2], 'old two-column metric lines have step 0');
    assert.equal(r1.tags.stage, 'baseline');
    assert.equal(r1.capture.user, 'ana');
    assert.deepEqual(r1.capture.argv, ['train.py']);
    assert.equal(r1.capture.git?.commit, '3f1c0ffee00d1e5b2a6f9c7d8e4b1a2c3d4e5f60');
    assert.deepEqual(r1.artifacts.map((a) => [a.path, a.size]), [['model.json', 24], ['plots/loss.csv', 32]]);
    assert.equal(fs.readFileSync(path.join(layout.artifactsDir(R1), 'plots', 'loss.csv'), 'utf8'), 'step,loss\n0,0.693\n1,0.41\n2,0.25\n');
    assert.deepEqual([...tracking.metricHistory(R1, 'loss').values], [0.693, 0.41, 0.25]);

    const r2 = tracking.getRun(R2)!;
    assert.equal(r2.experiment, 'iris');
    assert.equal(r2.status, 'FAILED');
    assert.deepEqual([...tracking.metricHistory(R2, 'val_score').values], [NaN, 1.7976931348623157e308, -1.7976931348623157e308, 0.97], 'nan kept; ±inf clamped');
    assert.equal(fs.readFileSync(path.join(layout.artifactsDir(R2), 'notes.txt'), 'utf8'), 'support vectors\n');

    const r3 = tracking.getRun(R3)!;
    assert.equal(r3.status, 'RUNNING');
    assert.equal(tracking.query('SELECT lifecycle FROM runs WHERE id = ?', [R3])[0].lifecycle, 'deleted');

    const iris = backend.experiments.byName('iris')!;
    assert.equal(iris.id, '1', 'MLflow\'s experiment id is kept when free');
    assert.equal(iris.tags.get('team'), 'tabular');
    assert.equal(iris.creationTime, 1764322900000);

    // Through the endpoint, the imported runs look like MLflow's own.
    const got = backend.getRun(new RequestMessage({ run_id: R2 })).run;
    assert.equal(got.info.experiment_id, '1');
    assert.equal(got.info.user_id, 'ben');
    assert.equal(got.info.artifact_uri, `mlflow-artifacts:/1/${R2}/artifacts`);
    assert.deepEqual(got.data.metrics, [{ key: 'val_score', value: 0.97, timestamp: 1764323004000, step: 3 }]);
    const search = backend.searchRuns(new RequestMessage({ experiment_ids: ['1'], run_view_type: 'ALL', filter: "params.kernel = 'rbf'" }));
    assert.deepEqual(search.runs.map((r) => r.info.run_id), [R2]);
    assert.deepEqual(backend.searchRuns(new RequestMessage({ experiment_ids: ['1'] })).runs.map((r) => r.info.run_id), [R2], 'the deleted run stays deleted');
    tracking.close();
  });

  it('is idempotent: importing again adds nothing and changes no log; a removed run comes back', async () => {
    const layout = tmpWorkspace();
    const tracking = await Tracking.open(layout.root);
    const backend = new MlflowBackend(tracking);
    await importMlruns(tracking, backend.experiments, MLRUNS);
    const logs = snapshotLogs(layout.root);
    const details = [R1, R2, R3].map((id) => runDetailJson(tracking.getRun(id)!));
    const experimentsLog = fs.readFileSync(backend.experiments.file, 'utf8');
    const again = await importMlruns(tracking, backend.experiments, MLRUNS);
    assert.deepEqual(again.imported, []);
    assert.deepEqual(again.skipped.sort(), [R1, R2, R3].sort());
    assert.equal(again.experiments, 0);
    assert.deepEqual(snapshotLogs(layout.root), logs);
    assert.equal(fs.readFileSync(backend.experiments.file, 'utf8'), experimentsLog, 'no experiment event repeated');
    assert.equal(tracking.listRuns({ includeDeleted: true }).length, 3);

    tracking.deleteRun(R2);
    const third = await importMlruns(tracking, backend.experiments, MLRUNS);
    assert.deepEqual(third.imported, [R2]);
    assert.deepEqual([R1, R2, R3].map((id) => runDetailJson(tracking.getRun(id)!)), details);
    assert.ok(!fs.existsSync(path.join(layout.dir, 'tmp', 'mlflow-import')), 'no work folder left');
    tracking.close();
  });

  it('refuses a folder that is not an MLflow store, with a message naming it', async () => {
    const layout = tmpWorkspace();
    const tracking = await Tracking.open(layout.root);
    const backend = new MlflowBackend(tracking);
    await assert.rejects(importMlruns(tracking, backend.experiments, path.join(layout.root, 'missing')), /is not a folder; pass the mlruns\/ folder/);
    await assert.rejects(importMlruns(tracking, backend.experiments, fixtures), /holds no MLflow experiments/);
    tracking.close();
  });
});

/** Runs a CLI command function from the compiled out/ tree in its own process (main.ts dispatch aside). */
function cliScript(module: string, fn: string, root: string, args: string[]): string {
  const file = path.join(repoRoot, 'out', 'src', 'cli', `${module}.js`);
  return `require(${JSON.stringify(file)}).${fn}(${JSON.stringify(root)}, ${JSON.stringify(args)}).then((c) => { process.exitCode = c; }, (e) => { console.error(e.message); process.exitCode = 1; });`;
}

describe('mlops server and mlops import-mlflow', () => {
  it('server prints the two export lines, serves, and stops cleanly on SIGTERM with the index saved', async () => {
    const layout = tmpWorkspace();
    const child = spawn(process.execPath, ['-e', cliScript('server', 'serverCommand', layout.root, ['--port', '0'])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no export lines: ${stdout} ${stderr}`)), 20_000);
      child.stdout.on('data', (d) => {
        stdout += d;
        const got = stdout.split('\n').filter(Boolean);
        if (got.length >= 2) {
          clearTimeout(timer);
          resolve(got);
        }
      });
    });
    assert.match(lines[0], /^export MLFLOW_TRACKING_URI=http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lines[1], /^export MLFLOW_TRACKING_TOKEN=[A-Za-z0-9_-]{20,}$/);
    const uri = lines[0].split('=')[1];
    const token = lines[1].split('=')[1];
    const res = await fetch(`${uri}/api/2.0/mlflow/runs/create`, {
      method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ experiment_id: '0', run_name: 'headless' }),
    });
    assert.equal(res.status, 200);
    const runId = ((await res.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0, stderr);
    assert.equal(stdout.trim().split('\n').length, 2, 'stdout holds exactly the two lines');
    assert.match(stderr, /stopped; tracking index saved/);
    assert.ok(!fs.existsSync(layout.trackingLock), 'the lock is released');
    const t = await Tracking.open(layout.root);
    assert.equal(t.getRun(runId)?.name, 'headless');
    t.close();
  });

  it('server refuses a bad port with a usage error, and a busy port with a clear message', async () => {
    const layout = tmpWorkspace();
    const bad = spawnSync(process.execPath, ['-e', cliScript('server', 'serverCommand', layout.root, ['--port', 'eighty'])], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--port needs a port number from 0 to 65535/);
    const http = await import('node:http');
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const busy = spawnSync(process.execPath, ['-e', cliScript('server', 'serverCommand', layout.root, ['--port', String(port)])], { encoding: 'utf8' });
      assert.equal(busy.status, 1);
      assert.match(busy.stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is in use`));
    } finally {
      blocker.close();
    }
  });

  it('import-mlflow imports, then skips what is already there', () => {
    const layout = tmpWorkspace();
    const run = () => spawnSync(process.execPath, ['-e', cliScript('importMlflow', 'importMlflowCommand', layout.root, [MLRUNS])], { encoding: 'utf8' });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^Imported 3 runs from .*mlruns; created 1 experiment\.$/m);
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /^Imported 0 runs from .*mlruns \(3 already imported, skipped\)\.$/m);
  });
});
