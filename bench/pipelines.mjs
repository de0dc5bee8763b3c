#!/usr/bin/env node
// Benchmark of pipelines and model evaluation (issue 12): `node bench/pipelines.mjs [--status-only]`.
//
//   status of a pipeline over 10,000 unchanged dep files              goal ≤ 0.3 s
//   evaluation of 1M rows × 30 features with the fixture model        goal ≤ 3 s
//   permutation importance of 30 features on 100k rows                goal ≤ 10 s
//
// The status figure is printed beside `git status` over the same files (a fresh git repository
// holding them, committed) in the same run: both only stat unchanged files. Its files are made
// an hour old first, as unchanged files are; files written within the same clock tick as they
// are hashed are hashed again, as git's index does ("racily clean").
// Each evaluation figure is printed beside onnxruntime's bare inference time over the same rows in the
// same run (one session, 4,096-row batches, nothing else) and the ratio between them.
// The rows are the real breast-cancer rows (test/fixtures/datasets) resampled with seeded
// jitter; the model is test/fixtures/models/breast_cancer_mlp.onnx with its standardisation
// (test/fixtures/gpu-host/norm.csv). It imports the compiled engine from out/ (tsc output);
// when that is missing it runs `npm run build` first.
// A missed goal prints MISSED; the exit code is 0 all the same.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as os from 'node:os';
import { engine, ensureBuilt, repo } from './lib/engine.mjs';
import { median, now, ratio, s } from './lib/stats.mjs';

const require = createRequire(import.meta.url);
ensureBuilt(['src/core/validation/evaluate.js', 'src/core/pipelines/run.js']);
// ---------------------------------------------------------------- pipeline status

/** A workspace whose one stage depends on 10,000 files (100 folders of 100), run once so everything is recorded. */
async function statusWorkspace() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-pipeline-'));
  const hourAgo = new Date(Date.now() - 3600_000);
  for (let d = 0; d < 100; d++) {
    const dir = path.join(root, 'data', `part-${d}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f++) {
      const file = path.join(dir, `row-${f}.csv`);
      fs.writeFileSync(file, `id,value\n${d * 100 + f},${Math.sin(d * 100 + f)}\n`);
      fs.utimesSync(file, hourAgo, hourAgo);
    }
  }
  fs.writeFileSync(path.join(root, 'mlops.yaml'), 'stages:\n  count:\n    cmd: ls -R data | wc -l > count.txt\n    deps: [data/]\n    outs: [count.txt]\n');
  const { runPipeline } = engine('src/core/pipelines/run.js');
  const record = await runPipeline(root);
  if (record.status !== 'succeeded') throw new Error(`the benchmark pipeline failed: ${JSON.stringify(record.stages)}`);
  return root;
}

async function statusFigure() {
  const root = await statusWorkspace();
  try {
    const { pipelineStatus } = engine('src/core/pipelines/status.js');
    const git = (...args) => spawnSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false', ...args], { cwd: root, encoding: 'utf8' });
    git('init', '-q');
    git('add', 'data', 'mlops.yaml');
    git('commit', '-qm', 'data');
    const times = [];
    const gitTimes = [];
    for (let i = 0; i < 5; i++) {
      let t = now();
      const status = await pipelineStatus(root);
      times.push(now() - t);
      if (status.stages[0].state !== 'up-to-date') throw new Error(`expected the stage up to date, got ${status.stages[0].state}: ${status.stages[0].reasons.join('; ')}`);
      t = now();
      const g = git('status', '--porcelain', 'data');
      gitTimes.push(now() - t);
      if (g.status !== 0 || g.stdout.trim()) throw new Error(`git status: ${g.stderr || g.stdout}`);
    }
    const value = median(times);
    const baseline = median(gitTimes);
    console.log(`${'pipeline status, 10,000 unchanged dep files (median of 5)'.padEnd(58)} ${s(value).padStart(8)}   git status:       ${s(baseline).padStart(8)}   ${ratio(value, baseline).padStart(7)}   goal ≤ ${s(300)}  ${value <= 300 ? 'ok' : 'MISSED'}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 5 }); // git may still be tidying .git
  }
}

