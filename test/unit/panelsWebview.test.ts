// The pure logic the panels' browser code runs: the runs table's columns,
// sorting, grouping and CSV; the curves' smoothing and hover read-out; the
// parameter diff and parallel-coordinates axes.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toWire } from '../../src/protocol/common';
import type { CompareRun, Series } from '../../src/protocol/compare';
import type { RunRow } from '../../src/protocol/runsTable';
import { compactStep, digitsToTellApart, forLogScale, formatX, hoverLines, nearest, seriesPoints, smoothedPoints } from '../../webview/compare/curves';
import { defaultScatterX, fieldsOf, fieldValue, normalized, paramDiff, paramDiffCsv, parallelDimensions } from '../../webview/compare/runsData';
import { assignSlots, colorSlot } from '../../webview/common/runColors';
import {
  buildItems, DEFAULT_LAYOUT, moveColumn, RunStore, setPinned, setVisible, shiftColumn, sortRows, tableCsv, visibleColumns,
} from '../../webview/runs/model';

const T0 = 1_700_000_000_000;

function row(id: string, name: string, over: Partial<RunRow> = {}): RunRow {
  return { id, name, experiment: 'Default', status: 'FINISHED', source: 'script', start: T0, end: T0 + 61_000, params: [], metrics: [], ...over };
}

function store(): RunStore {
  const s = new RunStore();
  s.load({
    paramKeys: ['lr', 'optimizer'],
    metricKeys: ['val_accuracy', 'loss'],
    rows: [
      row('a', 'alpha', { params: ['0.1', 'adam'], metrics: [0.91, 0.5, 0.93, 0.2, 0.19, 2] }),
      row('b', 'beta', { params: ['0.01', 'sgd'], metrics: [0.95, 0.4, 0.96], experiment: 'exp2' }),
      row('c', 'gamma, "the third"', { params: ['1e-3'], metrics: ['NaN', null, null, 0.5, 0.5, 0.5], status: 'FAILED' }),
      row('d', 'delta', { params: [null, 'adam'], metrics: [], status: 'RUNNING', end: null }),
    ],
  });
  return s;
}

