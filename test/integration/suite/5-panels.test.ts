// The runs table and the comparison panel in the real extension host, on the
// workspace's real runs (the quickstart `train` run FINISHED and the KILLED
// `sleep_train` run left by 2-tracking, plus runs written here as event logs):
// checked through the panels' messages and, under the code-server runner,
// through the rendered page inside the webview frames (with screenshots).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { NewRunEvent } from '../../../src/core/tracking/events';
import { appendEvents, newRunId } from '../../../src/core/tracking/eventWriter';
import type { MlopsApi } from '../../../src/extension/extension';
import type { ComparePanel } from '../../../src/extension/panels/comparePanel';
import type { RunsTablePanel } from '../../../src/extension/panels/runsTablePanel';
import type { RunsNode } from '../../../src/extension/runs/runsTree';
import { requestUi, skipUnlessUi, uiAvailable } from './uiBridge';
import { api, waitFor } from './workbench';

const T0 = Date.now() - 3_600_000;

/** Writes a run's event log as a tracked script would (docs/event-log.md); returns its id. */
function writeRun(mlops: MlopsApi, name: string, events: NewRunEvent[], end?: 'FINISHED' | 'FAILED'): string {
  const layout = mlops.service.current!.layout;
  const id = newRunId();
  fs.mkdirSync(layout.runDir(id), { recursive: true });
  appendEvents(layout.eventsFile(id), [
    { type: 'run_start', schema: 1, run_id: id, name, experiment: 'sweep', source: 'python', time: T0 },
    ...events,
    ...(end ? [{ type: 'run_end', status: end, exit_code: end === 'FINISHED' ? 0 : 1, time: T0 + 600_000 } as NewRunEvent] : []),
  ]);
  return id;
}

function curve(key: string, from: number, to: number, f: (i: number) => number): NewRunEvent[] {
  const out: NewRunEvent[] = [];
  for (let i = from; i < to; i++) out.push({ type: 'metric', key, value: f(i), step: i, time: T0 + 1000 + i * 100 });
  return out;
}

const accA = (i: number) => 0.6 + 0.3 * (1 - Math.exp(-i / 40));
const accB = (i: number) => 0.5 + 0.45 * (1 - Math.exp(-i / 800));

