import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { startMlflowServer } from '../../src/core/mlflow';
import { RequestMessage } from '../../src/core/mlflow/request';
import type { NewRunEvent } from '../../src/core/tracking/events';
import { appendEvents, newRunId } from '../../src/core/tracking/eventWriter';
import { Tracking } from '../../src/core/tracking/tracking';
import { MlopsLayout } from '../../src/core/workspace/layout';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const fixtures = path.join(repoRoot, 'test', 'fixtures');
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');

/** A fresh workspace folder, removed when the test file ends. */
export function tmpWorkspace(): MlopsLayout {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-test-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const layout = new MlopsLayout(dir);
  layout.ensure();
  return layout;
}

/** Writes a run's log the way the launcher and client would; returns its id. */
export function writeRun(layout: MlopsLayout, events: NewRunEvent[], runId = newRunId()): string {
  fs.mkdirSync(layout.runDir(runId), { recursive: true });
  appendEvents(layout.eventsFile(runId), [
    { type: 'run_start', schema: 1, run_id: runId, name: `run-${runId.slice(0, 4)}`, experiment: 'Default', source: 'python', time: 1_700_000_000_000 },
    ...events,
  ]);
  return runId;
}

export function metricEvents(key: string, count: number, start = 0): NewRunEvent[] {
  const out: NewRunEvent[] = [];
  for (let i = start; i < start + count; i++) out.push({ type: 'metric', key, value: 1 / (i + 1), step: i, time: 1_700_000_000_000 + i });
  return out;
}

/** An MLflow endpoint over a fresh workspace with one run, and a way to post log-batch bodies (JSON text) to it. */
export async function endpointWithRun() {
  const layout = tmpWorkspace();
  const tracking = await Tracking.open(layout.root);
  const ep = await startMlflowServer(tracking, { indexDelayMs: 60_000 });
  const runId = ep.backend.createRun(new RequestMessage({ experiment_id: '0' })).run.info.run_id;
  const postBatch = (payload: string): Promise<Response> => fetch(`${ep.uri}/api/2.0/mlflow/runs/log-batch`, {
    method: 'POST', body: payload, headers: { Authorization: `Bearer ${ep.token}`, 'Content-Type': 'application/json' },
  });
  return { layout, tracking, ep, runId, postBatch };
}

/** mulberry32: small, seeded, good enough to pick cases (the engine's own seeded generator). */
export { seededRandom as rng } from '../../src/core/validation/random';
