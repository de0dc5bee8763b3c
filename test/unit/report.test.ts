// The shareable report stays small for large data: a drift report over 1M rows per side and
// a 200,000-step metric curve render to well under 2 MB (histograms and downsampled curves,
// never raw rows), open in headless Chromium without a single network request, and escape
// what runs and data put into them. (The full report of the example's deployment, after a
// real retraining loop, is opened in Chromium in retrainLoop.test.ts.)
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ColumnarTable } from '../../src/core/monitoring/columns';
import { computeDrift } from '../../src/core/monitoring/drift';
import { Project } from '../../src/core/project';
import { collectReport } from '../../src/core/reports/reportData';
import { renderReport } from '../../src/core/reports';
import { rng, tmpWorkspace, writeRun } from './helpers';
import { openInChromium } from './reportBrowser';
import type { NewRunEvent } from '../../src/core/tracking/events';

const ROWS = 1_000_000;

function table(label: string, shift: number, seed: number): ColumnarTable {
  const random = rng(seed);
  const numeric = (f: (i: number) => number) => ({ kind: 'numeric' as const, values: Float64Array.from({ length: ROWS }, (_, i) => f(i)), missing: 0 });
  const counts = new Map<string, number>();
  for (let i = 0; i < ROWS; i++) {
    const k = `city-${Math.floor(random() * (120 + shift * 40))}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return {
    label, rows: ROWS,
    columns: new Map<string, ColumnarTable['columns'] extends Map<string, infer C> ? C : never>([
      ['temp_max', numeric(() => 15 + 8 * (random() + random() - 1) + shift * 3)],
      ['precipitation', numeric(() => -Math.log(1 - random()) * 3)],
      ['wind', numeric(() => 3 + random() * 4)],
      ['city', { kind: 'categorical', counts, missing: 0 }],
    ]),
  };
}

describe('shareable report', () => {
  it('stays under 2 MB for a drift report over 1M rows and a 200,000-step curve, and opens with no network request', { timeout: 300_000 }, async () => {
    const layout = tmpWorkspace();
    const steps = 200_000;
    const events: NewRunEvent[] = [{ type: 'param', key: 'lr', value: '<script>alert(1)</script>' }];
    for (let i = 0; i < steps; i++) events.push({ type: 'metric', key: 'loss', value: 1 / (1 + i / 1000), step: i });
    events.push({ type: 'run_end', status: 'FINISHED', exit_code: 0 });
    const runId = writeRun(layout, events);
    const project = await Project.open(layout.root);
    try {
      const data = await collectReport(project, [runId]);
      data.drift.push({ deployment: 'weather', report: computeDrift(table('seattle 2012', 0, 1), table('seattle 2015', 1, 2)), checks: [] });
      const html = renderReport(data);
      const bytes = Buffer.byteLength(html);
      assert.ok(bytes < 2 * 1024 * 1024, `report is ${bytes} bytes`);
      assert.ok(!html.includes('<script>'), 'a param cannot inject a script');
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the param is shown, escaped');
      const file = path.join(layout.root, 'report.html');
      fs.writeFileSync(file, html);
      const opened = await openInChromium(file);
      assert.deepEqual(opened.requests.filter((u) => !u.startsWith('file://')), [], 'no network request');
      assert.equal(opened.requests.length, 1, 'only the file itself');
      assert.deepEqual(opened.sections, { runs: 'Runs compared', drift: 'Drift', loops: 'Retraining history' });
      console.log(`report size: ${bytes} bytes`);
      assert.equal(opened.charts, 1 + 4, 'the loss curve and one histogram per compared column');
      assert.match(html, /temp_max[\s\S]*✗ drift/);
      assert.deepEqual(opened.console, []);
    } finally {
      project.close();
    }
  });
});