describe('runs table and comparison panels', function () {
  this.timeout(120_000);
  let trainId: string;
  let sleepId: string;
  let sweepA: string;
  let sweepB: string;
  let live: string;
  let table: RunsTablePanel;
  let compare: ComparePanel;
  const saved = path.join(process.env.MLOPS_TEST_WORKSPACE ?? require('os').tmpdir(), 'exports');

  before(async () => {
    const mlops = await api();
    const tracking = mlops.service.current!;
    tracking.refresh();
    const runs = tracking.listRuns();
    trainId = runs.find((r) => /^train-\d+$/.test(r.name) && r.status === 'FINISHED')!.id;
    sleepId = runs.find((r) => /^sleep_train-\d+$/.test(r.name) && r.status === 'KILLED')!.id;
    assert.ok(trainId && sleepId, 'the tracking suite left a FINISHED train run and a KILLED sleep_train run');
    sweepA = writeRun(mlops, 'sweep-a', [{ type: 'param', key: 'lr', value: '0.05' }, { type: 'param', key: 'epochs', value: '30' }, ...curve('val_accuracy', 0, 200, accA)], 'FINISHED');
    sweepB = writeRun(mlops, 'sweep-b', [{ type: 'param', key: 'lr', value: '0.001' }, { type: 'param', key: 'epochs', value: '30' }, ...curve('val_accuracy', 0, 4000, accB)], 'FINISHED');
    mlops.service.refresh();
    fs.mkdirSync(saved, { recursive: true });
    mlops.panels.chooseSavePath = async (name) => path.join(saved, name);
  });

  after(() => {
    for (const p of [compare, table]) p?.dispose();
  });

  it('"Open Runs Table" shows every run as a row with its params and latest metrics (through the messages)', async () => {
    const mlops = await api();
    table = (await vscode.commands.executeCommand<RunsTablePanel>('mlops.openRunsTable'))!;
    assert.ok(table, 'the command returns the panel');
    const tracking = mlops.service.current!;
    const all = tracking.listRuns().map((r) => r.id);
    const inspection = await waitFor('the table to load', async () => {
      const i = await table.inspect();
      return i.totalRuns === all.length ? i : undefined;
    });
    assert.deepStrictEqual([...inspection.shownRunIds].sort(), [...all].sort());
    for (const h of ['Name', 'Experiment', 'Status', 'Start', 'Duration', 'Source', 'lr', 'epochs', 'val_accuracy', 'loss']) assert.ok(inspection.headers.includes(h), `column ${h}: ${inspection.headers.join(', ')}`);
    assert.ok(inspection.domRows < 100, 'virtualised: only the rows in view are in the DOM');
    const cell = (runId: string, header: string) => inspection.renderedRows.find((r) => r.runId === runId)!.cells[inspection.headers.indexOf(header)];
    const train = tracking.getRun(trainId)!;
    assert.match(cell(trainId, 'Name'), /^train-\d+$/);
    assert.strictEqual(cell(trainId, 'Status'), 'FINISHED');
    assert.strictEqual(cell(trainId, 'lr'), train.params.lr);
    const latest = train.metrics.find((m) => m.key === 'val_accuracy')!.latest;
    assert.strictEqual(Number(cell(trainId, 'val_accuracy')), Number(latest.toPrecision(6)));
    assert.strictEqual(cell(sleepId, 'Status'), 'KILLED');
    assert.strictEqual(cell(sweepA, 'lr'), '0.05');
    assert.strictEqual(Number(cell(sweepB, 'val_accuracy')), Number(accB(3999).toPrecision(6)));
    const methods = table.host.messages.map((m) => `${m.direction} ${m.kind} ${m.method ?? ''}`.trim());
    assert.ok(methods.includes('in ready'), 'the webview said ready');
    assert.ok(methods.includes('in request runs/load'), 'it asked for the rows');
  });

  it('the rendered table shows the rows (Playwright inside the webview) and a screenshot is saved', async function () {
    skipUnlessUi(this);
    table.reveal();
    const rows = await requestUi({ action: 'find', webview: true, selector: '.tr[data-run]', texts: ['train', 'sleep_train', 'sweep-a', 'sweep-b', 'FINISHED', 'KILLED', '0.05'] });
    assert.ok(rows.ok, `rows: ${JSON.stringify(rows.rowTexts)} ${rows.error ?? ''}`);
    const header = await requestUi({ action: 'find', webview: true, selector: '.th', texts: ['val_accuracy', 'lr'] });
    assert.ok(header.ok, `headers: ${JSON.stringify(header.rowTexts)}`);
    const shot = await requestUi({ action: 'screenshot', webview: true, element: 'body[data-panel="runsTable"] #app', screenshot: 'panel-runs-table.png' });
    assert.ok(shot.ok && fs.statSync(shot.screenshot!).size > 5000, `screenshot: ${shot.error ?? shot.screenshot}`);
  });

  it('filters with an MLflow query; a malformed query gets a clear message and the table stays usable', async () => {
    const query = "metrics.val_accuracy > 0.9 and params.epochs = '30' and status = 'FINISHED'";
    const result = await table.setFilter(query);
    assert.ok(result.ok, JSON.stringify(result));
    const tracking = (await api()).service.current!;
    const expected = tracking.listRuns().map((r) => tracking.getRun(r.id)!).filter((d) =>
      d.status === 'FINISHED' && d.params.epochs === '30' && (d.metrics.find((m) => m.key === 'val_accuracy')?.latest ?? 0) > 0.9).map((d) => d.id);
    assert.ok(expected.includes(sweepB) && !expected.includes(sweepA), 'sweep-b ends above 0.9, sweep-a below');
    let inspection = await table.inspect();
    assert.deepStrictEqual([...inspection.shownRunIds].sort(), [...expected].sort());
    const bad = await table.setFilter('metrics.val_accuracy >> 0.9');
    assert.strictEqual(bad.ok, false);
    assert.match((bad as { error: string }).error, /val_accuracy.*character \d+/);
    inspection = await table.inspect();
    assert.match(inspection.filterError ?? '', /Invalid filter/);
    assert.deepStrictEqual([...inspection.shownRunIds].sort(), [...expected].sort(), 'the last valid filter still applies');
    assert.ok((await table.setFilter('')).ok);
    assert.strictEqual((await table.inspect()).shownRunIds.length, inspection.totalRuns);
  });

  it('typing a malformed query in the page shows the message there', async function () {
    skipUnlessUi(this);
    table.reveal();
    const typed = await requestUi({ action: 'fill', webview: true, selector: '#filter input', text: "status = FINISHED", press: 'Enter' });
    assert.ok(typed.ok, typed.error);
    const message = await requestUi({ action: 'find', webview: true, selector: '#filter-message', texts: ['Invalid filter', 'Example:'] });
    assert.ok(message.ok, `message: ${JSON.stringify(message.rowTexts)}`);
    await requestUi({ action: 'screenshot', webview: true, element: 'body[data-panel="runsTable"] #app', screenshot: 'panel-runs-table-bad-query.png' });
    assert.ok((await table.setFilter('')).ok);
  });

  it('exports the visible table to CSV', async () => {
    // Other suites leave runs with lr 0.05 too (the MLflow one): the run name narrows it to this suite's.
    await table.setFilter("params.lr = '0.05' and attributes.run_name LIKE 'sweep%'");
    try {
      const saved = await table.exportCsv();
      assert.ok(saved.path, 'saved');
      const lines = fs.readFileSync(saved.path!, 'utf8').trim().split('\n');
      assert.strictEqual(lines.length, 2, lines.join('\n'));
      assert.match(lines[0], /^run_name,experiment,status,start,duration,source,/);
      assert.match(lines[1], /^sweep-a,sweep,FINISHED,/);
      assert.strictEqual(lines[1].split(',')[lines[0].split(',').indexOf('metrics.val_accuracy')], String(accA(199)), 'full precision');
      assert.strictEqual(await table.csv(), fs.readFileSync(saved.path!, 'utf8'));
    } finally {
      await table.setFilter('');
    }
  });

  it('updates live while a run is active: a new run appears, then its metric moves', async () => {
    const mlops = await api();
    live = writeRun(mlops, 'live-run', [{ type: 'param', key: 'lr', value: '0.02' }, ...curve('val_accuracy', 0, 10, (i) => 0.1 + i / 100)]);
    mlops.service.refresh();
    const cellOf = async () => {
      const i = await table.inspect();
      const r = i.renderedRows.find((row) => row.runId === live);
      return r ? r.cells[i.headers.indexOf('val_accuracy')] : undefined;
    };
    assert.strictEqual(await waitFor('the live run to appear', cellOf), '0.19');
    appendEvents(mlops.service.current!.layout.eventsFile(live), curve('val_accuracy', 10, 20, (i) => 0.1 + i / 100));
    mlops.service.refresh();
    await waitFor('the live run to update', async () => (await cellOf()) === '0.29');
  });

  it('compares the runs selected in the table: curves of each run, a parameter diff that marks lr', async () => {
    const mlops = await api();
    const selected = await table.select([trainId, sweepA, sweepB]);
    assert.deepStrictEqual([...selected].sort(), [trainId, sweepA, sweepB].sort());
    if (uiAvailable()) {
      const clicked = await requestUi({ action: 'click-text', webview: true, selector: '#compare', text: 'Compare 3' });
      assert.ok(clicked.ok, clicked.error);
    } else {
      await vscode.commands.executeCommand('mlops.compareRuns', [trainId, sweepA, sweepB]);
    }
    compare = await waitFor('the comparison panel', () => mlops.panels.compareRunsPanel);
    const inspection = await waitFor('the curves', async () => {
      const i = await compare.show({ tab: 'curves', metric: 'val_accuracy' });
      return i.curves.length === 3 ? i : undefined;
    });
    assert.deepStrictEqual([...inspection.runIds].sort(), [trainId, sweepA, sweepB].sort());
    const train = mlops.service.current!.getRun(trainId)!;
    const byRun = new Map(inspection.curves.map((c) => [c.runId, c]));
    assert.strictEqual(byRun.get(trainId)!.lastY, train.metrics.find((m) => m.key === 'val_accuracy')!.latest);
    assert.strictEqual(byRun.get(trainId)!.points, 30);
    assert.strictEqual(byRun.get(sweepA)!.lastY, accA(199));
    assert.strictEqual(byRun.get(sweepA)!.lastX, 199);
    assert.strictEqual(byRun.get(sweepB)!.lastY, accB(3999), 'downsampling keeps the last point');
    assert.ok(byRun.get(sweepB)!.points < 4000, `4000 points downsampled to ${byRun.get(sweepB)!.points}`);
    const lr = inspection.diff.find((d) => d.key === 'lr')!;
    assert.strictEqual(lr.differs, true);
    const order = inspection.runIds;
    assert.deepStrictEqual(lr.values, order.map((id) => (id === trainId ? train.params.lr : id === sweepA ? '0.05' : '0.001')));
    const epochs = inspection.diff.find((d) => d.key === 'epochs')!;
    assert.strictEqual(epochs.differs, train.params.epochs !== '30');
    const sent = compare.host.messages.filter((m) => m.direction === 'in' && m.kind === 'request').map((m) => m.method);
    assert.ok(sent.includes('compare/load') && sent.includes('compare/series'));
  });

  it('hovering lists every run\'s value at that step; zooming fetches the detail', async () => {
    const lines = await compare.hover(150);
    assert.strictEqual(lines[0], 'step 150');
    assert.ok(lines.some((l) => l.startsWith(`sweep-a: ${Number(accA(150).toPrecision(6))}`)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('sweep-b: ')), lines.join('\n'));
    assert.ok(lines.some((l) => /^train-\d+: /.test(l)), lines.join('\n'));
    const zoomed = await compare.show({ zoom: { min: 1000, max: 1200 } });
    const b = zoomed.curves.find((c) => c.runId === sweepB)!;
    assert.strictEqual(b.points, 203, 'every point of steps 1000–1200 plus one each side');
    assert.deepStrictEqual(zoomed.zoom, { min: 1000, max: 1200 });
    const reset = await compare.show({ zoom: null, xAxis: 'relative', logScale: true, smoothing: 0.6 });
    assert.strictEqual(reset.xAxis, 'relative');
    assert.ok(reset.curves.every((c) => c.points > 0));
    assert.ok(reset.curves.every((c) => c.lastSmoothed !== null), 'the host sends smoothed values while smoothing');
    await compare.show({ xAxis: 'step', logScale: false, smoothing: 0 });
  });

  it('the rendered comparison draws its charts (canvas pixels) and shows the diff; screenshots are saved', async function () {
    skipUnlessUi(this);
    compare.reveal();
    await compare.show({ tab: 'curves' });
    const legend = await requestUi({ action: 'find', webview: true, selector: '.legend-item', texts: ['train', 'sweep-a', 'sweep-b'] });
    assert.ok(legend.ok, `legend: ${JSON.stringify(legend.rowTexts)}`);
    const curves = await requestUi({ action: 'canvas-pixels', webview: true, selector: '#curves-canvas', minPixels: 2000 });
    assert.ok(curves.ok, `curves canvas: ${JSON.stringify(curves.canvases)} ${curves.error ?? ''}`);
    await compare.hover(150);
    const readout = await requestUi({ action: 'find', webview: true, selector: '#hover-readout', texts: ['step 150', 'sweep-a', 'sweep-b', 'train'] });
    assert.ok(readout.ok, `hover: ${JSON.stringify(readout.rowTexts)}`);
    await requestUi({ action: 'screenshot', webview: true, element: 'body[data-panel="compare"] #app', screenshot: 'panel-compare-curves.png' });

    await compare.show({ tab: 'params' });
    const diff = await requestUi({ action: 'find', webview: true, selector: '#param-diff tr.differs', texts: ['lr', '0.05', '0.001'] });
    assert.ok(diff.ok, `diff rows: ${JSON.stringify(diff.rowTexts)}`);
    await requestUi({ action: 'screenshot', webview: true, element: 'body[data-panel="compare"] #app', screenshot: 'panel-compare-params.png' });

    for (const tab of ['parallel', 'scatter'] as const) {
      await compare.show({ tab });
      const drawn = await requestUi({ action: 'canvas-pixels', webview: true, selector: `#${tab}-canvas`, minPixels: 200 });
      assert.ok(drawn.ok, `${tab}: ${JSON.stringify(drawn.canvases)} ${drawn.error ?? ''}`);
      await requestUi({ action: 'screenshot', webview: true, element: 'body[data-panel="compare"] #app', screenshot: `panel-compare-${tab}.png` });
    }
    await compare.show({ tab: 'curves' });
  });

  it('the charts are drawn (checked through the messages, with or without a browser runner)', async () => {
    const inspection = await compare.show({ tab: 'curves' });
    const canvas = inspection.canvases.find((c) => c.id === 'curves-canvas');
    assert.ok(canvas && canvas.drawnPixels > 2000, `curves canvas: ${JSON.stringify(inspection.canvases)}`);
  });

  it('exports the chart to PNG and every point of the curves (not downsampled) to CSV', async () => {
    await compare.show({ tab: 'curves', metric: 'val_accuracy' });
    const png = await compare.export('png');
    assert.ok(png.path && png.path.endsWith('curves.png'), JSON.stringify(png));
    const bytes = fs.readFileSync(png.path);
    assert.deepStrictEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
    assert.ok(bytes.length > 5000);
    const csv = await compare.export('csv');
    const lines = fs.readFileSync(csv.path!, 'utf8').trim().split('\n');
    assert.strictEqual(lines[0], 'run_id,run_name,metric,step,timestamp_ms,value');
    assert.strictEqual(lines.filter((l) => l.startsWith(sweepB)).length, 4000, 'every point of sweep-b');
    await compare.show({ tab: 'params' });
    const params = await compare.export('csv');
    assert.match(fs.readFileSync(params.path!, 'utf8'), /^param,/);
    await compare.show({ tab: 'curves' });
  });

  it('opens from a multi-selection in the Runs view, and from a list of run ids', async () => {
    const mlops = await api();
    const experiment = mlops.tree.getChildren().find((n) => n.kind === 'experiment' && n.name === 'sweep')!;
    const nodes = mlops.tree.getChildren(experiment).filter((n): n is RunsNode & { kind: 'run' } => n.kind === 'run' && [sweepA, sweepB].includes(n.run.id));
    assert.strictEqual(nodes.length, 2);
    const fromView = (await vscode.commands.executeCommand<ComparePanel>('mlops.compareRuns', nodes[0], nodes))!;
    assert.strictEqual(fromView, mlops.panels.compareRunsPanel, 'one comparison panel, re-targeted');
    const shown = await waitFor('the two runs', async () => {
      const i = await fromView.inspect();
      return i.runIds.length === 2 && i.curves.length === 2 ? i : undefined;
    });
    assert.deepStrictEqual([...shown.runIds].sort(), [sweepA, sweepB].sort());
    const fromIds = (await vscode.commands.executeCommand<ComparePanel>('mlops.compareRuns', [trainId, sleepId, live]))!;
    const three = await waitFor('three runs', async () => {
      const i = await fromIds.inspect();
      return i.runIds.length === 3 ? i : undefined;
    });
    assert.ok(three.runIds.includes(live));
  });

  it('curves update live while a run is active', async () => {
    const mlops = await api();
    const before = (await compare.show({ metric: 'val_accuracy', tab: 'curves' })).curves.find((c) => c.runId === live)!;
    appendEvents(mlops.service.current!.layout.eventsFile(live), curve('val_accuracy', 20, 40, (i) => 0.1 + i / 100));
    mlops.service.refresh();
    const after = await waitFor('the live curve to grow', async () => {
      const c = (await compare.inspect()).curves.find((x) => x.runId === live);
      return c && c.points > before.points ? c : undefined;
    });
    assert.strictEqual(after.lastX, 39);
    assert.strictEqual(after.lastY, 0.1 + 39 / 100);
  });

  it('a run deleted while shown leaves both panels with a message; nothing is stuck', async () => {
    const mlops = await api();
    appendEvents(mlops.service.current!.layout.eventsFile(live), [{ type: 'run_end', status: 'FINISHED', exit_code: 0 }]);
    mlops.service.refresh();
    await waitFor('the live run to end', () => mlops.service.current!.getRun(live)?.status === 'FINISHED');
    await vscode.commands.executeCommand('mlops.compareRuns', [trainId, live]);
    await waitFor('two runs shown', async () => (await compare.inspect()).curves.length === 2);
    mlops.service.current!.deleteRun(live);
    mlops.service.changedByUser();
    const inspection = await waitFor('the deleted run to leave the comparison', async () => {
      const i = await compare.inspect();
      return i.runIds.length === 1 ? i : undefined;
    });
    assert.deepStrictEqual(inspection.runIds, [trainId]);
    assert.ok(inspection.notices.some((n) => /live-run.*deleted/.test(n)), inspection.notices.join('\n'));
    table.reveal();
    await waitFor('the deleted run to leave the table', async () => !(await table.inspect()).shownRunIds.includes(live));
    // Both panels still answer.
    assert.ok((await table.setFilter("params.lr = '0.05'")).ok);
    assert.ok((await compare.show({ tab: 'params' })).diff.length > 0);
    await table.setFilter('');
  });

  it('comes back after a window reload: the serializer restores each panel with its runs', async () => {
    const mlops = await api();
    const restoredCompare = mlops.panels.restoreCompare(vscode.window.createWebviewPanel('mlops.compare', 'Compare Runs', vscode.ViewColumn.Active, {}), { runIds: [sweepA, sweepB, 'gone'.padEnd(32, '0')] });
    const shown = await waitFor('the restored comparison', async () => {
      const i = await restoredCompare.inspect();
      return i.curves.length === 2 ? i : undefined;
    });
    assert.deepStrictEqual([...shown.runIds].sort(), [sweepA, sweepB].sort());
    assert.ok(shown.notices.some((n) => /no longer exist/.test(n)), 'a run that is gone is named as gone');
    const restoredTable = mlops.panels.restoreRunsTable(vscode.window.createWebviewPanel('mlops.runsTable', 'Runs', vscode.ViewColumn.Active, {}));
    const rows = await waitFor('the restored table', async () => {
      const i = await restoredTable.inspect();
      return i.totalRuns > 0 ? i : undefined;
    });
    assert.ok(rows.shownRunIds.includes(sweepA));
    table = restoredTable;
    compare = restoredCompare;
  });

  it('an objective in mlops.yaml: the comparison opens on its metric with the target line drawn', async () => {
    const mlops = await api();
    const config = path.join(mlops.service.root, 'mlops.yaml');
    const before = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, `${before}\nobjectives:\n  val_accuracy: {goal: maximize, target: 0.9}\n`);
    const panel = mlops.panels.restoreCompare(vscode.window.createWebviewPanel('mlops.compare', 'Compare Runs', vscode.ViewColumn.Active, {}), { runIds: [sweepA, sweepB] });
    try {
      const shown = await waitFor('the comparison with its goal line', async () => {
        const i = await panel.inspect();
        return i.curves.length === 2 ? i : undefined;
      });
      assert.strictEqual(shown.metric, 'val_accuracy');
      assert.strictEqual(shown.goalLine, 'target 0.9 (higher is better)');
    } finally {
      panel.dispose();
      fs.writeFileSync(config, before);
    }
  });

  it('closing the panels disposes them; a request to a closed panel fails at once', async () => {
    const mlops = await api();
    compare.dispose();
    table.dispose();
    assert.strictEqual(mlops.panels.compareRunsPanel, undefined);
    assert.strictEqual(mlops.panels.runsTablePanel, undefined);
    await assert.rejects(compare.inspect(), /closed/);
  });
});

