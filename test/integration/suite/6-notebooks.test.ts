// Notebook tracking in the real extension host. No Jupyter extension is
// installed here, so the first test registers a TEST notebook controller that
// runs each cell in a real python3 process (one process per "kernel session",
// with `__vsc_ipynb_file__` defined as VS Code's Jupyter kernels do) and reports
// success through the notebook API; the extension sees only the cells'
// execution summaries, as with any kernel. The headless "Run Notebook as
// Experiment" tests use a real Jupyter kernel (nbclient + ipykernel).
import * as assert from 'assert';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { NotebookRunOutcome } from '../../../src/core/notebooks/runNotebook';
import type { RunDetail } from '../../../src/core/tracking/store';
import type { MlopsApi } from '../../../src/extension/extension';
import type { RunsNode } from '../../../src/extension/runs/runsTree';
import { EXTENSION_ID, api, waitFor, workspaceRoot } from './workbench';

const root = workspaceRoot;

function getRun(mlops: MlopsApi, runId: string): RunDetail | undefined {
  mlops.service.refresh();
  return mlops.service.current!.getRun(runId);
}

function notebookRuns(mlops: MlopsApi, notebook: string): RunDetail[] {
  mlops.service.refresh();
  const t = mlops.service.current!;
  return t.listRuns().filter((r) => r.source === 'notebook').map((r) => t.getRun(r.id)!).filter((r) => r.tags.notebook === notebook)
    .sort((a, b) => (a.start_time ?? 0) - (b.start_time ?? 0));
}

function writeNotebook(file: string, cells: { code?: string; markdown?: string; tags?: string[] }[]): vscode.Uri {
  const lines = (text: string) => text.split(/(?<=\n)/);
  fs.writeFileSync(file, JSON.stringify({
    cells: cells.map((c, i) => c.markdown !== undefined
      ? { cell_type: 'markdown', id: `c${i}`, metadata: {}, source: lines(c.markdown) }
      : { cell_type: 'code', id: `c${i}`, execution_count: null, metadata: c.tags ? { tags: c.tags } : {}, outputs: [], source: lines(c.code!) }),
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  }, null, 1));
  return vscode.Uri.file(file);
}

/** An interpreter with nbclient and ipykernel (Debian's python3-nbclient, python3-ipykernel). */
function jupyterPython(): string {
  for (const candidate of [process.env.MLOPS_TEST_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c)) {
    if (spawnSync(candidate, ['-c', 'import nbclient, ipykernel'], { encoding: 'utf8' }).status === 0) return candidate;
  }
  throw new Error('no interpreter with nbclient and ipykernel: apt-get install python3-nbclient python3-ipykernel');
}

// ------------------------------------------------------------ the test controller

/** A cell runner in a python3 process: `exec` in its __main__, as a kernel runs cells in its user namespace. */
const FAKE_KERNEL = `
import contextlib, io, json, sys, traceback
ns = sys.modules["__main__"].__dict__
ns["__vsc_ipynb_file__"] = sys.argv[1]
for line in sys.stdin:
    out = io.StringIO()
    reply = {"ok": True}
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(json.loads(line)["code"], "<cell>", "exec"), ns)
    except BaseException as e:
        reply = {"ok": False, "error": {"name": type(e).__name__, "message": str(e), "stack": traceback.format_exc()}}
    reply["stdout"] = out.getvalue()
    sys.__stdout__.write(json.dumps(reply) + "\\n")
    sys.__stdout__.flush()
`;

class TestKernel {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private order = 0;
  private pending: ((reply: { ok: boolean; stdout: string; error?: { name: string; message: string; stack: string } }) => void)[] = [];
  private buffer = '';

  constructor(private readonly notebook: string, private readonly clientPath: string) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  nextOrder(): number {
    return ++this.order;
  }

