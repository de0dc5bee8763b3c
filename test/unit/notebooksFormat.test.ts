// The parts of notebook tracking that need no kernel: reading .ipynb files,
// parameters, the notebook → run mapping (shared with the Python client) and
// the indexing of `cell` events.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  describeCell, NotebookError, parameterDefaults, parametersCellIndex, parseNotebook, parseParameterArgs, parseParameterValue, readNotebook,
} from '../../src/core/notebooks/notebookFile';
import { listMappings, mappingFile, notebookKey, readMapping, removeMapping, writeMapping } from '../../src/core/notebooks/notebookMapping';
import { newRunId } from '../../src/core/tracking/eventWriter';
import { Tracking } from '../../src/core/tracking/tracking';
import { repoRoot, tmpWorkspace, writeRun } from './helpers';
import { writeNotebook } from './notebooksFixtures';

describe('reading notebooks', () => {
  it('names the file and the place when a notebook is not valid JSON', () => {
    assert.throws(() => parseNotebook('{\n  "cells": [\n    {"cell_type": "code",}\n', 'x.ipynb'), (err: Error) => {
      assert.ok(err instanceof NotebookError);
      assert.match(err.message, /^x\.ipynb is not valid JSON \(.* at line 3, column \d+\), so it is not a notebook Jupyter can run\. Open it in a text editor to repair it, or restore it from git\.$/);
      return true;
    });
    assert.throws(() => parseNotebook('', 'e.ipynb'), /e\.ipynb is empty; it is not a notebook/);
    assert.throws(() => parseNotebook('[1, 2]', 'l.ipynb'), /l\.ipynb is JSON but not a notebook: expected an object/);
    assert.throws(() => parseNotebook('{"cells": []}', 'n.ipynb'), /n\.ipynb is JSON but not a notebook: it has no "nbformat" version/);
    assert.throws(() => parseNotebook('{"nbformat": 3, "worksheets": []}', 'old.ipynb'), /old\.ipynb is an nbformat 3 notebook; only nbformat 4 can run/);
    assert.throws(() => parseNotebook('{"nbformat": 4, "cells": [{"source": "x"}]}', 'c.ipynb'), /c\.ipynb: cell 1 \(index 0\) has no "cell_type"/);
    assert.throws(() => readNotebook('/nonexistent/a.ipynb'), /Notebook \/nonexistent\/a\.ipynb was not found\./);
  });

  it('reads the defaults of the "parameters" cell', () => {
    const ws = tmpWorkspace();
    const file = writeNotebook(path.join(ws.root, 'p.ipynb'), [
      { markdown: 'lr = 5' },
      { code: 'import math\nlr = 0.01  # learning rate\nepochs: int = 10\nname = "a # b"\nlr = 0.02\nif lr == 1: pass\n', tags: ['parameters'] },
      { code: 'x = 1', tags: ['parameters'] },
    ]);
    const nb = readNotebook(file);
    assert.equal(parametersCellIndex(nb), 1, 'the first tagged cell');
    assert.deepEqual(parameterDefaults(nb), [
      { name: 'epochs', source: '10' },
      { name: 'name', source: '"a # b"' },
      { name: 'lr', source: '0.02' },
    ]);
    assert.deepEqual(parameterDefaults(parseNotebook('{"nbformat": 4, "cells": []}', 'n')), []);
  });

  it('turns typed values into parameters the way papermill does', () => {
    assert.equal(parseParameterValue('0.5'), 0.5);
    assert.equal(parseParameterValue('1e-3'), 0.001);
    assert.equal(parseParameterValue('-3'), -3);
    assert.equal(parseParameterValue('1_000'), 1000);
    assert.equal(parseParameterValue('True'), true);
    assert.equal(parseParameterValue('false'), false);
    assert.equal(parseParameterValue('None'), null);
    assert.equal(parseParameterValue('adam'), 'adam');
    assert.equal(parseParameterValue("'adam'"), 'adam');
    assert.equal(parseParameterValue('"a\\tb"'), 'a\tb');
    assert.equal(parseParameterValue('"3"'), '3', 'quotes keep a number a string');
    assert.deepEqual(parseParameterValue('[1, 2.5, "x"]'), [1, 2.5, 'x']);
    assert.deepEqual(parseParameterValue('{"a": 1}'), { a: 1 });
    assert.equal(parseParameterValue('[not json'), '[not json');
    assert.equal(parseParameterValue('12345678901234567890'), 12345678901234567890, 'too big for an exact integer: a float');
    assert.deepEqual(parseParameterArgs(['lr=0.1', 'name=run one', 'expr=a=b']), { lr: 0.1, name: 'run one', expr: 'a=b' });
    assert.throws(() => parseParameterArgs(['lr']), /Parameter "lr" is not key=value \(for example -p lr=0\.01\)\./);
    assert.throws(() => parseParameterArgs(['1x=2']), /"1x" cannot be a notebook parameter: it must be a Python name/);
    assert.throws(() => parseParameterArgs(['class=2']), /"class" cannot be a notebook parameter/);
    assert.equal(describeCell(3, 7), 'cell 4 (index 3, In [7])');
    assert.equal(describeCell(0), 'cell 1 (index 0)');
  });
});

