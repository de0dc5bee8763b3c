import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { buildDag } from '../../src/core/pipelines/dag';
import { parseStages } from '../../src/core/pipelines/stages';
import { tmpWorkspace } from './helpers';

const FOUR = [
  'data: [data/]',                   // 1
  'stages:',                         // 2
  '  prepare:',                      // 3
  '    cmd: sh prepare.sh',          // 4
  '    deps: [prepare.sh, raw/]',    // 5
  '    outs: [data/prepared/]',      // 6
  '  train:',                        // 7
  '    cmd: sh train.sh',            // 8
  '    deps:',                       // 9
  '      - data/features.csv',       // 10
  '    params: [train.lr, params.yaml:epochs]', // 11
  '    outs: [model.bin]',           // 12
  '    metrics: [metrics.json]',     // 13
  '  featurize:',                    // 14
  '    cmd: sh featurize.sh',        // 15
  '    deps: [data/prepared]',       // 16
  '    outs: [./data/features.csv]', // 17
  '  evaluate:',                     // 18
  '    cmd: sh evaluate.sh',         // 19
  '    deps: [model.bin, data/features.csv]', // 20
  '',
].join('\n');

describe('pipeline stages in mlops.yaml', () => {
  it('reads each stage with its line, normalised paths and params, and orders them by outs → deps', () => {
    const { stages, problems } = parseStages(FOUR, 'mlops.yaml');
    assert.deepEqual(problems, []);
    assert.deepEqual(stages.map((s) => [s.name, s.line]), [['prepare', 3], ['train', 7], ['featurize', 14], ['evaluate', 18]]);
    const train = stages[1];
    assert.deepEqual(train.params.map((p) => [p.file, p.key]), [['mlops.yaml', 'train.lr'], ['params.yaml', 'epochs']]);
    assert.deepEqual(train.lines.deps, [10]);
    assert.equal(stages[2].outs[0], 'data/features.csv');
    assert.equal(stages[0].outs[0], 'data/prepared');
    assert.deepEqual(buildDag(stages).order, ['prepare', 'featurize', 'train', 'evaluate']);
  });

  it('names a cycle\'s stages and the line of mlops.yaml', () => {
    const text = 'stages:\n  a:\n    cmd: x\n    deps: [b.out]\n    outs: [a.out]\n  b:\n    cmd: y\n    deps: [a.out]\n    outs: [b.out]\n';
    const { problems } = buildDag(parseStages(text, 'mlops.yaml').stages);
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /"a" \(line 2\), "b" \(line 6\) form a cycle: a → b → a/);
    assert.equal(problems[0].line, 2);
  });

  it('names both stages of an out claimed twice, with the line of the second claim', () => {
    const text = 'stages:\n  a:\n    cmd: x\n    outs: [models/]\n  b:\n    cmd: y\n    outs:\n      - other\n      - models/m.onnx\n';
    const { problems } = buildDag(parseStages(text, 'mlops.yaml').stages);
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /"a" \(line 2\) and "b" \(line 5\) both claim the out "models" and "models\/m.onnx"/);
    assert.equal(problems[0].line, 9);
    assert.equal(problems[0].stage, 'b');
  });

  it('names the stage and line of a missing dep that no stage makes, and accepts one that exists', () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'here.csv'), 'x\n');
    const text = 'stages:\n  a:\n    cmd: x\n    deps:\n      - here.csv\n      - nowhere.csv\n';
    const { problems } = buildDag(parseStages(text, 'mlops.yaml').stages, ws.root);
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /Stage "a" depends on "nowhere.csv", which does not exist and which no stage makes/);
    assert.equal(problems[0].line, 6);
  });

  it('reports bad stages with their lines and keeps the good ones', () => {
    const text = 'stages:\n  ok:\n    cmd: x\n  nocmd:\n    deps: [a]\n  typo:\n    cmd: y\n    dep: [a]\n  escape:\n    cmd: z\n    outs: [../outside]\n';
    const { stages, problems } = parseStages(text, 'mlops.yaml');
    assert.deepEqual(stages.map((s) => s.name), ['ok']);
    assert.deepEqual(problems.map((p) => [p.stage, p.line]), [['nocmd', 4], ['typo', 8], ['escape', 11]]);
    assert.match(problems[1].message, /unknown key "dep"; a stage has cmd, deps, params, outs, metrics/);
    assert.deepEqual(parseStages('stages: [a, b]\n', 'mlops.yaml').problems.map((p) => p.line), [1]);
    assert.deepEqual(parseStages('data: [x\n', 'mlops.yaml').problems.length, 1);
  });
});
