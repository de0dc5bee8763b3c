import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { repoRoot } from './helpers';

/** The schema exactly as the package publishes it (package.json's yamlValidation), with a plain validator. */
const schemaFile = path.join(repoRoot, 'schemas', 'mlops.schema.json');
const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
const errorsOf = (text: string) => (validate(parse(text)) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

const examples = fs.readdirSync(path.join(repoRoot, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === 'mlops.yaml');

test('package.json contributes the schema for mlops.yaml to YAML tooling', () => {
  const contributes = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).contributes;
  assert.deepEqual(contributes.yamlValidation, [{ fileMatch: 'mlops.yaml', url: './schemas/mlops.schema.json' }]);
});

test('every example mlops.yaml validates against the published schema', () => {
  assert.ok(examples.length >= 2, `examples found: ${examples.join(', ')}`);
  for (const file of examples) assert.deepEqual(errorsOf(fs.readFileSync(path.join(repoRoot, 'examples', file), 'utf8')), [], file);
});

test('the schema accepts what the config readers accept (targets of every type, objectives, gates, monitoring) and rejects wrong types', () => {
  const sound = `data: data/
models: [models/]
targets:
  gpu-box: {host: gpu-box, workdir: ~/runs}
  cluster: {type: slurm, partition: gpu, gpus: "a100:2", time: "2:00:00", cpus: 8, memory: 32G}
  k8s: {type: kubernetes, image: "python:3.12-slim", gpus: 1, cpus: 500m, namespace: ml}
objectives:
  accuracy: {goal: maximize, target: 0.95}
gates:
  - accuracy >= 0.9
monitoring:
  window: 10000
  drift_share: 0.5
  thresholds: {p99_ms: 200, error_rate: 0.01}
  column_tests: {age: psi, income: "ks:0.01"}
train:
  lr: 0.1
stages:
  train: {cmd: python3 train.py, deps: train.py, params: [train.lr], outs: [model.onnx]}
retrain: {stage: train}
sweeps:
  lr:
    cmd: python3 train.py
    method: tpe
    budget: 12
    parallel: 3
    early_stopping: {rule: asha, min_steps: 3, eta: 3}
    space: {lr: {loguniform: [0.0001, 0.1]}, batch: [16, 32], layers: {int: [1, 4]}}
`;
  assert.deepEqual(errorsOf(sound), []);
  assert.notDeepEqual(errorsOf('data: 3\n'), []);
  assert.notDeepEqual(errorsOf('sweeps:\n  s: {cmd: x, budjet: 3, space: {lr: [1]}}\n'), [], 'a misspelt sweep key');
  assert.notDeepEqual(errorsOf('objectives:\n  accuracy: {goal: up}\n'), []);
  assert.notDeepEqual(errorsOf('stages:\n  train: {deps: [a]}\n'), [], 'a stage needs cmd');
  assert.notDeepEqual(errorsOf('targets:\n  box: {type: ftp}\n'), []);
  assert.deepEqual(errorsOf('retrain:\n  - {model: a, stage: train}\n  - {model: b, cmd: python3 b.py}\n'), [], 'retrain: one entry per model');
  assert.notDeepEqual(errorsOf('retrain: [train]\n'), [], 'a retrain entry is a mapping');
  assert.notDeepEqual(errorsOf('monitoring:\n  column_tests: {age: pearson}\n'), []);
});
