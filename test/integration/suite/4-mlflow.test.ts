// The MLflow-compatible endpoint in the real extension host: it starts on activation, the
// connection command hands out its URI and token, runs logged through MLflow's REST API show
// up in the Runs view like any other, and "Import MLflow Runs…" imports an mlruns/ folder.
import * as assert from 'assert';
import * as http from 'http';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../../src/extension/extension';
import type { RunsNode } from '../../../src/extension/runs/runsTree';
import { findRevealedRun, skipUnlessUi } from './uiBridge';

const EXTENSION_ID = 'mlops-workbench.mlops-workbench';
const REPO = path.resolve(__dirname, '..', '..', '..', '..');

async function api(): Promise<MlopsApi> {
  const ext = vscode.extensions.getExtension<MlopsApi | undefined>(EXTENSION_ID)!;
  const exported = await ext.activate();
  assert.ok(exported, 'the extension exposes its API when a folder is open');
  await exported.service.ready;
  return exported;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Connection { uri: string; token: string }

/** One call the way the MLflow Python client makes it. */
function call(c: Connection, method: string, urlPath: string, body?: unknown, raw?: string): Promise<{ status: number; json: any }> {
  const url = new URL(c.uri);
  const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: Number(url.port), method, path: urlPath,
      headers: { Authorization: `Bearer ${c.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function children(mlops: MlopsApi, node?: RunsNode): RunsNode[] {
  return mlops.tree.getChildren(node);
}

describe('MLflow endpoint', () => {
  let connection: Connection;
  let runId: string;

  it('starts on activation; "Copy MLflow Connection" copies the URI and token as export lines', async () => {
    await api();
    const returned = await vscode.commands.executeCommand<Connection | undefined>('mlops.copyMlflowConnection');
    assert.ok(returned, 'the endpoint is running');
    connection = returned;
    assert.match(connection.uri, /^http:\/\/127\.0\.0\.1:\d+$/);
    const copied = await vscode.env.clipboard.readText();
    assert.strictEqual(copied, `export MLFLOW_TRACKING_URI=${connection.uri}\nexport MLFLOW_TRACKING_TOKEN=${connection.token}\n`);
    const refused = await call({ uri: connection.uri, token: 'wrong' }, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0');
    assert.strictEqual(refused.status, 401);
    assert.strictEqual(refused.json.error_code, 'UNAUTHENTICATED');
  });

  it('a run logged through the MLflow API appears in the Runs view under its experiment', async () => {
    const mlops = await api();
    const experiment = await call(connection, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'mlflow-it' });
    assert.strictEqual(experiment.status, 200, JSON.stringify(experiment.json));
    const experimentId = experiment.json.experiment_id as string;
    const created = await call(connection, 'POST', '/api/2.0/mlflow/runs/create', {
      experiment_id: experimentId, start_time: Date.now(), run_name: 'mlflow-run',
      tags: [{ key: 'mlflow.user', value: 'tester' }, { key: 'mlflow.source.name', value: 'train_mlflow.py' }],
    });
    assert.strictEqual(created.status, 200, JSON.stringify(created.json));
    runId = created.json.run.info.run_id;
    assert.strictEqual((await call(connection, 'POST', '/api/2.0/mlflow/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.05' })).status, 200);
    const metrics = Array.from({ length: 20 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step }));
    assert.strictEqual((await call(connection, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics })).status, 200);
    // A large batch is read on the endpoint's worker thread (dist/batchWorker.js): it must start in
    // the extension host. The spy sees the thread's result reach the backend.
    const backend = (mlops.mlflow as unknown as { backendInstance: { logPlainBatch: (...args: unknown[]) => unknown } }).backendInstance;
    const logPlainBatch = backend.logPlainBatch.bind(backend);
    let threaded = 0;
    backend.logPlainBatch = (...args: unknown[]) => {
      threaded++;
      return logPlainBatch(...args);
    };
    const many = Array.from({ length: 1000 }, (_, step) => ({ key: 'accuracy', value: step / 1000, timestamp: Date.now(), step }));
    assert.strictEqual((await call(connection, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics: many })).status, 200);
    backend.logPlainBatch = logPlainBatch;
    assert.strictEqual(threaded, 1, 'the worker thread read the large batch');
    const upload = await call(connection, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model.txt`, undefined, 'weights');
    assert.strictEqual(upload.status, 200);
    const ended = await call(connection, 'POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
    assert.strictEqual(ended.json.run_info.status, 'FINISHED');

    const runNode = await waitFor('the run in the Runs view', () => {
      const exp = children(mlops).find((n) => n.kind === 'experiment' && n.name === 'mlflow-it');
      return exp ? children(mlops, exp).find((n) => n.kind === 'run' && n.run.id === runId) : undefined;
    });
    assert.strictEqual(mlops.tree.getTreeItem(runNode).label, 'mlflow-run');
    const run = mlops.service.current!.getRun(runId)!;
    assert.strictEqual(run.source, 'mlflow');
    assert.strictEqual(run.status, 'FINISHED');
    assert.strictEqual(run.params.lr, '0.05');
    assert.strictEqual(run.metrics.find((m) => m.key === 'loss')?.count, 20);
    assert.strictEqual(run.metrics.find((m) => m.key === 'accuracy')?.count, 1000);
    assert.deepStrictEqual(run.artifacts.map((a) => a.path), ['model.txt']);
    assert.strictEqual(run.capture.user, 'tester');
  });

  it('shows the MLflow run as a row of the Runs view in the workbench', async function () {
    skipUnlessUi(this);
    const rows = await findRevealedRun(runId, ['mlflow-run'], 'runs-view-mlflow.png');
    assert.ok(rows.ok, `rows: ${JSON.stringify(rows.rowTexts)} ${rows.error ?? ''}`);
  });

  it('"Import MLflow Runs…" imports an mlruns/ folder, and a second import adds nothing', async () => {
    const mlops = await api();
    const mlruns = vscode.Uri.file(path.join(REPO, 'test', 'fixtures', 'mlruns'));
    const first = await vscode.commands.executeCommand<{ imported: number; skipped: number }>('mlops.importMlflowRuns', mlruns);
    assert.deepStrictEqual(first, { imported: 3, skipped: 0 });
    const iris = await waitFor('the imported experiment in the Runs view', () => children(mlops).find((n) => n.kind === 'experiment' && n.name === 'iris'));
    assert.ok(children(mlops, iris).some((n) => n.kind === 'run' && n.run.name === 'svm-rbf'));
    const second = await vscode.commands.executeCommand<{ imported: number; skipped: number }>('mlops.importMlflowRuns', mlruns);
    assert.deepStrictEqual(second, { imported: 0, skipped: 3 });
    const searched = await call(connection, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: ['0'], filter: "params.lr = '0.01'" });
    assert.deepStrictEqual(searched.json.runs.map((r: any) => r.info.run_name), ['bright-owl-12']);
  });
});