describe('runs table model', () => {
  it('makes a column per attribute, per param and per metric (latest shown; min/max and id hidden by default)', () => {
    const s = store();
    const visible = visibleColumns(s.columns, DEFAULT_LAYOUT).map((c) => c.label);
    assert.deepEqual(visible, ['Name', 'Experiment', 'Status', 'Start', 'Duration', 'Source', 'lr', 'optimizer', 'val_accuracy', 'loss']);
    const withMin = setVisible(DEFAULT_LAYOUT, s.columns.find((c) => c.id === 'metric.min:loss')!, true);
    assert.ok(visibleColumns(s.columns, withMin).some((c) => c.label === 'loss (min)'));
  });

  it('hides, reorders and pins columns; pinned columns come first', () => {
    const s = store();
    let layout = setVisible(DEFAULT_LAYOUT, s.columns.find((c) => c.id === 'attr:source')!, false);
    layout = moveColumn(s.columns, layout, 'metric:loss', 'attr:experiment');
    layout = setPinned(layout, 'metric:val_accuracy', true);
    const ids = visibleColumns(s.columns, layout).map((c) => c.id);
    assert.deepEqual(ids.slice(0, 4), ['attr:name', 'metric:val_accuracy', 'metric:loss', 'attr:experiment']);
    assert.ok(!ids.includes('attr:source'));
    const shifted = visibleColumns(s.columns, shiftColumn(s.columns, layout, 'attr:experiment', -1)).map((c) => c.id);
    assert.deepEqual(shifted.slice(0, 4), ['attr:name', 'metric:val_accuracy', 'attr:experiment', 'metric:loss']);
  });

  it('sorts numbers numerically (params too), text case-insensitively, missing and NaN last both ways', () => {
    const s = store();
    const rows = [...s.rows.values()];
    const col = (id: string) => s.columns.find((c) => c.id === id)!;
    assert.deepEqual(sortRows(rows, col('metric:val_accuracy'), false, T0).map((r) => r.id), ['a', 'b', 'c', 'd']);
    assert.deepEqual(sortRows(rows, col('metric:val_accuracy'), true, T0).map((r) => r.id), ['b', 'a', 'c', 'd']);
    assert.deepEqual(sortRows(rows, col('param:lr'), false, T0).map((r) => r.id), ['c', 'b', 'a', 'd'], '1e-3 < 0.01 < 0.1');
    assert.deepEqual(sortRows(rows, col('attr:name'), false, T0).map((r) => r.id), ['a', 'b', 'd', 'c']);
  });

  it('filters by the host\'s match set, groups by experiment or a param, collapses groups', () => {
    const s = store();
    const all = buildItems(s, null, { column: 'attr:name', descending: false }, 'param:optimizer', new Set(), T0);
    assert.deepEqual(all.items.map((i) => (i.type === 'group' ? `[${i.label} ${i.count}]` : i.row.id)), ['[params.optimizer: (none) 1]', 'c', '[params.optimizer: adam 2]', 'a', 'd', '[params.optimizer: sgd 1]', 'b']);
    const collapsed = buildItems(s, new Set(['a', 'b']), null, 'experiment', new Set(['Default']), T0);
    assert.deepEqual(collapsed.items.map((i) => (i.type === 'group' ? `[${i.key} ${i.count}${i.collapsed ? ' collapsed' : ''}]` : i.row.id)), ['[Default 1 collapsed]', '[exp2 1]', 'b']);
    assert.deepEqual(collapsed.shown.map((r) => r.id), ['a', 'b'], 'a collapsed group still counts as shown (for CSV and compare)');
  });

  it('applies deltas: new keys, changed and removed runs', () => {
    const s = store();
    s.apply({ paramKeys: ['lr', 'optimizer', 'epochs'], metricKeys: ['val_accuracy', 'loss'], upserts: [row('e', 'eps', { params: [null, null, '30'] })], removed: ['b'] });
    assert.ok(!s.rows.has('b'));
    assert.ok(s.columns.some((c) => c.id === 'param:epochs'));
    assert.equal(s.rows.get('e')!.params[2], '30');
  });

  it('exports the visible table as CSV: quoted where needed, full precision, NaN as NaN', () => {
    const s = store();
    const cols = visibleColumns(s.columns, DEFAULT_LAYOUT).filter((c) => ['attr:name', 'param:lr', 'metric:val_accuracy', 'attr:duration'].includes(c.id));
    const csv = tableCsv(sortRows([...s.rows.values()], s.columns.find((c) => c.id === 'attr:name'), false, T0), cols, T0 + 61_000);
    assert.equal(csv, ['run_name,duration,params.lr,metrics.val_accuracy', 'alpha,61,0.1,0.91', 'beta,61,0.01,0.95', 'delta,61,,', '"gamma, ""the third""",61,1e-3,NaN', ''].join('\n'));
  });
});

function series(runId: string, values: number[], steps = values.map((_, i) => i)): Series {
  return { runId, steps, times: steps.map((s) => T0 + 5_000 + s * 1000), values, total: values.length, nonFinite: 0, downsampled: false };
}

