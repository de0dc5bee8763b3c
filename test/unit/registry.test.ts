import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { editedSections, writeModelCard } from '../../src/core/governance/modelCard';
import { reproduceRun } from '../../src/core/governance/reproduce';
import { Project } from '../../src/core/project';
import { lineageText, modelLineage } from '../../src/core/registry/lineage';
import { RegistryError } from '../../src/core/registry/registry';
import { fixtures, tmpWorkspace } from './helpers';

const ONNX = path.join(fixtures, 'models', 'breast_cancer_mlp.onnx');

async function project(): Promise<Project> {
  const layout = tmpWorkspace();
  return Project.open(layout.root);
}

function fsck(p: Project): void {
  execFileSync('git', ['--git-dir', path.join(p.layout.dir, 'snapshots.git'), 'fsck', '--strict'], { stdio: 'pipe' });
}

describe('model registry', () => {
  it('registers an ONNX file with its signature, hash and snapshot, and audits it', async () => {
    const p = await project();
    fs.mkdirSync(path.join(p.layout.root, 'models'));
    fs.copyFileSync(ONNX, path.join(p.layout.root, 'models', 'mlp.onnx'));
    const v = await p.registerModel('cancer', 'models/mlp.onnx');
    assert.equal(v.version, 1);
    assert.equal(v.path, 'models/mlp.onnx');
    assert.equal(v.size, fs.statSync(ONNX).size);
    assert.equal(v.sha256, createHash('sha256').update(fs.readFileSync(ONNX)).digest('hex'));
    assert.equal(v.format.framework, 'onnx');
    assert.deepEqual(v.format.inputs, [{ name: 'input', type: 'float32', shape: ['batch', 30] }]);
    assert.deepEqual(v.format.outputs, [{ name: 'probabilities', type: 'float32', shape: ['batch', 2] }]);
    const { files } = await p.snapshots.show(v.snapshot);
    assert.deepEqual(files.map((f) => f.path), ['models/mlp.onnx']);
    fsck(p);
    const audit = p.audit.entries().map((e) => e.action);
    assert.deepEqual(audit, ['register']);
    assert.equal(p.audit.verify().ok, true);
    p.close();
  });

  it('moves aliases with a record, refuses to delete an aliased version, never reuses numbers', async () => {
    const p = await project();
    fs.writeFileSync(path.join(p.layout.root, 'model.json'), '{"w": [1]}');
    await p.registerModel('clf', 'model.json');
    fs.writeFileSync(path.join(p.layout.root, 'model.json'), '{"w": [2]}');
    await p.registerModel('clf', 'model.json');
    p.registry.setAlias('clf', 'champion', 1);
    p.registry.setAlias('clf', 'champion', 2);
    p.registry.setAlias('clf', 'challenger', 1);
    assert.deepEqual(p.registry.model('clf').aliases, { champion: 2, challenger: 1 });
    assert.equal(p.registry.version('clf', 'champion').version, 2);
    const moves = p.audit.entries().filter((e) => e.action === 'alias').map((e) => e.details);
    assert.deepEqual(moves[1], { alias: 'champion', from: 1, to: 2 });
    assert.throws(() => p.registry.deleteVersion('clf', 2), /Version 2 of "clf" is "champion"; move that alias to another version first/);
    p.registry.setAlias('clf', 'champion', null);
    p.registry.setAlias('clf', 'challenger', null);
    p.registry.deleteVersion('clf', 2);
    fs.writeFileSync(path.join(p.layout.root, 'model.json'), '{"w": [3]}');
    assert.equal((await p.registerModel('clf', 'model.json')).version, 3);
    assert.deepEqual(p.registry.model('clf').versions.map((v) => v.version), [1, 3]);
    assert.throws(() => p.registry.version('clf', 2), /has no version 2; it has 1, 3/);
    assert.throws(() => p.registry.setAlias('clf', '42', 1), RegistryError);
    await assert.rejects(p.registerModel('bad name!', 'model.json'), /not a valid model name/);
    await assert.rejects(p.registerModel('clf', 'missing.onnx'), /no such file or folder/);
    p.close();
  });

  it('log_model inside a tracked run registers the model with the run and its metrics', async () => {
    const p = await project();
    fs.writeFileSync(path.join(p.layout.root, 'train.py'), [
      'import json, mlops_workbench as mlops',
      'mlops.log_metric("accuracy", 0.93, step=1)',
      'json.dump({"w": [0.5]}, open("model.json", "w"))',
      'v = mlops.log_model("model.json", "clf")',
      'print("registered", v["model"], v["version"])',
    ].join('\n'));
    let out = '';
    const run = await p.launch({ command: 'python3', args: ['train.py'], cwd: p.layout.root, source: 'script', onOutput: (t) => (out += t) });
    const outcome = await run.finished;
    assert.equal(outcome.status, 'FINISHED', out);
    assert.match(out, /registered clf 1/);
    const v = p.registry.version('clf', 1);
    assert.equal(v.run_id, run.runId);
    assert.deepEqual(v.metrics, { accuracy: 0.93 });
    assert.deepEqual(p.registry.versionsOfRun(run.runId).map((x) => x.version), [1]);
    p.close();
  });

  it('log_model raises the engine\'s own message when the registration is refused', async () => {
    const p = await project();
    fs.writeFileSync(path.join(p.layout.root, 'train.py'), [
      'import json, mlops_workbench as mlops',
      'json.dump({"w": [0.5]}, open("model.json", "w"))',
      'try:',
      '    mlops.log_model("model.json", "bad name")',
      'except RuntimeError as e:',
      '    print("refused:", e)',
    ].join('\n'));
    let out = '';
    const run = await p.launch({ command: 'python3', args: ['train.py'], cwd: p.layout.root, source: 'script', onOutput: (t) => (out += t) });
    assert.equal((await run.finished).status, 'FINISHED', out);
    assert.match(out, /^refused: log_model\('model\.json', 'bad name'\) failed: "bad name" is not a valid model name: use letters/m);
    p.close();
  });
});

