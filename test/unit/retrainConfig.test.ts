// retrain: in mlops.yaml, for one model or several: the loop of a deployment is the entry for the
// model it serves, and a mistake names the entry and the key.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readRetrainConfigs, retrainConfigFor } from '../../src/core/pipelines/retrainConfig';
import { tmpWorkspace } from './helpers';

const ENTRY = (model: string, extra = '') => `  - model: ${model}\n    cmd: python3 train_${model}.py\n    output: ${model}.onnx\n    holdout: {data: ${model}_holdout.csv, label: y}\n${extra}`;

function workspace(yaml: string): string {
  const { root } = tmpWorkspace();
  fs.writeFileSync(path.join(root, 'mlops.yaml'), yaml);
  return root;
}

describe('retrain: in mlops.yaml', () => {
  it('takes one mapping, as before', () => {
    const root = workspace('retrain:\n  model: cancer\n  stage: train\n  output: model.onnx\n  holdout: {data: holdout.csv, label: target}\n');
    assert.deepEqual(readRetrainConfigs(root).map((c) => [c.model, c.train.kind]), [['cancer', 'stage']]);
    assert.equal(retrainConfigFor(root, 'cancer@champion').output, 'model.onnx');
  });

  it('takes a list, one entry per model; a deployment gets the entry of the model it serves', () => {
    const root = workspace(`retrain:\n${ENTRY('cancer')}${ENTRY('churn', '    rollout: {mode: ab, weight: 0.2}\n')}`);
    assert.deepEqual(readRetrainConfigs(root).map((c) => c.model), ['cancer', 'churn']);
    const churn = retrainConfigFor(root, 'churn:3');
    assert.deepEqual([churn.model, churn.output, churn.rollout.mode, churn.rollout.weight], ['churn', 'churn.onnx', 'ab', 0.2]);
    assert.equal(retrainConfigFor(root, 'cancer@champion').holdout.data, 'cancer_holdout.csv');
  });

  it('says which models it covers when a deployment serves another, and what to do for a served file', () => {
    const root = workspace(`retrain:\n${ENTRY('cancer')}${ENTRY('churn')}`);
    assert.throws(() => retrainConfigFor(root, 'fraud@champion'), /retrain: in mlops\.yaml covers cancer, churn, not fraud@champion.*add an entry with model: fraud/);
    assert.throws(() => retrainConfigFor(root, '/models/cancer.onnx'), /serve a registered model \(mlops models register\) to retrain it/);
  });

  it('names the entry and the key of a mistake, and refuses two entries for one model', () => {
    const broken = workspace(`retrain:\n${ENTRY('cancer')}  - model: churn\n    cmd: python3 train.py\n    holdout: {data: h.csv, label: y}\n`);
    assert.throws(() => readRetrainConfigs(broken), /mlops\.yaml: retrain\[2\]\.output is the model file training writes/);
    const twice = workspace(`retrain:\n${ENTRY('cancer')}${ENTRY('cancer')}`);
    assert.throws(() => readRetrainConfigs(twice), /retrain has two entries for model cancer; one loop per model/);
    const scalar = workspace('retrain:\n  - train the model\n');
    assert.throws(() => readRetrainConfigs(scalar), /retrain\[1\] must be a mapping/);
  });
});