  run(code: string): Promise<{ ok: boolean; stdout: string; error?: { name: string; message: string; stack: string } }> {
    if (!this.proc) {
      this.proc = spawn('python3', ['-u', '-c', FAKE_KERNEL, this.notebook], {
        cwd: path.dirname(this.notebook), env: { ...process.env, PYTHONPATH: this.clientPath, PYTHONDONTWRITEBYTECODE: '1' },
      });
      this.proc.stdout.on('data', (chunk: Buffer) => {
        this.buffer += chunk.toString();
        let nl: number;
        while ((nl = this.buffer.indexOf('\n')) >= 0) {
          const line = this.buffer.slice(0, nl);
          this.buffer = this.buffer.slice(nl + 1);
          this.pending.shift()?.(JSON.parse(line));
        }
      });
    }
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.proc!.stdin.write(JSON.stringify({ code }) + '\n');
    });
  }

  /** A kernel restart: the process ends (its client flushes at exit), counts start again. */
  async restart(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    this.order = 0;
    if (!proc) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.stdin.end();
    await exited;
  }
}

function createTestController(kernel: TestKernel): vscode.NotebookController {
  const controller = vscode.notebooks.createNotebookController('mlops-test-python-process', 'jupyter-notebook', 'TEST controller (python3 process)');
  controller.supportedLanguages = ['python'];
  controller.supportsExecutionOrder = true;
  controller.executeHandler = async (cells) => {
    for (const cell of cells) {
      const execution = controller.createNotebookCellExecution(cell);
      execution.executionOrder = kernel.nextOrder();
      execution.start(Date.now());
      await execution.clearOutput();
      const reply = await kernel.run(cell.document.getText());
      const outputs: vscode.NotebookCellOutput[] = [];
      if (reply.stdout) outputs.push(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.stdout(reply.stdout)], { outputType: 'stream' }));
      if (reply.error) outputs.push(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error(reply.error)], { outputType: 'error' }));
      await execution.replaceOutput(outputs);
      execution.end(reply.ok, Date.now());
    }
  };
  return controller;
}

async function executeCell(doc: vscode.NotebookDocument, index: number): Promise<void> {
  const before = doc.cellAt(index).executionSummary?.timing?.startTime;
  await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: index, end: index + 1 }], document: doc.uri });
  await waitFor(`cell ${index} to finish`, () => {
    const s = doc.cellAt(index).executionSummary;
    return s?.success !== undefined && s.timing !== undefined && s.timing.startTime !== before;
  });
}

// ------------------------------------------------------------ tests

