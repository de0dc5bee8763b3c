// `mlops notebook run --target`: a notebook executed on a real sshd (127.0.0.1) by the plain cell
// runner with the host's python3 (no Jupyter needed there), tracked like a local notebook run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Tracking } from '../../src/core/tracking/tracking';
import { mlops } from './helpers';
import { writeNotebook } from './notebooksFixtures';
import { gitProject } from './remoteHelpers';
import { startSshd, type TestSshd } from './sshd';

const EXPLORE = [
  { markdown: '# Explore\nOn a GPU host.' },
  { code: 'lr = 0.1\nepochs = 2\n', tags: ['parameters'] },
  { code: 'import os, mlops_workbench as mlops\nfor e in range(epochs):\n    mlops.log_metric("loss", lr / (e + 1), step=e)\nprint("epochs", epochs, "in", os.path.basename(os.getcwd()))\n' },
  { code: 'rows = open("data.txt").read().split()\nlen(rows) * lr' },
];
const BROKEN = [
  { code: 'x = 1\nprint("before")\n' },
  { markdown: 'then' },
  { code: 'print("about to divide")\nx / 0\n' },
  { code: 'print("never")\n' },
];

const text = (value: string | string[]) => (Array.isArray(value) ? value.join('') : value);

describe('a notebook run on a real sshd target with plain python3', () => {
  let sshd: TestSshd;
  // Made here, not in before(): the workspace is removed when the file's tests end.
  const root = gitProject('', { 'notebooks/data.txt': 'a b c d\n' }).root;
  writeNotebook(path.join(root, 'notebooks', 'explore.ipynb'), EXPLORE);
  writeNotebook(path.join(root, 'notebooks', 'broken.ipynb'), BROKEN);
  before(async () => {
    sshd = await startSshd();
    fs.writeFileSync(path.join(root, 'mlops.yaml'), `targets:\n${sshd.entry()}`);
  });
  after(async () => { await sshd?.stop(); });

  it('runs the cells in order in one namespace, in the notebook\'s folder, with the parameters injected; tracks it as a notebook run', async () => {
    const r = mlops(root, 'notebook', 'run', 'notebooks/explore.ipynb', '--target', 'gpu-box', '-p', 'lr=0.5', '-p', 'epochs=3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /epochs 3 in notebooks/, 'the cell output streamed back');
    const runId = /run ([0-9a-f]{32}) FINISHED\. All 4 code cells ran\./.exec(r.stderr)?.[1];
    assert.ok(runId, r.stderr);
    const executedFile = path.join(root, '.mlops', 'runs', runId, 'artifacts', 'explore.ipynb');
    assert.match(r.stderr, new RegExp(`Executed notebook: ${executedFile.replace(/[.]/g, '\\.')}`));

    const executed = JSON.parse(fs.readFileSync(executedFile, 'utf8')) as { cells: { cell_type: string; source: string | string[]; metadata: { tags?: string[] }; execution_count?: number; outputs?: { output_type: string; text?: string; data?: Record<string, string> }[] }[] };
    const injected = executed.cells[2];
    assert.deepEqual(injected.metadata.tags, ['injected-parameters']);
    assert.equal(text(injected.source), '# Parameters\nlr = 0.5\nepochs = 3\n');
    const [, , , logging, last] = executed.cells;
    assert.deepEqual(logging.outputs, [{ output_type: 'stream', name: 'stdout', text: 'epochs 3 in notebooks\n' }]);
    assert.equal(last.execution_count, 4);
    assert.deepEqual(last.outputs, [{ output_type: 'execute_result', execution_count: 4, metadata: {}, data: { 'text/plain': '2.0' } }]);
    assert.ok(!fs.existsSync(path.join(root, '.mlops', 'runs', runId, 'artifacts', 'notebook-result.json')), 'the runner\'s result is read, not kept');

    const tracking = await Tracking.open(root);
    try {
      const run = tracking.getRun(runId)!;
      assert.equal(run.status, 'FINISHED');
      assert.equal(run.name, 'explore-1');
      assert.equal(run.tags.notebook, 'notebooks/explore.ipynb');
      assert.equal(run.tags['mlops.target'], 'gpu-box');
      assert.deepEqual(run.params, { epochs: '3', lr: '0.5' });
      assert.ok(run.metrics.some((m) => m.key === "loss"), "the metric a cell logged streamed back");
      assert.deepEqual(run.cells.map((c) => [c.index, c.executionCount, c.status]), [[1, 1, 'ok'], [2, 3, 'ok'], [3, 4, 'ok']], 'the injected cell counts in In [n] but has no event');
      assert.ok(run.artifacts.some((a) => a.path === 'explore.ipynb'));
    } finally {
      tracking.close();
    }
  });

  it('stops at a failing cell, names it with its traceback, exit 1, and still brings the executed notebook home', () => {
    const r = mlops(root, 'notebook', 'run', 'notebooks/broken.ipynb', '--target', 'gpu-box');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /mlops: cell 3 \(index 2, In \[2\]\) failed: ZeroDivisionError: division by zero/);
    assert.match(r.stderr, /Traceback[\s\S]*x \/ 0/);
    const runId = /run ([0-9a-f]{32}) FAILED\./.exec(r.stderr)?.[1];
    assert.ok(runId, r.stderr);
    const executed = JSON.parse(fs.readFileSync(path.join(root, '.mlops', 'runs', runId, 'artifacts', 'broken.ipynb'), 'utf8')) as { cells: { outputs?: { output_type: string; text?: string; ename?: string }[] }[] };
    assert.deepEqual(executed.cells[2].outputs!.map((o) => o.output_type), ['stream', 'error']);
    assert.equal(executed.cells[2].outputs![0].text, 'about to divide\n');
    assert.equal(executed.cells[2].outputs![1].ename, 'ZeroDivisionError');
    assert.deepEqual(executed.cells[3].outputs, [], 'the cell after it did not run');
    assert.doesNotMatch(r.stdout, /never/);
  });

  it('runs with the target\'s own python (a venv\'s, under ~ on the host) when the target names one', () => {
    // An env's interpreter in the host's home: a wrapper that says it ran, then is python3.
    const env = path.join(path.dirname(sshd.workdir), 'home', 'envs', 'torch', 'bin');
    fs.mkdirSync(env, { recursive: true });
    fs.writeFileSync(path.join(env, 'python'), '#!/bin/sh\necho "the torch env\'s python"\nexec /usr/bin/python3 "$@"\n', { mode: 0o755 });
    const yaml = path.join(root, 'mlops.yaml');
    const before = fs.readFileSync(yaml, 'utf8');
    fs.writeFileSync(yaml, `${before}${sshd.entry('env-box')}    python: ~/envs/torch/bin/python\n`);
    try {
      const r = mlops(root, 'notebook', 'run', 'notebooks/explore.ipynb', '--target', 'env-box');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /the torch env's python/);
      assert.match(r.stdout, /epochs 2 in notebooks/);
    } finally {
      fs.writeFileSync(yaml, before);
    }
  });
});
