import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { writeModelCard } from '../../src/core/governance/modelCard';
import { Project } from '../../src/core/project';
import { classificationMetrics, regressionMetrics } from '../../src/core/validation/metrics';
import { seededGaussian } from '../../src/core/validation/random';
import { cliPath, fixtures, tmpWorkspace } from './helpers';
import { breastCancerRows, FEATURES, holdoutIndices, python, writeCsv } from './validationHelpers';

const MODEL = path.join(fixtures, 'models', 'breast_cancer_mlp.onnx');
const NORM = path.join(fixtures, 'gpu-host', 'norm.csv');
const REQUEST = { data: 'holdout.csv', label: 'target', group: 'site', standardiseWith: 'norm.csv' };

/** A workspace with the fixture model registered as "cancer" v1 and its real holdout (scikit-learn's test split) with a site column. */
async function workspace(gates?: string[]) {
  const ws = tmpWorkspace();
  const rows = breastCancerRows();
  const holdout = holdoutIndices().map((i, k) => [...rows[i].slice(0, 30), k % 3 === 0 ? 'north' : 'south', rows[i][30]]);
  writeCsv(path.join(ws.root, 'holdout.csv'), [...FEATURES, 'site', 'target'], holdout);
  fs.copyFileSync(NORM, path.join(ws.root, 'norm.csv'));
  fs.copyFileSync(MODEL, path.join(ws.root, 'model.onnx'));
  if (gates) fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), `gates:\n${gates.map((g) => `  - ${g}`).join('\n')}\n`);
  const project = await Project.open(ws.root);
  await project.registerModel('cancer', 'model.onnx');
  return { ws, project, holdout };
}

function cli(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
}

/** The fixture model's class probabilities straight from onnxruntime (features read as float32, its input type, then standardised as its README says), rows normalised. */
async function referenceProbabilities(holdout: (string | number)[][]): Promise<number[][]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node');
  const [mean, std] = fs.readFileSync(NORM, 'utf8').trim().split('\n').map((l) => l.split(',').map(Number));
  const x = Float32Array.from(holdout.flatMap((r) => r.slice(0, 30).map((v, j) => (Math.fround(Number(v)) - mean[j]) / std[j])));
  const session = await ort.InferenceSession.create(MODEL);
  const out = (await session.run({ input: new ort.Tensor('float32', x, [holdout.length, 30]) })).probabilities.data as Float32Array;
  await session.release();
  return holdout.map((_, r) => {
    const total = out[2 * r] + out[2 * r + 1];
    return [out[2 * r] / total, out[2 * r + 1] / total];
  });
}