describe('curves', () => {
  it('places points by step, wall time or seconds since the run started', () => {
    const s = series('a', [3, 2, 1], [0, 10, 20]);
    assert.deepEqual(seriesPoints(s, 'step', T0).map((p) => p.x), [0, 10, 20]);
    assert.deepEqual(seriesPoints(s, 'time', T0).map((p) => p.x), [T0 + 5000, T0 + 15_000, T0 + 25_000]);
    assert.deepEqual(seriesPoints(s, 'relative', T0).map((p) => p.x), [5, 15, 25]);
    assert.deepEqual(seriesPoints(s, 'relative', null).map((p) => p.x), [0, 10, 20], 'no start time: from the first point');
    assert.deepEqual(seriesPoints(series('b', [1, 2], [5, 1]), 'step', T0).map((p) => p.x), [1, 5], 'sorted by x');
  });

  it('a log scale drops the points it cannot draw and counts them', () => {
    const { points, dropped } = forLogScale([{ x: 0, y: 1 }, { x: 1, y: 0 }, { x: 2, y: -1 }, { x: 3, y: 0.5 }]);
    assert.deepEqual(points.map((p) => p.x), [0, 3]);
    assert.equal(dropped, 2);
  });

  it('the hover read-out lists every run\'s value at x, highest first', () => {
    const a = seriesPoints(series('a', [0.5, 0.7, 0.9]), 'step', T0);
    const b = seriesPoints(series('b', [0.6, 0.8], [0, 2]), 'step', T0);
    assert.deepEqual(nearest(b, 1.2), { x: 2, y: 0.8 });
    assert.deepEqual(hoverLines([{ name: 'run a', points: a }, { name: 'run b', points: b }, { name: 'empty', points: [] }], 1, 'step'), [
      'step 1',
      'run a: 0.7',
      'run b: 0.6 (at step 0)',
    ]);
  });

  it('when smoothing, the hover shows each run\'s smoothed value beside the raw one, ranked by the smoothed', () => {
    const a = seriesPoints({ ...series('a', [0.5, 0.9]), smoothed: [0.5, 0.6] }, 'step', T0);
    const b = seriesPoints({ ...series('b', [0.7, 0.7]), smoothed: [0.7, 0.7] }, 'step', T0);
    assert.deepEqual(smoothedPoints(a), [{ x: 0, y: 0.5 }, { x: 1, y: 0.6 }]);
    assert.deepEqual(hoverLines([{ name: 'a', points: a }, { name: 'b', points: b }], 1, 'step'), ['step 1', 'b: smoothed 0.7, raw 0.7', 'a: smoothed 0.6, raw 0.9']);
  });

  it('steps read in full with thousands separators in the hover, compact only on ticks', () => {
    assert.equal(formatX(123_450, 'step'), 'step 123,450');
    assert.equal(formatX(150_000.4, 'step'), 'step 150,000', 'a hover between steps reads the nearest');
    assert.equal(formatX(2.5, 'step'), 'step 2.5');
    assert.deepEqual([100_000, 150_000, 1_250_000, 2e9, 50_000].map(compactStep), ['100k', '150k', '1.25M', '2G', '50,000']);
    const far = seriesPoints(series('a', [1, 2], [149_990, 150_010]), 'step', T0);
    assert.deepEqual(hoverLines([{ name: 'a', points: far }], 150_000, 'step'), ['step 150,000', 'a: 1 (at step 149,990)']);
  });

  it('the legend shows enough digits to tell the runs apart', () => {
    assert.equal(digitsToTellApart([0.98766, 0.98774]), 5);
    assert.equal(digitsToTellApart([0.9, 0.5]), 4, 'never fewer than 4');
    assert.equal(digitsToTellApart([0.123456789, 0.123456781, 0.123456789]), 8, 'equal values need not differ');
    assert.equal(digitsToTellApart([]), 4);
  });
});

function compareRun(id: string, params: Record<string, string>, acc: number | null): CompareRun {
  return {
    id, name: `run-${id}`, experiment: 'Default', status: 'FINISHED', source: 'script', start: T0, end: T0 + 1000, params,
    metrics: acc === null ? {} : { acc: { latest: toWire(acc), min: toWire(acc / 2), max: toWire(acc), step: 9, count: 10 } },
  };
}