describe('notebook tracking', () => {
  it('tracks a notebook run by a TEST notebook controller (no Jupyter extension installed: cells run in a python3 process) as one run per kernel session', async function () {
    this.timeout(120_000);
    const mlops = await api();
    const clientPath = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'python');
    const file = path.join(root(), 'tracked.ipynb');
    const uri = writeNotebook(file, [
      { markdown: '# A tracked notebook' },
      { code: 'import mlops_workbench as mlops\nmlops.log_param("source", "kernel")\nprint("hello from the kernel")\n' },
      { code: 'x = 1 / 0' },
      { code: 'import time\ntime.sleep(0.2)\nmlops.log_metric("score", 0.75)\nmlops.flush()\n' },
    ]);
    const kernel = new TestKernel(file, clientPath);
    const controller = createTestController(kernel);
    try {
      const doc = await vscode.workspace.openNotebookDocument(uri);
      await vscode.window.showNotebookDocument(doc);
      const selected = new Promise<void>((resolve) => controller.onDidChangeSelectedNotebooks((e) => e.selected && resolve()));
      controller.updateNotebookAffinity(doc, vscode.NotebookControllerAffinity.Preferred);
      await vscode.commands.executeCommand('notebook.selectKernel', { id: controller.id, extension: EXTENSION_ID });
      await selected;

      await executeCell(doc, 1);
      await executeCell(doc, 3);
      await executeCell(doc, 2);
      const first = await waitFor('the first run with its three cells, param and metric', () => {
        const runs = notebookRuns(mlops, 'tracked.ipynb');
        const r = runs[0];
        return r && r.cells.length === 3 && r.params.source && r.metrics.length ? r : undefined;
      });
      assert.strictEqual(first.status, 'RUNNING', 'the run lasts as long as the kernel session');
      assert.match(first.name, /^tracked-\d+$/);
      assert.strictEqual(first.params.source, 'kernel', 'the client inside the kernel attached to the notebook\'s run');
      assert.strictEqual(first.metrics.find((m) => m.key === 'score')?.latest, 0.75);
      assert.deepStrictEqual(first.cells.map((c) => [c.index, c.executionCount, c.status]), [[1, 1, 'ok'], [3, 2, 'ok'], [2, 3, 'error']]);
      assert.strictEqual(first.cells[2].error, 'ZeroDivisionError: division by zero');
      assert.ok(first.cells[1].durationMs! >= 150, `cell 3 slept 0.2 s: ${first.cells[1].durationMs} ms`);

      // The Runs view shows the run with its cells and their timings.
      const experiment = mlops.tree.getChildren().find((n) => n.kind === 'experiment' && n.name === 'Default')!;
      const runNode = mlops.tree.getChildren(experiment).find((n) => n.kind === 'run' && n.run.id === first.id)!;
      const sections = mlops.tree.getChildren(runNode);
      const cellsSection = sections.find((s) => mlops.tree.getTreeItem(s).label === 'Cells');
      assert.ok(cellsSection, `sections: ${sections.map((s) => mlops.tree.getTreeItem(s).label).join(', ')}`);
      const rows = mlops.tree.getChildren(cellsSection as RunsNode).map((n) => mlops.tree.getTreeItem(n));
      assert.strictEqual(rows.length, 3);
      assert.match(String(rows[1].label), /cell 4/);
      assert.match(String(rows[1].description), /\d+(\.\d+)? ?(ms|s)/);
      assert.match(String(rows[2].description), /error/);

      // A kernel restart ends the run (notebook with outputs saved) and the next cell starts a new one.
      await kernel.restart();
      await executeCell(doc, 1);
      const second = await waitFor('a second run after the restart', () => {
        const runs = notebookRuns(mlops, 'tracked.ipynb');
        return runs.length === 2 && runs[1].cells.length === 1 && runs[1].params.source ? runs[1] : undefined;
      });
      const ended = getRun(mlops, first.id)!;
      assert.strictEqual(ended.status, 'FAILED', 'a cell whose latest execution failed fails the run');
      assert.ok(ended.artifacts.some((a) => a.path === 'tracked.ipynb'), 'the notebook is saved with the run');
      const saved = JSON.parse(fs.readFileSync(path.join(mlops.service.current!.layout.artifactsDir(first.id), 'tracked.ipynb'), 'utf8'));
      assert.strictEqual(saved.cells[1].execution_count, 1);
      assert.match(JSON.stringify(saved.cells[1].outputs), /hello from the kernel/);
      assert.strictEqual(saved.cells[2].outputs[0].output_type, 'error');
      assert.deepStrictEqual(second.cells.map((c) => [c.index, c.executionCount]), [[1, 1]]);
      assert.strictEqual(second.params.source, 'kernel', 'the restarted kernel\'s client logs into the new run');

      // "End Notebook Run" ends it on request.
      const endedId = await vscode.commands.executeCommand<string>('mlops.endNotebookRun', uri);
      assert.strictEqual(endedId, second.id);
      const finished = await waitFor('the second run to end', () => {
        const r = getRun(mlops, second.id);
        return r && r.status !== 'RUNNING' ? r : undefined;
      });
      assert.strictEqual(finished.status, 'FINISHED');
      assert.ok(finished.artifacts.some((a) => a.path === 'tracked.ipynb'));
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      await kernel.restart();
      controller.dispose();
    }
  });

  it('"Run Notebook as Experiment" runs explore.ipynb headless through a real Jupyter kernel with injected parameters', async function () {
    this.timeout(120_000);
    const mlops = await api();
    const uri = vscode.Uri.file(path.join(root(), 'explore.ipynb'));
    const outcome = await vscode.commands.executeCommand<NotebookRunOutcome>('mlops.runNotebookAsExperiment', uri, {
      parameters: { lr: 0.3, epochs: 4 }, python: jupyterPython(), notify: false,
    });
    assert.ok(outcome, 'the command returns the outcome');
    assert.strictEqual(outcome.ok, true, outcome.message);
    const run = getRun(mlops, outcome.runId)!;
    assert.strictEqual(run.status, 'FINISHED');
    assert.strictEqual(run.source, 'notebook');
    assert.strictEqual(run.tags.notebook, 'explore.ipynb');
    assert.strictEqual(run.params.lr, '0.3');
    assert.strictEqual(run.params.epochs, '4');
    assert.strictEqual(run.metrics.find((m) => m.key === 'val_accuracy')?.count, 4, 'the notebook logged one point per epoch');
    assert.ok(run.metrics.some((m) => m.key === 'final_val_accuracy'));
    assert.deepStrictEqual(run.cells.map((c) => [c.index, c.status]), [[1, 'ok'], [2, 'ok'], [3, 'ok'], [4, 'ok'], [5, 'ok']]);
    const executed = JSON.parse(fs.readFileSync(path.join(mlops.service.current!.layout.artifactsDir(run.id), 'explore.ipynb'), 'utf8'));
    const injected = executed.cells[2];
    assert.deepStrictEqual(injected.metadata.tags, ['injected-parameters']);
    assert.strictEqual(injected.source.join(''), '# Parameters\nlr = 0.3\nepochs = 4\n');
  });

  it('"Run Notebook as Experiment": a failing cell fails the run and names the cell', async function () {
    this.timeout(120_000);
    const mlops = await api();
    const uri = writeNotebook(path.join(root(), 'failing.ipynb'), [
      { code: 'threshold = 0.5', tags: ['parameters'] },
      { code: 'assert threshold < 0.9, f"threshold {threshold} is too high"' },
      { code: 'print("not reached")' },
    ]);
    const outcome = await vscode.commands.executeCommand<NotebookRunOutcome>('mlops.runNotebookAsExperiment', uri, {
      parameters: { threshold: 0.95 }, python: jupyterPython(), notify: false,
    });
    assert.strictEqual(outcome.ok, false);
    assert.strictEqual(outcome.status, 'FAILED');
    assert.strictEqual(outcome.failedCell?.index, 1);
    assert.strictEqual(outcome.failedCell?.error, 'AssertionError: threshold 0.95 is too high');
    assert.strictEqual(outcome.message, 'Cell 2 (index 1) failed: AssertionError: threshold 0.95 is too high');
    const run = getRun(mlops, outcome.runId)!;
    assert.strictEqual(run.status, 'FAILED');
    assert.deepStrictEqual(run.cells.map((c) => [c.index, c.status]), [[0, 'ok'], [1, 'error']]);
  });

  it('"Run Notebook as Experiment" refuses a notebook that is not valid JSON without starting a run', async () => {
    const mlops = await api();
    const file = path.join(root(), 'damaged.ipynb');
    fs.writeFileSync(file, '{"cells": [');
    const before = mlops.service.current!.listRuns().length;
    const outcome = await vscode.commands.executeCommand('mlops.runNotebookAsExperiment', vscode.Uri.file(file), { parameters: {}, python: 'python3' });
    assert.strictEqual(outcome, undefined, 'the error is shown as a message');
    mlops.service.refresh();
    assert.strictEqual(mlops.service.current!.listRuns().length, before);
  });
});