describe('model evaluation', () => {
  it('metrics of the fixture model on its holdout equal scikit-learn\'s on the same predictions (1e-9), slices and fairness gaps included', async () => {
    const { project, holdout } = await workspace();
    try {
      const { runId, evaluation: e } = await project.validation.evaluate('cancer:1', undefined, { ...REQUEST, repeats: 1 });
      const probabilities = await referenceProbabilities(holdout);
      const sk = python<Record<string, number> & { cm: number[][]; groups: Record<string, number[]> }>(`
import numpy as np
from sklearn import metrics as m
y = np.array(data['y']); p = np.array(data['p']); pred = p.argmax(axis=1); g = np.array(data['g'])
out = dict(accuracy=m.accuracy_score(y, pred), precision=m.precision_score(y, pred), recall=m.recall_score(y, pred), f1=m.f1_score(y, pred),
           roc_auc=m.roc_auc_score(y, p[:, 1]), log_loss=m.log_loss(y, p), cm=m.confusion_matrix(y, pred).tolist())
out['groups'] = {v: [float((pred[g == v] == 1).mean()), float(pred[(g == v) & (y == 1)].mean()), float(pred[(g == v) & (y == 0)].mean()), m.accuracy_score(y[g == v], pred[g == v])] for v in ('north', 'south')}
print(json.dumps(out))
`, { y: holdout.map((r) => r[31]), p: probabilities, g: holdout.map((r) => r[30]) });
      for (const key of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss']) {
        assert.ok(Math.abs(e.metrics[key] - sk[key]) <= 1e-9, `${key}: ${e.metrics[key]} vs scikit-learn ${sk[key]}`);
      }
      assert.ok(e.metrics.accuracy > 0.9, 'the fixture model is about 96% accurate on its holdout');
      assert.deepEqual(e.confusionMatrix, sk.cm);
      const [north, south] = [sk.groups.north, sk.groups.south];
      assert.ok(Math.abs(e.metrics.demographic_parity_difference - Math.abs(north[0] - south[0])) <= 1e-9);
      assert.ok(Math.abs(e.metrics.equalized_odds_difference - Math.max(Math.abs(north[1] - south[1]), Math.abs(north[2] - south[2]))) <= 1e-9);
      assert.equal(e.slices!.groups.find((g) => g.value === 'north')!.metrics.accuracy, north[3]);
      assert.equal(e.importance!.length, 30);
      assert.ok(e.importance![0].importance >= e.importance![29].importance);
      assert.ok(e.robustness && Number.isFinite(e.robustness.drop));
      assert.ok(e.latencyMsPerRow > 0);
      // A tracked run linked to the version, shown in the model card.
      const run = project.tracking.getRun(runId)!;
      assert.equal(run.experiment, 'Evaluations');
      assert.equal(run.tags['mlops.evaluation.model'], 'cancer');
      assert.equal(run.tags['mlops.evaluation.version'], '1');
      const card = fs.readFileSync(await writeModelCard(project.layout, project.registry, project.tracking, project.snapshots, 'cancer', 1), 'utf8');
      assert.match(card, /## Evaluation/);
      assert.match(card, new RegExp(`\\| accuracy \\| ${e.metrics.accuracy.toPrecision(4)} \\|`));
    } finally {
      project.close();
    }
  });

  it('the same noise seed gives the same robustness figure; a different scale a different one', async () => {
    const { project } = await workspace();
    try {
      const run = (noise: number) => project.validation.evaluate('cancer:1', undefined, { ...REQUEST, noise, repeats: 0 }).then((r) => r.evaluation.robustness!.noisy);
      const [a, b, c] = [await run(0.5), await run(0.5), await run(2)];
      assert.equal(a, b);
      assert.notEqual(a, c);
    } finally {
      project.close();
    }
  });

  it('classification metrics with tied scores and three classes (macro averages) equal scikit-learn\'s', () => {
    const random = seededGaussian(5);
    const y2 = Int32Array.from({ length: 400 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    // Scores rounded to one decimal: many ties, which the ROC area must count half.
    const p2 = new Float64Array(800);
    y2.forEach((y, r) => { const s = Math.min(1, Math.max(0, Math.round((0.5 + 0.25 * (y - 0.5) + 0.2 * random()) * 10) / 10)); p2[2 * r] = 1 - s; p2[2 * r + 1] = s; });
    const y3 = Int32Array.from({ length: 300 }, (_, i) => i % 3);
    const p3 = new Float64Array(900);
    y3.forEach((y, r) => { const raw = [0, 1, 2].map((c) => Math.exp((c === y ? 1 : 0) + random())); const t = raw[0] + raw[1] + raw[2]; raw.forEach((v, c) => { p3[3 * r + c] = v / t; }); });
    const ours = [classificationMetrics(y2, p2, 2), classificationMetrics(y3, p3, 3)];
    const sk = python<Record<string, number>[]>(`
import numpy as np
from sklearn import metrics as m
out = []
for y, p, avg in ((data[0], data[1], 'binary'), (data[2], data[3], 'macro')):
    y = np.array(y); p = np.array(p).reshape(len(y), -1); pred = p.argmax(axis=1)
    r = dict(accuracy=m.accuracy_score(y, pred), precision=m.precision_score(y, pred, average=avg), recall=m.recall_score(y, pred, average=avg), f1=m.f1_score(y, pred, average=avg), log_loss=m.log_loss(y, p))
    if avg == 'binary': r['roc_auc'] = m.roc_auc_score(y, p[:, 1])
    out.append(r)
print(json.dumps(out))
`, [[...y2], [...p2], [...y3], [...p3]]);
    ours.forEach((o, i) => {
      for (const [key, value] of Object.entries(sk[i])) assert.ok(Math.abs((o as unknown as Record<string, number>)[key] - value) <= 1e-9, `${key}: ${(o as unknown as Record<string, number>)[key]} vs scikit-learn ${value}`);
    });
  });

  it('regression metrics equal scikit-learn\'s', () => {
    const g = seededGaussian(3);
    const y = Float64Array.from({ length: 500 }, () => 10 * g());
    const p = y.map((v) => v + g());
    const ours = regressionMetrics(y, p);
    const sk = python<number[]>('from sklearn import metrics as m\nimport numpy as np\ny, p = data\nprint(json.dumps([float(np.sqrt(m.mean_squared_error(y, p))), m.mean_absolute_error(y, p), m.r2_score(y, p)]))', [[...y], [...p]]);
    [ours.rmse, ours.mae, ours.r2].forEach((v, i) => assert.ok(Math.abs(v - sk[i]) <= 1e-9, `${v} vs ${sk[i]}`));
  });

  it('bad input is a clear error: wrong feature count, missing label column, non-numeric feature', async () => {
    const { ws, project } = await workspace();
    try {
      await assert.rejects(project.validation.evaluate('cancer:1', undefined, { ...REQUEST, standardiseWith: undefined, features: FEATURES.slice(0, 29) }), /takes 30 features; the data has 29/);
      await assert.rejects(project.validation.evaluate('cancer:1', undefined, { ...REQUEST, label: 'diagnosis' }), /no label column "diagnosis"/);
      fs.writeFileSync(path.join(ws.root, 'holdout.csv'), fs.readFileSync(path.join(ws.root, 'holdout.csv'), 'utf8').replace(/\n[^,]+,/, '\nabc,'));
      await assert.rejects(project.validation.evaluate('cancer:1', undefined, REQUEST), /row 1: feature "f00" is "abc", not a number/);
    } finally {
      project.close();
    }
  });
});

describe('gates and promotion', () => {
  before(() => assert.ok(fs.existsSync(cliPath), 'run npm run build first: the CLI tests use dist/cli.js'));
  const args = ['--data', 'holdout.csv', '--label', 'target', '--group', 'site', '--standardise', 'norm.csv', '--repeats', '0'];

  it('mlops validate prints each gate ✓/✗ and exits 1 when one fails', async () => {
    const { ws, project } = await workspace(['accuracy >= 0.9', 'roc_auc > 0.95', 'log_loss <= 0.5']);
    project.close();
    const pass = cli(ws.root, 'validate', 'cancer:1', ...args);
    assert.equal(pass.status, 0, pass.stderr);
    assert.equal((pass.stdout.match(/✓/g) ?? []).length, 3, pass.stdout);
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'objectives:\n  accuracy: {goal: maximize, target: 0.995}\ngates:\n  - accuracy meets objective\n  - roc_auc > 0.95\n');
    const fail = cli(ws.root, 'validate', 'cancer:1');
    assert.equal(fail.status, 1, fail.stdout + fail.stderr);
    assert.match(fail.stdout, /✗\s+accuracy meets objective/);
    assert.match(fail.stdout, /✓\s+roc_auc > 0.95/);
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'gates:\n  - accuracy is great\n');
    const bad = cli(ws.root, 'validate', 'cancer:1');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /"accuracy is great" is not a gate/);
  });

  it('promotion moves champion only through the gates; --force needs a reason and is audited', async () => {
    const { ws, project } = await workspace(['accuracy >= 0.9', 'accuracy >= champion + 0.01']);
    await project.registerModel('cancer', 'model.onnx');
    project.close();
    const first = cli(ws.root, 'models', 'promote', 'cancer', '1', '--to', 'champion', ...args);
    assert.equal(first.status, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /no champion yet/);
    // Version 2 is the same model: it does not beat the champion by 0.01.
    const refused = cli(ws.root, 'models', 'promote', 'cancer', '2', '--to', 'champion', ...args);
    assert.equal(refused.status, 1);
    assert.match(refused.stdout, /✗\s+accuracy >= champion \+ 0\.01/);
    assert.match(refused.stderr, /"champion" was not moved/);
    const noReason = cli(ws.root, 'models', 'promote', 'cancer', '2', '--force');
    assert.equal(noReason.status, 1);
    assert.match(noReason.stderr, /needs a reason/);
    let reopened = await Project.open(ws.root);
    assert.equal(reopened.registry.model('cancer').aliases.champion, 1);
    reopened.close();
    const forced = cli(ws.root, 'models', 'promote', 'cancer', '2', '--force', '--reason', 'hotfix approved by QA');
    assert.equal(forced.status, 0, forced.stderr);
    reopened = await Project.open(ws.root);
    try {
      assert.equal(reopened.registry.model('cancer').aliases.champion, 2);
      const audit = fs.readFileSync(path.join(ws.dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const promotions = audit.filter((a) => a.action === 'promote');
      assert.equal(promotions.length, 2);
      assert.equal(promotions[1].details.reason, 'hotfix approved by QA');
      assert.deepEqual(promotions[1].details.failed, ['accuracy >= champion + 0.01']);
    } finally {
      reopened.close();
    }
  });
});
