// Headless notebook runs through real Jupyter kernels (nbclient + ipykernel in
// the interpreter jupyterPython() finds): injected parameters, a failing cell, a
// notebook that is not JSON, a kernel that dies mid-run, and the CLI command.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { NotebookError } from '../../src/core/notebooks/notebookFile';
import { describeFailure, runNotebook } from '../../src/core/notebooks/runNotebook';
import { Tracking } from '../../src/core/tracking/tracking';
import type { MlopsLayout } from '../../src/core/workspace/layout';
import { repoRoot, tmpWorkspace } from './helpers';
import { bareVenv, jupyterPython, writeNotebook } from './notebooksFixtures';

const TRAIN = [
  { markdown: '# Explore\nA notebook with parameters.' },
  { code: 'lr = 0.1\nepochs = 2\noptimizer = "sgd"\n', tags: ['parameters'] },
  { code: 'import os, mlops_workbench as mlops\nfor e in range(epochs):\n    mlops.log_metric("loss", lr / (e + 1), step=e)\nprint(optimizer, lr, epochs, os.getcwd())\n' },
  { code: 'result = {"optimizer": optimizer, "lr": lr}\nresult' },
];

async function run(layout: MlopsLayout, notebook: string, parameters: Record<string, unknown> = {}) {
  let output = '';
  const { run: started, outcome } = await runNotebook(layout, {
    notebook, python: jupyterPython(), parameters, onOutput: (t) => (output += t), capturePackages: false,
  });
  const result = await outcome;
  const tracking = await Tracking.open(layout.root);
  const detail = tracking.getRun(started.runId)!;
  tracking.close();
  return { result, detail, output, executed: (name: string) => JSON.parse(fs.readFileSync(path.join(layout.artifactsDir(started.runId), name), 'utf8')) };
}

/** nbformat stores multi-line strings as a list of lines. */
const text = (value: string | string[]) => (Array.isArray(value) ? value.join('') : value);
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

const sourceOf = (cell: { source: string | string[] }) => text(cell.source);

