// mlops.yaml's objectives where a data scientist looks: a ✓/✗ per run in the
// runs table, the first objective as the comparison's metric, and its target as
// a goal line there. On real Tracking workspaces and the panels' own code.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { NewRunEvent } from '../../src/core/tracking/events';
import { compileRunQuery } from '../../src/core/tracking/runQuery';
import { Tracking } from '../../src/core/tracking/tracking';
import { judgeObjectives, meetsTarget, readObjectivesOrNone, type Objective } from '../../src/core/workspace/objectives';
import { CompareModel } from '../../src/extension/panels/compareModel';
import { RunsTableModel } from '../../src/extension/panels/runsTableModel';
import { defaultMetric } from '../../src/protocol/compare';
import { goalLabel, targetOf } from '../../webview/compare/goalLine';
import { RunStore, visibleColumns, DEFAULT_LAYOUT, cellText } from '../../webview/runs/model';
import { tmpWorkspace, writeRun } from './helpers';

const T0 = 1_700_000_000_000;
const metric = (key: string, value: number, step = 0): NewRunEvent => ({ type: 'metric', key, value, step, time: T0 + 1000 + step });

async function workspace(yaml: string) {
  const layout = tmpWorkspace();
  fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), yaml);
  const good = writeRun(layout, [metric('loss', 0.3), metric('val_accuracy', 0.97), metric('p99_latency_ms', 12)]);
  const slow = writeRun(layout, [metric('loss', 0.2), metric('val_accuracy', 0.96), metric('p99_latency_ms', 35)]);
  const weak = writeRun(layout, [metric('loss', 0.9), metric('val_accuracy', 0.61, 0), metric('val_accuracy', 0.8, 1)]);
  const tracking = await Tracking.open(layout.root);
  return { layout, tracking, good, slow, weak };
}

const KPIS = 'objectives:\n  val_accuracy: {goal: maximize, target: 0.95}\n  p99_latency_ms: {goal: minimize, target: 20}\n';

describe('objectives', () => {
  it('judge the latest value against the target in the goal\'s direction', () => {
    const max = { metric: 'acc', goal: 'maximize' as const, target: 0.9 };
    const min = { metric: 'ms', goal: 'minimize' as const, target: 20 };
    assert.equal(meetsTarget(max, 0.9), true);
    assert.equal(meetsTarget(max, 0.89), false);
    assert.equal(meetsTarget(min, 19), true);
    assert.equal(meetsTarget(min, 21), false);
    assert.equal(meetsTarget(min, Number.NaN), undefined, 'NaN is not judged');
    assert.equal(meetsTarget({ metric: 'acc', goal: 'maximize' }, 0.5), undefined, 'no target, no verdict');
    const objectives = new Map<string, Objective>([['acc', max], ['ms', min]]);
    assert.deepEqual(judgeObjectives(objectives, (k) => ({ acc: 0.95, ms: 30 })[k]), { met: false, missed: ['ms'], judged: 2 });
    assert.equal(judgeObjectives(objectives, () => undefined), undefined, 'a run without those metrics is not judged');
  });

  it('a broken objectives block shows none rather than breaking the views', () => {
    const layout = tmpWorkspace();
    fs.writeFileSync(path.join(layout.root, 'mlops.yaml'), 'objectives:\n  val_accuracy: {goal: up}\n');
    assert.equal(readObjectivesOrNone(layout.root).size, 0);
  });

  it('the runs table gets a ✓/✗ per run and an Objectives column', async () => {
    const { tracking, good, slow, weak } = await workspace(KPIS);
    const data = new RunsTableModel(() => tracking, compileRunQuery).load();
    const verdicts = Object.fromEntries(data.rows.map((r) => [r.id, r.objectives]));
    assert.deepEqual(verdicts, { [good]: '✓', [slow]: '✗ p99_latency_ms', [weak]: '✗ val_accuracy' });
    const store = new RunStore();
    store.load(data);
    const columns = visibleColumns(store.columns, DEFAULT_LAYOUT);
    const col = columns.find((c) => c.label === 'Objectives');
    assert.ok(col, 'the Objectives column is shown');
    assert.equal(cellText(store.rows.get(slow)!, col, T0), '✗ p99_latency_ms');
    tracking.close();
  });

  it('no objectives: no column, no verdicts', async () => {
    const { tracking } = await workspace('data: [data/]\n');
    const data = new RunsTableModel(() => tracking, compileRunQuery).load();
    assert.equal(data.hasObjectives, undefined);
    assert.ok(data.rows.every((r) => r.objectives === undefined));
    const store = new RunStore();
    store.load(data);
    assert.ok(!store.columns.some((c) => c.label === 'Objectives'));
    tracking.close();
  });

  it('the comparison opens on the first objective and draws its target', async () => {
    const { tracking, good, weak } = await workspace(KPIS);
    const data = new CompareModel(() => tracking, [good, weak]).load();
    assert.deepEqual(data.objectives, [
      { metric: 'val_accuracy', goal: 'maximize', target: 0.95 },
      { metric: 'p99_latency_ms', goal: 'minimize', target: 20 },
    ]);
    assert.equal(data.metricKeys[0], 'loss', 'loss was logged first…');
    assert.equal(defaultMetric(data.metricKeys, data.objectives), 'val_accuracy', '…but the panel opens on the KPI');
    const goal = targetOf('p99_latency_ms', data.objectives)!;
    assert.equal(goalLabel(goal), 'target 20 (lower is better)');
    assert.equal(targetOf('loss', data.objectives), undefined);
    tracking.close();
  });
});
