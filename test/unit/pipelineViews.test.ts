// What the Pipelines view, the DAG panel and the runs table show of pipeline runs:
// driven on a real workspace and real stage processes (sh), without VS Code.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RunsTableModel } from '../../src/extension/panels/runsTableModel';
import { PipelineModel } from '../../src/extension/pipelines/model';
import { runPipeline } from '../../src/core/pipelines/run';
import { compileRunQuery } from '../../src/core/tracking/runQuery';
import { Tracking } from '../../src/core/tracking/tracking';
import { buildItems, RunStore } from '../../webview/runs/model';
import { tmpWorkspace, writeRun } from './helpers';

const YAML = 'stages:\n  make:\n    cmd: echo made > a.txt\n    outs: [a.txt]\n  use:\n    cmd: cp a.txt b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n';

describe('pipeline runs in the views', () => {
  it('the runs table carries each stage run\'s pipeline run and groups by it; other runs stay apart', async () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), YAML);
    const record = await runPipeline(ws.root);
    assert.equal(record.status, 'succeeded');
    const lone = writeRun(ws, [{ type: 'run_end', status: 'FINISHED', exit_code: 0 }]);
    const tracking = await Tracking.open(ws.root);
    try {
      tracking.refresh();
      const data = new RunsTableModel(() => tracking, compileRunQuery).load();
      const byId = new Map(data.rows.map((r) => [r.id, r]));
      for (const s of record.stages) assert.equal(byId.get(s.run!)?.pipeline, record.id);
      assert.equal(byId.get(lone)?.pipeline, undefined);
      const store = new RunStore();
      store.load(data);
      const groups = buildItems(store, null, null, 'pipeline', new Set(), Date.now()).items.filter((i) => i.type === 'group');
      assert.deepEqual(groups.map((g) => g.type === 'group' && [g.label, g.count]), [['Pipeline run: (not in a pipeline)', 1], [`Pipeline run: ${record.id}`, 2]]);
    } finally {
      tracking.close();
    }
  });

  it('the view model shows status, then what the run under way does, and the DAG in columns', async () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), YAML);
    const model = new PipelineModel(ws.root);
    await model.refresh();
    assert.deepEqual(model.stages.map((s) => [s.name, s.shown, s.why]), [['make', 'changed', ['never run']], ['use', 'changed', ['never run', 'upstream stage "make" is out of date']]]);
    const seen: string[] = [];
    await runPipeline(ws.root, {
      onEvent: (e) => {
        model.apply(e);
        if (e.type === 'stage') seen.push(`${e.stage}:${model.stages.find((s) => s.name === e.stage)!.shown}`);
      },
    });
    assert.deepEqual(seen, ['make:running', 'make:ran', 'use:running', 'use:ran']);
    await model.refresh();
    const dag = model.dagData();
    assert.deepEqual(dag.stages.map((s) => [s.name, s.state, s.layer, s.upstream]), [['make', 'ran', 0, []], ['use', 'ran', 1, ['make']]]);
    assert.equal(dag.running, false);
    // A later change shows as the status again, not as what the last run did.
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), YAML.replace('echo made', 'echo remade'));
    await model.refresh();
    assert.deepEqual(model.stages.map((s) => s.shown), ['changed', 'changed']);
  });

  it('a failed stage shows as failed until it is up to date; a broken mlops.yaml shows its problems with lines', async () => {
    const ws = tmpWorkspace();
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'stages:\n  bad:\n    cmd: exit 4\n');
    const model = new PipelineModel(ws.root);
    await runPipeline(ws.root);
    await model.refresh();
    assert.equal(model.stages[0].shown, 'failed');
    assert.match(model.stages[0].why[0], /Stage "bad" failed: its command exited with code 4/);
    fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), 'stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n');
    await model.refresh();
    assert.deepEqual(model.stages, []);
    assert.match(model.dagData().error!, /mlops.yaml:7: Stages "a" \(line 2\) and "b" \(line 5\) both claim the out "o"/);
  });
});