describe('running a notebook headless through a Jupyter kernel', () => {
  it('injects the parameters after the "parameters" cell, tracks every cell and saves the executed notebook', async () => {
    const ws = tmpWorkspace();
    const nb = writeNotebook(path.join(ws.root, 'nbs', 'explore.ipynb'), TRAIN);
    const { result, detail, output, executed } = await run(ws, nb, { lr: 0.5, epochs: 3, optimizer: 'adam' });
    assert.equal(result.ok, true, `${result.message}\n${output}`);
    assert.equal(result.status, 'FINISHED');
    assert.equal(result.cellsRun, 4, 'three code cells and the injected one');
    assert.equal(detail.source, 'notebook');
    assert.equal(detail.name, 'explore-1');
    assert.equal(detail.tags.notebook, 'nbs/explore.ipynb');
    assert.deepEqual(detail.params, { lr: '0.5', epochs: '3', optimizer: 'adam' });
    const loss = detail.metrics.find((m) => m.key === 'loss')!;
    assert.equal(loss.count, 3, 'the client inside the kernel logged into the run');
    assert.equal(loss.latest, 0.5 / 3);
    // Cells are named by their index in the notebook as written; the injected cell has no event.
    assert.deepEqual(detail.cells.map((c) => [c.index, c.executionCount, c.status]), [[1, 1, 'ok'], [2, 3, 'ok'], [3, 4, 'ok']]);
    assert.ok(detail.cells.every((c) => c.durationMs !== null && c.durationMs >= 0 && c.error === null));
    assert.equal(result.artifact, 'explore.ipynb');
    assert.ok(detail.artifacts.some((a) => a.path === 'explore.ipynb'));
    const saved = executed('explore.ipynb');
    assert.deepEqual(saved.cells[2].metadata.tags, ['injected-parameters']);
    assert.equal(sourceOf(saved.cells[2]), "# Parameters\nlr = 0.5\nepochs = 3\noptimizer = 'adam'\n");
    const printed = saved.cells[3].outputs.find((o: { name?: string }) => o.name === 'stdout');
    assert.equal(text(printed.text), `adam 0.5 3 ${path.join(ws.root, 'nbs')}\n`, 'the kernel runs in the notebook\'s folder');
    assert.equal(text(saved.cells[4].outputs[0].data['text/plain']), "{'optimizer': 'adam', 'lr': 0.5}");
    assert.match(output, /cell 4 \(index 3\) ok in \d+ ms \[4\/4\]/, 'progress is printed per cell');
    assert.equal(JSON.parse(fs.readFileSync(nb, 'utf8')).cells.length, 4, 'the notebook itself is not changed');
  });

  it('puts the parameters at the top when no cell is tagged "parameters", replacing an earlier injected cell', async () => {
    const ws = tmpWorkspace();
    const nb = writeNotebook(path.join(ws.root, 'plain.ipynb'), [
      { code: '# Parameters\nn = 1\n', tags: ['injected-parameters'] },
      { code: 'print(n * 2)' },
    ]);
    const { result, detail, executed } = await run(ws, nb, { n: 21 });
    assert.equal(result.ok, true, result.message);
    const saved = executed('plain.ipynb');
    assert.equal(saved.cells.length, 2, 'the old injected cell is replaced');
    assert.equal(sourceOf(saved.cells[0]), '# Parameters\nn = 21\n');
    assert.equal(text(saved.cells[1].outputs[0].text), '42\n');
    assert.deepEqual(detail.cells.map((c) => c.index), [1], 'cells keep their index in the file as written');
  });

  it('fails the run at a failing cell, naming it, and keeps the outputs up to it', async () => {
    const ws = tmpWorkspace();
    const nb = writeNotebook(path.join(ws.root, 'broken.ipynb'), [
      { code: 'x = 1\nprint("before")' },
      { markdown: 'Next, divide.' },
      { code: 'y = x / 0' },
      { code: 'print("never")' },
    ]);
    const { result, detail, output, executed } = await run(ws, nb);
    assert.equal(result.ok, false);
    assert.equal(result.status, 'FAILED');
    assert.deepEqual(result.failedCell && { ...result.failedCell, traceback: undefined }, {
      index: 2, executionCount: 2, injected: false, error: 'ZeroDivisionError: division by zero', traceback: undefined,
    });
    assert.match(result.failedCell!.traceback!, /----> 1 y = x \/ 0/);
    assert.doesNotMatch(result.failedCell!.traceback!, /\x1b\[/, 'colour codes are removed');
    assert.equal(result.message, 'Cell 3 (index 2) failed: ZeroDivisionError: division by zero');
    assert.equal(describeFailure(result.failedCell!), 'cell 3 (index 2, In [2]) failed: ZeroDivisionError: division by zero');
    assert.equal(detail.status, 'FAILED');
    assert.deepEqual(detail.cells.map((c) => [c.index, c.status, c.error]), [[0, 'ok', null], [2, 'error', 'ZeroDivisionError: division by zero']]);
    assert.match(output, /cell 3 \(index 2\) FAILED/);
    const saved = executed('broken.ipynb');
    assert.equal(saved.cells[2].outputs[0].output_type, 'error');
    assert.deepEqual(saved.cells[3].outputs, [], 'cells after the failure do not run');
  });

  it('says clearly when the kernel dies mid-run (os._exit in a cell)', async () => {
    const ws = tmpWorkspace();
    const nb = writeNotebook(path.join(ws.root, 'dies.ipynb'), [
      { code: 'import os\nprint("alive", flush=True)' },
      { code: 'os._exit(1)' },
      { code: 'print("never")' },
    ]);
    const started = Date.now();
    const { result, detail } = await run(ws, nb);
    assert.ok(Date.now() - started < 30_000, 'a dead kernel is noticed at once, not after a timeout');
    assert.equal(result.ok, false);
    assert.equal(result.kernelDied, true);
    assert.equal(result.status, 'FAILED');
    assert.equal(result.message, 'The kernel died while running cell 2 (index 1); it exited with code 1. The outputs up to it are in the saved notebook.');
    assert.equal(result.failedCell?.index, 1);
    assert.equal(result.failedCell?.error, 'the kernel died (exit code 1)');
    assert.deepEqual(detail.cells.map((c) => [c.index, c.status]), [[0, 'ok'], [1, 'error']]);
    assert.match(detail.cells[1].error!, /kernel died/);
    assert.ok(detail.artifacts.some((a) => a.path === 'dies.ipynb'), 'the notebook is saved even so');
  });

  it('stopping the run shuts the kernel down and keeps what ran', async () => {
    const ws = tmpWorkspace();
    const nb = writeNotebook(path.join(ws.root, 'slow.ipynb'), [
      { code: 'import os, time\nopen("kernel.pid", "w").write(str(os.getpid()))' },
      { code: 'time.sleep(120)' },
    ]);
    const { run: started, outcome } = await runNotebook(ws, { notebook: nb, python: jupyterPython(), capturePackages: false });
    const pidFile = path.join(ws.root, 'kernel.pid');
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(pidFile) || !fs.readFileSync(pidFile, 'utf8')) {
      assert.ok(Date.now() < deadline, 'the first cell ran');
      await new Promise((r) => setTimeout(r, 100));
    }
    const kernelPid = Number(fs.readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 300));
    await started.stop();
    const result = await outcome;
    assert.equal(result.status, 'KILLED');
    assert.equal(result.message, 'Stopped while running cell 2 (index 1).');
    assert.equal(result.artifact, 'slow.ipynb');
    const gone = Date.now() + 10_000;
    while (isAlive(kernelPid)) {
      assert.ok(Date.now() < gone, `the kernel ${kernelPid} is shut down`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('refuses a notebook that is not valid JSON before starting a run', async () => {
    const ws = tmpWorkspace();
    const nb = path.join(ws.root, 'damaged.ipynb');
    fs.writeFileSync(nb, '{\n "cells": [\n  {"cell_type": "code",\n');
    await assert.rejects(runNotebook(ws, { notebook: nb, python: jupyterPython() }), (err: Error) => {
      assert.ok(err instanceof NotebookError);
      assert.match(err.message, /^damaged\.ipynb is not valid JSON \(.*line \d+, column \d+\), so it is not a notebook Jupyter can run\./);
      return true;
    });
    assert.deepEqual(fs.readdirSync(ws.runsDir), [], 'no run was created');
    await assert.rejects(runNotebook(ws, { notebook: path.join(ws.root, 'missing.ipynb'), python: 'python3' }), /missing\.ipynb was not found/);
  });

  it('names the missing packages and leaves no run when the interpreter has no Jupyter', async () => {
    const ws = tmpWorkspace();
    const venv = bareVenv(ws.root);
    const nb = writeNotebook(path.join(ws.root, 'a.ipynb'), [{ code: 'print(1)' }]);
    await assert.rejects(runNotebook(ws, { notebook: nb, python: venv, capturePackages: false }), (err: Error) => {
      assert.ok(err instanceof NotebookError);
      assert.match(err.message, /^The interpreter .*venv\/bin\/python cannot run notebooks: it lacks nbformat, nbclient, jupyter_client, ipykernel\./);
      return true;
    });
    assert.deepEqual(fs.readdirSync(ws.runsDir), [], 'no FAILED run is left behind');
  });

  it('`mlops notebook run` exits 0 when every cell succeeds and 1 naming the failed cell', () => {
    const ws = tmpWorkspace();
    writeNotebook(path.join(ws.root, 'good.ipynb'), [{ code: 'lr = 0.1', tags: ['parameters'] }, { code: 'assert lr == 0.25, lr' }]);
    writeNotebook(path.join(ws.root, 'bad.ipynb'), [{ code: 'x = 1' }, { code: 'raise ValueError("bad data")' }]);
    fs.writeFileSync(path.join(ws.root, 'junk.ipynb'), 'not json');
    const cli = (...args: string[]) => {
      // The command module itself (main.ts only routes to it), over the compiled sources.
      const script = `require(${JSON.stringify(path.join(repoRoot, 'out', 'src', 'cli', 'notebook.js'))}).notebookCommand(` +
        `new (require(${JSON.stringify(path.join(repoRoot, 'out', 'src', 'core', 'workspace', 'layout.js'))}).MlopsLayout)(${JSON.stringify(ws.root)}), 'run', ${JSON.stringify(args)})` +
        '.then((c) => { process.exitCode = c; }, (e) => { process.stderr.write("mlops: " + e.message + "\\n"); process.exitCode = 1; })';
      const r = spawnSync(process.execPath, ['-e', script], { cwd: ws.root, encoding: 'utf8', env: { ...process.env, MLOPS_PYTHON: jupyterPython() } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const ok = cli('good.ipynb', '-p', 'lr=0.25', '--name', 'tuned', '--experiment', 'notebooks');
    assert.equal(ok.code, 0, ok.err + ok.out);
    assert.match(ok.err, /run [0-9a-f]{32} FINISHED\. All 3 code cells ran\. Executed notebook: .*good\.ipynb/);
    const failed = cli('bad.ipynb');
    assert.equal(failed.code, 1);
    assert.match(failed.err, /^mlops: cell 2 \(index 1, In \[2\]\) failed: ValueError: bad data$/m);
    assert.match(failed.err, /raise ValueError\("bad data"\)/, 'the traceback is printed');
    const junk = cli('junk.ipynb');
    assert.equal(junk.code, 1);
    assert.match(junk.err, /junk\.ipynb is not valid JSON/);
    const t = spawnSync(process.execPath, ['-e', `
      const { Tracking } = require(${JSON.stringify(path.join(repoRoot, 'out', 'src', 'core', 'tracking', 'tracking.js'))});
      Tracking.open(${JSON.stringify(ws.root)}).then((t) => { console.log(JSON.stringify(t.listRuns())); t.close(); });`], { encoding: 'utf8' });
    const runs = JSON.parse(t.stdout) as { name: string; experiment: string; status: string }[];
    assert.deepEqual(runs.map((r) => [r.name, r.experiment, r.status]).sort(), [['bad-1', 'Default', 'FAILED'], ['tuned', 'notebooks', 'FINISHED']]);
  });
});
