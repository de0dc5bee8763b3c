// The panels' data on the extension side, on a real Tracking over event logs:
// the runs table's rows, deltas and filter; the comparison's curves, zoom
// detail, CSV and live updates (a run deleted while shown included).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { fromWire } from '../../src/protocol/common';
import { appendEvents } from '../../src/core/tracking/eventWriter';
import type { NewRunEvent } from '../../src/core/tracking/events';
import { compileRunQuery } from '../../src/core/tracking/runQuery';
import { Tracking } from '../../src/core/tracking/tracking';
import { CompareModel } from '../../src/extension/panels/compareModel';
import { RunsTableModel } from '../../src/extension/panels/runsTableModel';
import { tmpWorkspace, writeRun } from './helpers';

const T0 = 1_700_000_000_000;

function curve(key: string, n: number, f: (i: number) => number): NewRunEvent[] {
  return Array.from({ length: n }, (_, i) => ({ type: 'metric', key, value: f(i), step: i, time: T0 + 1000 + i * 100 }) as NewRunEvent);
}

async function workspace() {
  const layout = tmpWorkspace();
  const a = writeRun(layout, [
    { type: 'param', key: 'lr', value: '0.1' },
    { type: 'param', key: 'optimizer', value: 'adam' },
    ...curve('val_accuracy', 50, (i) => 0.5 + i / 100),
    ...curve('loss', 50, (i) => 1 / (i + 1)),
    { type: 'run_end', status: 'FINISHED', exit_code: 0, time: T0 + 9000 },
  ]);
  const b = writeRun(layout, [
    { type: 'param', key: 'lr', value: '0.01' },
    { type: 'param', key: 'optimizer', value: 'sgd' },
    { type: 'tag', key: 'team', value: 'vision' },
    ...curve('val_accuracy', 5000, (i) => 0.6 + 0.35 * (1 - Math.exp(-i / 500))),
    { type: 'metric', key: 'val_accuracy', value: 'NaN', step: 5000, time: T0 + 1000 + 5000 * 100 },
    { type: 'run_end', status: 'KILLED', exit_code: null, time: T0 + 9000 },
  ]);
  const tracking = await Tracking.open(layout.root);
  return { layout, tracking, a, b };
}

describe('runs table data (extension side)', () => {
  it('sends every run as a row with its params and latest/min/max metrics', async () => {
    const { tracking, a, b } = await workspace();
    const model = new RunsTableModel(() => tracking, compileRunQuery);
    const data = model.load();
    assert.deepEqual(data.paramKeys.sort(), ['lr', 'optimizer']);
    assert.deepEqual([...data.metricKeys].sort(), ['loss', 'val_accuracy']);
    const rowA = data.rows.find((r) => r.id === a)!;
    assert.equal(rowA.status, 'FINISHED');
    assert.equal(rowA.params[data.paramKeys.indexOf('lr')], '0.1');
    const acc = data.metricKeys.indexOf('val_accuracy') * 3;
    assert.deepEqual(rowA.metrics.slice(acc, acc + 3), [0.99, 0.5, 0.99]);
    const rowB = data.rows.find((r) => r.id === b)!;
    assert.equal(rowB.metrics[acc], 'NaN', 'a NaN latest value travels as "NaN"');
    assert.ok(Number.isNaN(fromWire(rowB.metrics[acc])));
    assert.ok((rowB.metrics[acc + 2] as number) > 0.94);
    tracking.close();
  });

  it('filters with MLflow syntax, and a bad query gets a message that says where', async () => {
    const { tracking, a, b } = await workspace();
    const model = new RunsTableModel(() => tracking, compileRunQuery);
    model.load();
    assert.deepEqual(model.setFilter("metrics.val_accuracy > 0.9 and status = 'FINISHED'"), { ok: true, query: "metrics.val_accuracy > 0.9 and status = 'FINISHED'", matching: [a] });
    assert.deepEqual(model.setFilter("params.optimizer = 'sgd' and tags.team = 'vision'"), { ok: true, query: "params.optimizer = 'sgd' and tags.team = 'vision'", matching: [b] });
    const bad = model.setFilter('metrics.val_accuracy >> 0.9');
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /metrics?|val_accuracy/);
    assert.match((bad as { error: string }).error, /character \d+/);
    assert.equal(model.filterQuery, "params.optimizer = 'sgd' and tags.team = 'vision'", 'a bad query keeps the last good one');
    assert.deepEqual(model.setFilter('   '), { ok: true, query: '', matching: null });
    tracking.close();
  });

  it('sends deltas: a new run (matched against the filter), a renamed one, a deleted one; nothing when nothing changed', async () => {
    const { layout, tracking, a, b } = await workspace();
    const model = new RunsTableModel(() => tracking, compileRunQuery);
    model.load();
    model.setFilter("params.optimizer = 'adam'");
    assert.equal(model.refresh(), undefined);
    const c = writeRun(layout, [{ type: 'param', key: 'optimizer', value: 'adam' }, { type: 'param', key: 'epochs', value: '3' }, ...curve('f1', 3, (i) => i)]);
    tracking.renameRun(a, 'renamed');
    tracking.deleteRun(b);
    tracking.refresh();
    const delta = model.refresh()!;
    assert.deepEqual(delta.upserts.map((r) => r.id).sort(), [a, c].sort());
    assert.equal(delta.upserts.find((r) => r.id === a)!.name, 'renamed');
    assert.deepEqual(delta.removed, [b]);
    assert.ok(delta.paramKeys.includes('epochs') && delta.metricKeys.includes('f1'));
    assert.equal(delta.filter?.query, "params.optimizer = 'adam'");
    assert.deepEqual([...delta.filter!.matching].sort(), [a, c].sort(), 'both upserted runs use adam');
    // The RUNNING run is sent again while it runs (its metrics move).
    appendEvents(layout.eventsFile(c), curve('f1', 1, () => 9));
    tracking.refresh();
    assert.deepEqual(model.refresh()!.upserts.map((r) => r.id), [c]);
    tracking.close();
  });
});