describe('the notebook → run mapping', () => {
  it('computes the same key as the Python client', () => {
    const notebooks = ['/home/ana/project/explore.ipynb', '/tmp/x/../y/näive notebook.ipynb', 'relative/nb.ipynb'];
    const script = 'import json, sys\nfrom mlops_workbench import _locate\nprint(json.dumps([_locate.notebook_key(p) for p in json.loads(sys.argv[1])]))';
    const r = spawnSync('python3', ['-c', script, JSON.stringify(notebooks)], {
      encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(repoRoot, 'python') },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), notebooks.map(notebookKey));
    assert.match(notebookKey('/a.ipynb'), /^[0-9a-f]{32}$/);
  });

  it('writes, reads and removes a mapping; a mapping of another notebook or a damaged one is ignored', () => {
    const ws = tmpWorkspace();
    const nb = path.join(ws.root, 'a.ipynb');
    const runId = newRunId();
    writeMapping(ws, { notebook: nb, run_id: runId, next_run_id: null, kernel_pid: null });
    const m = readMapping(ws, nb)!;
    assert.equal(m.run_id, runId);
    assert.equal(m.owner.pid, process.pid);
    assert.equal(path.basename(mappingFile(ws, nb)), `${notebookKey(nb)}.json`);
    assert.deepEqual(listMappings(ws).map((x) => x.mapping.notebook), [nb]);
    fs.copyFileSync(mappingFile(ws, nb), mappingFile(ws, path.join(ws.root, 'b.ipynb')));
    assert.equal(readMapping(ws, path.join(ws.root, 'b.ipynb')), undefined, 'the file must name the notebook');
    fs.writeFileSync(mappingFile(ws, nb), '{"notebook": 1');
    assert.equal(readMapping(ws, nb), undefined);
    removeMapping(ws, nb);
    assert.equal(fs.existsSync(mappingFile(ws, nb)), false);
  });
});

describe('indexing cell events', () => {
  it('keeps every cell execution of a run, in order, and survives a rebuild', async () => {
    const ws = tmpWorkspace();
    const runId = writeRun(ws, [
      { type: 'cell', index: 0, execution_count: 1, duration_ms: 12, status: 'ok', time: 1_700_000_000_100 },
      { type: 'cell', index: 2, execution_count: 2, duration_ms: 1500.5, status: 'error', error: 'ZeroDivisionError: division by zero', time: 1_700_000_000_200 },
      { type: 'cell', index: 2, execution_count: null, status: 'unknown', time: 1_700_000_000_300 },
    ]);
    fs.appendFileSync(ws.eventsFile(runId), '{"type":"cell","time":1,"index":-1,"status":"ok"}\n{"type":"cell","time":1,"index":1,"status":"fine"}\n');
    const messages: string[] = [];
    let t = await Tracking.open(ws.root, { onMessage: (m) => messages.push(m) });
    const expected = [
      { index: 0, executionCount: 1, time: 1_700_000_000_100, durationMs: 12, status: 'ok', error: null },
      { index: 2, executionCount: 2, time: 1_700_000_000_200, durationMs: 1500.5, status: 'error', error: 'ZeroDivisionError: division by zero' },
      { index: 2, executionCount: null, time: 1_700_000_000_300, durationMs: null, status: 'unknown', error: null },
    ];
    assert.deepEqual(t.getRun(runId)!.cells, expected);
    assert.ok(messages.some((m) => /:5: cell without a non-negative integer "index"; line skipped/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /:6: cell 1 has unknown status "fine"; line skipped/.test(m)), messages.join('\n'));
    t.close();
    t = await Tracking.open(ws.root);
    assert.deepEqual(t.getRun(runId)!.cells, expected, 'read back from the saved index');
    await t.reindex();
    assert.deepEqual(t.getRun(runId)!.cells, expected, 'rebuilt from the log');
    t.deleteRun(runId);
    assert.equal(t.getRun(runId), undefined);
    t.close();
    const other = writeRun(ws, []);
    t = await Tracking.open(ws.root);
    assert.deepEqual(t.getRun(other)!.cells, [], 'a run without cells');
    t.close();
  });
});