await statusFigure();
if (process.argv.includes('--status-only')) process.exit(0);

// ---------------------------------------------------------------- evaluation

const { evaluateModel } = engine('src/core/validation/evaluate.js');
const { OnnxModel } = engine('src/core/validation/onnxModel.js');
const { readStandardisation } = engine('src/core/validation/evaluationData.js');
const { seededRandom } = engine('src/core/validation/random.js');
const ort = require('onnxruntime-node');

const fixtures = path.join(repo, 'test', 'fixtures');
const MODEL = path.join(fixtures, 'models', 'breast_cancer_mlp.onnx');
const standardise = readStandardisation(path.join(fixtures, 'gpu-host', 'norm.csv'), 30);
const source = fs.readFileSync(path.join(fixtures, 'datasets', 'breast_cancer.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const FEATURES = Array.from({ length: 30 }, (_, i) => `f${i}`);

/** `rows` rows drawn from the real data with ±2% jitter, a group column of three sites. */
function data(rows) {
  const random = seededRandom(rows);
  const x = new Float32Array(rows * 30);
  const label = new Float64Array(rows);
  const groups = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const src = source[Math.floor(random() * source.length)];
    for (let j = 0; j < 30; j++) x[r * 30 + j] = src[j] * (0.98 + 0.04 * random());
    label[r] = src[30];
    groups[r] = ['north', 'south', 'east'][r % 3];
  }
  return { features: FEATURES, x, label, groups, rows };
}

/** onnxruntime alone: standardised float32 input already built, 4,096-row batches, `passes` times over. */
async function bare(d, passes) {
  const session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 1 });
  const input = new Float32Array(d.x.length);
  for (let i = 0; i < input.length; i++) input[i] = (d.x[i] - standardise.mean[i % 30]) / standardise.std[i % 30];
  const t = now();
  for (let p = 0; p < passes; p++) {
    for (let start = 0; start < d.rows; start += 4096) {
      const n = Math.min(4096, d.rows - start);
      await session.run({ input: new ort.Tensor('float32', input.subarray(start * 30, (start + n) * 30), [n, 30]) });
    }
  }
  const elapsed = now() - t;
  await session.release();
  return elapsed;
}

function line(what, value, baseline, goal) {
  const verdict = value <= goal ? 'ok' : 'MISSED';
  console.log(`${what.padEnd(58)} ${s(value).padStart(8)}   bare onnxruntime: ${s(baseline).padStart(8)}   ${ratio(value, baseline).padStart(7)}   goal ≤ ${s(goal)}  ${verdict}`);
}

const model = await OnnxModel.load(MODEL);
await evaluateModel(model, data(5000), { standardise, noise: 0, repeats: 0 }); // warm-up

const million = data(1_000_000);
const bareMillion = await bare(million, 1);
let t = now();
const e = await evaluateModel(model, million, { standardise, noise: 0, repeats: 0 });
line('evaluate 1M × 30: metrics, confusion, 3 slices + gaps', now() - t, bareMillion, 3000);
t = now();
await evaluateModel(model, million, { standardise, noise: 0.1, repeats: 0 });
line('  … plus robustness under noise (a second inference pass)', now() - t, 2 * bareMillion, 3000);
console.log(`  (accuracy ${e.metrics.accuracy.toFixed(4)}, ROC AUC ${e.metrics.roc_auc.toFixed(4)})`);

const hundredK = data(100_000);
const bareImportance = await bare(hundredK, 31);
t = now();
await evaluateModel(model, hundredK, { standardise, noise: 0, repeats: 1 });
line('permutation importance, 30 features × 100k rows (1 shuffle)', now() - t, bareImportance, 10_000);
await model.release();