describe('comparison data (extension side)', () => {
  it('loads the chosen runs; a deleted one is reported missing', async () => {
    const { tracking, a, b } = await workspace();
    const model = new CompareModel(() => tracking, [a, b, 'f'.repeat(32)]);
    const data = model.load();
    assert.deepEqual(data.runs.map((r) => r.id), [a, b]);
    assert.deepEqual(data.missing, ['f'.repeat(32)]);
    assert.deepEqual(data.metricKeys.sort(), ['loss', 'val_accuracy']);
    assert.deepEqual(data.runs[1].params, { lr: '0.01', optimizer: 'sgd' });
    assert.equal(data.runs[0].metrics.loss.count, 50);
    assert.deepEqual(model.runIds, [a, b], 'the deleted run leaves the set');
    tracking.close();
  });

  it('downsamples long curves (LTTB, min/max kept), drops NaN points, and zoom fetches the detail', async () => {
    const { tracking, a, b } = await workspace();
    const model = new CompareModel(() => tracking, [a, b]);
    model.load();
    const { series } = model.series({ metric: 'val_accuracy', maxPoints: 300 });
    const sa = series.find((s) => s.runId === a)!, sb = series.find((s) => s.runId === b)!;
    assert.equal(sa.values.length, 50);
    assert.equal(sa.downsampled, false);
    assert.ok(sb.values.length <= 300 && sb.values.length > 250);
    assert.equal(sb.downsampled, true);
    assert.equal(sb.total, 5001);
    assert.equal(sb.nonFinite, 1);
    assert.equal(sb.steps[0], 0);
    assert.equal(sb.steps[sb.steps.length - 1], 4999);
    assert.equal(Math.max(...sb.values), 0.6 + 0.35 * (1 - Math.exp(-4999 / 500)), 'the maximum is kept');
    const zoom = model.series({ metric: 'val_accuracy', runIds: [b], maxPoints: 300, range: { axis: 'step', min: 1000, max: 1100 } });
    assert.equal(zoom.series.length, 1);
    assert.deepEqual([zoom.series[0].steps[0], zoom.series[0].steps.at(-1), zoom.series[0].values.length], [999, 1101, 103], 'every point of the range');
    const relative = model.series({ metric: 'loss', maxPoints: 300, range: { axis: 'relative', min: 1, max: 1.25 } });
    // Run a started at T0 (run_start), its points at T0 + 1000 + 100 i: 1.0–1.25 s are steps 0–2, plus the neighbour after.
    assert.deepEqual(relative.series[0].steps, [0, 1, 2, 3]);
    assert.throws(() => model.series({ metric: 'loss', maxPoints: 10, range: { axis: 'step', min: 5, max: 1 } }), /min <= max/);
    tracking.close();
  });

  it('exports every point of a metric as CSV (not downsampled)', async () => {
    const { tracking, a, b } = await workspace();
    const model = new CompareModel(() => tracking, [a, b]);
    model.load();
    const lines = model.csv('val_accuracy').trim().split('\n');
    assert.equal(lines[0], 'run_id,run_name,metric,step,timestamp_ms,value');
    assert.equal(lines.length, 1 + 50 + 5001);
    assert.equal(lines[1], `${a},run-${a.slice(0, 4)},val_accuracy,0,${T0 + 1000},0.5`);
    assert.equal(lines.at(-1), `${b},run-${b.slice(0, 4)},val_accuracy,5000,${T0 + 1000 + 500_000},NaN`);
    tracking.close();
  });

  it('CSV keeps the sign of -0', async () => {
    const layout = tmpWorkspace();
    const id = writeRun(layout, curve('delta', 1, () => 0));
    // As the Python client writes it (json.dumps(-0.0)): JSON.stringify would write 0.
    fs.appendFileSync(layout.eventsFile(id), `{"type":"metric","key":"delta","value":-0.0,"step":1,"time":${T0 + 2000}}\n`);
    const tracking = await Tracking.open(layout.root);
    const model = new CompareModel(() => tracking, [id]);
    model.load();
    assert.deepEqual(model.csv('delta').trim().split('\n').slice(1).map((l) => l.split(',').at(-1)), ['0', '-0']);
    tracking.close();
  });

  it('smooths each run\'s whole history before downsampling: zoomed and whole curves agree at a step', async () => {
    const { tracking, b } = await workspace();
    const model = new CompareModel(() => tracking, [b]);
    model.load();
    const whole = model.series({ metric: 'val_accuracy', maxPoints: 100, smoothing: 0.99 }).series[0];
    const zoom = model.series({ metric: 'val_accuracy', maxPoints: 100, smoothing: 0.99, range: { axis: 'step', min: 2000, max: 2050 } }).series[0];
    assert.equal(whole.smoothed!.length, whole.values.length);
    const k = zoom.steps.indexOf(whole.steps.find((st) => st >= 2000 && st <= 2050)!);
    const j = whole.steps.findIndex((st) => st === zoom.steps[k]);
    assert.ok(k >= 0 && j >= 0, 'a step both curves have');
    assert.equal(zoom.smoothed![k], whole.smoothed![j]);
    assert.ok(zoom.smoothed![k] < zoom.values[k], 'a rising curve smoothed lags below the raw value');
    assert.equal(model.series({ metric: 'val_accuracy', maxPoints: 100 }).series[0].smoothed, undefined);
    assert.throws(() => model.series({ metric: 'val_accuracy', maxPoints: 100, smoothing: 1.5 }), /smoothing/);
    tracking.close();
  });

  it('sends the curves the panel draws first with the runs: its metric, points for its width, its smoothing', async () => {
    const { tracking, a, b } = await workspace();
    const model = new CompareModel(() => tracking, [a, b]);
    const data = model.load({ metric: 'val_accuracy', chartWidth: 300, smoothing: 0.5 });
    assert.equal(data.curves!.metric, 'val_accuracy');
    assert.deepEqual(data.curves!.series.map((s) => s.runId), [a, b]);
    const sb = data.curves!.series.find((s) => s.runId === b)!;
    assert.ok(sb.values.length <= 300 && sb.values.length > 250, 'about one point per pixel of the chart');
    assert.ok(sb.smoothed, 'smoothed as asked');
    const other = model.load({ metric: 'gone', chartWidth: 800 });
    assert.equal(other.curves!.metric, other.metricKeys[0], 'a metric the runs no longer have: the first key');
    assert.equal(model.load({ metric: 'loss', chartWidth: 800, smoothing: 2 }).curves, undefined, 'a bad weight: the panel asks, and gets the error then');
    assert.equal(model.load().curves, undefined, 'a reset sends no curves');
    tracking.close();
  });

  it('curves prepared before the panel asks are sent only while they are still true (a live run\'s new points are in)', async () => {
    const { layout, tracking, a } = await workspace();
    const live = writeRun(layout, curve('loss', 3, (i) => 1 - i / 10));
    tracking.refresh();
    const model = new CompareModel(() => tracking, [a, live]);
    model.prepare();
    appendEvents(layout.eventsFile(live), curve('loss', 4, (i) => 0.5 - i / 100).map((e) => ({ ...e, step: (e as { step: number }).step + 3 }) as NewRunEvent));
    tracking.refresh();
    const curves = model.load({ metric: 'loss', chartWidth: 1000 }).curves!;
    assert.equal(curves.series.find((s) => s.runId === live)!.values.length, 7);
    tracking.close();
  });

  it('updates live: new points of an active run, and a run deleted while shown', async () => {
    const { layout, tracking, a } = await workspace();
    const live = writeRun(layout, curve('loss', 3, (i) => 1 - i / 10));
    tracking.refresh();
    const model = new CompareModel(() => tracking, [a, live]);
    model.load();
    assert.equal(model.update(), undefined, 'nothing changed');
    appendEvents(layout.eventsFile(live), curve('loss', 5, (i) => 0.5 - i / 100).map((e) => ({ ...e, step: (e as { step: number }).step + 3 }) as NewRunEvent));
    tracking.refresh();
    const update = model.update()!;
    assert.deepEqual(update.runs.map((r) => r.id), [live]);
    assert.equal(update.runs[0].metrics.loss.count, 8);
    assert.deepEqual(update.removed, []);
    tracking.deleteRun(a);
    const gone = model.update()!;
    assert.deepEqual(gone.removed, [{ id: a, name: `run-${a.slice(0, 4)}` }]);
    assert.deepEqual(model.runIds, [live]);
    assert.deepEqual(model.series({ metric: 'loss', maxPoints: 100 }).series.map((s) => s.runId), [live]);
    tracking.close();
  });
});