describe('lineage, model cards and reproduce', () => {
  it('follows a model version back through its run, code and data to the run that made the data', async () => {
    const p = await project();
    const root = p.layout.root;
    execFileSync('git', ['init', '-q', '-b', 'main', root]);
    fs.writeFileSync(path.join(root, '.gitignore'), '.mlops/\ndata/\nmodel.json\n');
    fs.writeFileSync(path.join(root, 'mlops.yaml'), 'data:\n  - data/\n');
    fs.writeFileSync(path.join(root, 'prepare.py'), [
      'import os, subprocess, sys',
      'os.makedirs("data", exist_ok=True)',
      'open("data/rows.csv", "w").write("x,y\\n1,2\\n3,4\\n")',
    ].join('\n'));
    fs.writeFileSync(path.join(root, 'train.py'), [
      'import json, sys, mlops_workbench as mlops',
      'rows = open("data/rows.csv").read().strip().splitlines()[1:]',
      'mlops.log_param("rows", len(rows))',
      'mlops.log_metric("total", sum(int(v) for r in rows for v in r.split(",")), step=0)',
      'json.dump({"rows": len(rows)}, open("model.json", "w"))',
      'mlops.log_model("model.json", "summer")',
    ].join('\n'));
    execFileSync('git', ['-C', root, 'add', '.']);
    execFileSync('git', ['-C', root, '-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '-m', 'code']);

    // The data is made by a run of its own: a snapshot taken inside a run records that run.
    const prep = await p.launch({ command: 'python3', args: ['prepare.py'], cwd: root, source: 'script', inputs: [] });
    await prep.finished;
    process.env.MLOPS_RUN_ID = prep.runId;
    const data = await p.snapshot(['data/'], { message: 'prepared rows' });
    delete process.env.MLOPS_RUN_ID;

    const train = await p.launch({ command: 'python3', args: ['train.py'], cwd: root, source: 'script' });
    assert.equal((await train.finished).status, 'FINISHED');
    p.tracking.refresh();
    assert.deepEqual(p.tracking.getRun(train.runId)!.inputs, [{ snapshot: data.id, paths: ['data'] }], 'unchanged data reuses the snapshot');

    const lineage = await modelLineage(p.registry, p.tracking, p.snapshots, 'summer', 1);
    const [runNode] = lineage.children;
    assert.equal(runNode.id, train.runId);
    assert.deepEqual(runNode.children.map((c) => c.kind), ['code', 'snapshot']);
    assert.equal(runNode.children[1].id, data.id);
    assert.equal(runNode.children[1].children[0].id, prep.runId, 'the data snapshot leads to the run that made it');
    assert.match(lineageText(lineage), /summer v1[\s\S]*← run train[\s\S]*← code [0-9a-f]{10}[\s\S]*← data [0-9a-f]{10}[\s\S]*← run prepare/);

    const card = await writeModelCard(p.layout, p.registry, p.tracking, p.snapshots, 'summer', 1);
    let text = fs.readFileSync(card, 'utf8');
    assert.match(text, /# Model card: summer v1/);
    assert.match(text, /\| total \| 10 \|/);
    assert.match(text, /\| rows \| 2 \|/);
    fs.writeFileSync(card, text.replace('_What this model is for, who should use it, and what it must not be used for._', 'Summing rows in demos only.'));
    p.registry.setAlias('summer', 'champion', 1);
    await writeModelCard(p.layout, p.registry, p.tracking, p.snapshots, 'summer', 'champion');
    text = fs.readFileSync(card, 'utf8');
    assert.equal(editedSections(text).get('intended-use'), 'Summing rows in demos only.', 'a regenerated card keeps edited sections');
    assert.match(text, /\| Version \| 1 \(`champion`\) \|/);

    // Reproduce with the working tree changed since: code and data come from what the run recorded.
    fs.writeFileSync(path.join(root, 'data', 'rows.csv'), 'x,y\n100,100\n');
    fs.appendFileSync(path.join(root, 'train.py'), '\nraise SystemExit("this line was added after the run")\n');
    let reproOut = '';
    const repro = await reproduceRun(p, train.runId, (t) => (reproOut += t));
    assert.equal(repro.outcome.status, 'FINISHED', reproOut);
    assert.deepEqual(repro.comparison.find((c) => c.key === 'total'), { key: 'total', original: 10, reproduced: 10 });
    assert.equal(p.tracking.getRun(repro.runId)!.tags.reproduces, train.runId);
    assert.deepEqual(p.audit.entries().map((e) => e.action).filter((a) => a === 'reproduce'), ['reproduce']);
    assert.equal(execFileSync('git', ['-C', root, 'worktree', 'list']).toString().trim().split('\n').length, 1, 'the temporary worktree is removed');
    fsck(p);
    p.close();
  });
});