describe('parameter diff, parallel coordinates and scatter fields', () => {
  const runs = [compareRun('1', { lr: '0.1', opt: 'adam', epochs: '30' }, 0.9), compareRun('2', { lr: '0.01', opt: 'sgd', epochs: '30' }, 0.95), compareRun('3', { lr: '0.001', epochs: '30' }, null)];

  it('marks the params that differ, a missing one included', () => {
    assert.deepEqual(paramDiff(runs), [
      { key: 'epochs', values: ['30', '30', '30'], differs: false },
      { key: 'lr', values: ['0.1', '0.01', '0.001'], differs: true },
      { key: 'opt', values: ['adam', 'sgd', ''], differs: true },
    ]);
    assert.equal(paramDiff([runs[0]])[1].differs, false, 'one run: nothing differs');
    assert.equal(paramDiffCsv(runs, true), 'param,run-1,run-2,run-3\nlr,0.1,0.01,0.001\nopt,adam,sgd,\n');
  });

  it('parallel coordinates: the differing params, then the chosen metric; numbers scaled, categories spread', () => {
    const fields = fieldsOf(runs, ['acc']);
    const dims = parallelDimensions(runs, fields, 'acc');
    assert.deepEqual(dims.map((d) => d.field.label), ['params.lr', 'params.opt', 'metrics.acc']);
    assert.deepEqual([dims[0].min, dims[0].max], [0.001, 0.1]);
    assert.equal(normalized(runs[0], dims[0]), 1);
    assert.equal(normalized(runs[2], dims[0]), 0);
    assert.deepEqual(dims[1].field.categories, ['adam', 'sgd']);
    assert.equal(normalized(runs[1], dims[1]), 1);
    assert.equal(normalized(runs[2], dims[1]), undefined, 'no value: a gap, not a zero');
    assert.equal(normalized(runs[2], dims[2]), undefined);
    assert.equal(fieldValue(runs[0], fields.find((f) => f.id === 'metric.min:acc')!), 0.45);
  });

  it('the scatter plots a param that differs between the runs by default', () => {
    // "batch" sorts first and is numeric, but the same in every run.
    const same = runs.map((r) => ({ ...r, params: { ...r.params, batch: '32' } }));
    assert.equal(defaultScatterX(same, fieldsOf(same, ['acc']))?.id, 'param:lr');
    const onlyText = runs.map((r) => ({ ...r, params: { batch: '32', opt: r.params.opt ?? 'none' } }));
    assert.equal(defaultScatterX(onlyText, fieldsOf(onlyText, ['acc']))?.id, 'param:opt', 'a differing category over a constant number');
    const none = runs.map((r) => ({ ...r, params: { batch: '32' } }));
    assert.equal(defaultScatterX(none, fieldsOf(none, ['acc']))?.id, 'param:batch', 'nothing differs: a numeric param');
  });
});

describe('run colours', () => {
  const ids = Array.from({ length: 100 }, (_, i) => `${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}${'0'.repeat(24)}`);

  it('come from the run id, not the position in the selection', () => {
    const forward = assignSlots(ids.slice(0, 5));
    const backward = assignSlots(ids.slice(0, 5).reverse());
    for (const id of ids.slice(0, 5)) assert.equal(forward.get(id), backward.get(id));
    assert.equal(colorSlot(ids[0]), colorSlot(ids[0]));
    // A run keeps its own colour among others, unless another shown run has the same one.
    for (const id of ids.slice(0, 5)) {
      if (ids.slice(0, 5).filter((other) => colorSlot(other) === colorSlot(id)).length === 1) assert.equal(forward.get(id), colorSlot(id));
    }
  });

  it('runs shown together never share a colour (100 runs)', () => {
    const slots = assignSlots(ids);
    assert.equal(new Set(slots.values()).size, 100);
    // Two ids with the same colour: the larger one moves to the next free one, in either order.
    let k = 0;
    while (colorSlot(`x${k}`) !== colorSlot('run-a')) k++;
    const pair = assignSlots([`x${k}`, 'run-a']);
    assert.equal(pair.get('run-a'), colorSlot('run-a'));
    assert.notEqual(pair.get(`x${k}`), pair.get('run-a'));
    assert.deepEqual(assignSlots(['run-a', `x${k}`]), pair);
  });
});
