import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { Deployments, deploymentSpec } from '../../src/core/serving/deployments';
import { readNormalisation, type Processing } from '../../src/core/serving/processing';
import { newAdminToken } from '../../src/core/serving/adminToken';
import { ModelServer, type ServerConfig } from '../../src/core/serving/server';
import { fixtures, tmpWorkspace } from './helpers';

export const MODEL = path.join(fixtures, 'models', 'breast_cancer_mlp.onnx');
export const ALL_TYPES = path.join(fixtures, 'models', 'all_types.onnx');
export const NORM = readNormalisation(path.join(fixtures, 'models', 'breast_cancer_norm.csv'));

/** The breast-cancer rows (30 raw features each) and their targets. */
export function breastCancer(): { rows: number[][]; targets: number[] } {
  const lines = fs.readFileSync(path.join(fixtures, 'models', 'breast_cancer.csv'), 'utf8').trim().split('\n').slice(1);
  const parsed = lines.map((l) => l.split(',').map(Number));
  return { rows: parsed.map((r) => r.slice(0, 30)), targets: parsed.map((r) => r[30]) };
}

/** As the server does it: the FP32 value the client sent, standardised in double precision. */
export function standardise(rows: number[][]): number[][] {
  return rows.map((r) => r.map((v, i) => (Math.fround(v) - NORM.mean[i]) / NORM.std[i]));
}

/** onnxruntime's own answer, in this process, for rows already standardised. */
export async function ortAnswer(file: string, feeds: Record<string, { type: string; data: unknown; dims: number[] }>): Promise<Record<string, { dims: readonly number[]; data: unknown }>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new ort.Tensor(f.type, f.data, f.dims)])));
  await session.release();
  return out;
}

export async function fixtureProbabilities(rows: number[][]): Promise<number[][]> {
  const out = await ortAnswer(MODEL, { input: { type: 'float32', data: Float32Array.from(standardise(rows).flat()), dims: [rows.length, 30] } });
  const flat = Array.from(out.probabilities.data as Float32Array);
  return rows.map((_, i) => flat.slice(i * 2, i * 2 + 2));
}

/** A model server in this process over the fixture model, stopped when the test file ends. */
export async function startServer(patch: Partial<ServerConfig> = {}, file = MODEL): Promise<ModelServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-serving-'));
  const config: ServerConfig = {
    deployment: 'cancer', host: '127.0.0.1', port: 0, adminToken: newAdminToken(), maxBodyBytes: 1024 * 1024, threads: 1,
    batching: { maxBatch: 1, maxDelayMs: 2 }, processing: {},
    predictionLog: { dir, sampleRate: 1, maxFileBytes: 1024 * 1024, keepFiles: 2 },
    routes: { variants: [{ variant: 'primary', model: 'cancer', version: '1', file, weight: 1 }] },
    ...patch,
  };
  const server = await ModelServer.start(config);
  after(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return server;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

/**
 * A workspace holding the fixture model twice (cancer.onnx, challenger.onnx: same weights),
 * with `name` deployed from cancer.onnx in its own server process; stopped when the test file ends.
 */
export async function deployedFixture(name: string, processing: Processing = { standardize: NORM }) {
  let stopAll = async () => {};
  after(() => stopAll()); // registered first: runs before the workspace is removed
  const ws = tmpWorkspace();
  fs.copyFileSync(MODEL, path.join(ws.root, 'cancer.onnx'));
  fs.copyFileSync(MODEL, path.join(ws.root, 'challenger.onnx'));
  const deployments = await Deployments.open(ws.root);
  stopAll = () => deployments.stopAll();
  const running = await deployments.deploy(deploymentSpec(name, 'cancer.onnx', { processing }));
  return { ws, deployments, url: running.status.url!, infer: `${running.status.url}/v2/models/cancer/infer` };
}
