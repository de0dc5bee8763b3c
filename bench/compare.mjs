#!/usr/bin/env node
// Benchmark of the webview panels in headless Chromium: `node bench/compare.mjs`.
//
//   first paint of the comparison panel, 100 runs × 10,000 steps     goal ≤ 0.5 s, and ≤ 2× the baseline:
//     chart.js alone drawing the same downsampled curves from ready arrays, in a page of its own
//     of the same size (its script is chart.js and a dozen lines; the data is made before it starts)
//   runs table, 10,000 runs × 50 columns: first render, each filter   goal ≤ 0.2 s per filter
//
// It bundles the panels' real browser code (webview/runs, webview/compare: the same
// esbuild options as the extension's build) and a harness that stands in for the
// extension host: the harness speaks the same typed messages (src/protocol) through
// the same channel a webview has (acquireVsCodeApi().postMessage / window 'message'),
// and answers with the host's real code: downsampling (src/core/tracking/downsample.ts)
// and the filter parser/matcher (src/core/tracking/runQuery.ts → src/core/query/searchFilter.ts).
// Messages cross as JSON text, as VS Code's do. Like the host, the harness computes the first
// metric's curves while the panel's script loads and sends them with the runs (compare/load);
// that time is printed apart, since in VS Code it runs in another process. The page carries the panels' real HTML
// shell (src/extension/panels/html.ts: nonce CSP, local resources only); any CSP violation
// or page error is printed.
//
// Options: --runs N --steps N (compare), --table-runs N, --only compare|table, --theme light|dark,
// --screenshots DIR (saves each panel as PNG). A missed goal prints MISSED; the exit
// code is 0 all the same (a benchmark never fails the build). Needs Debian's chromium
// at /usr/bin/chromium (never `npx playwright install`).
import { createServer } from 'node:http';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { median } from './lib/stats.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const COMPARE_RUNS = Number(arg('--runs', 100));
const COMPARE_STEPS = Number(arg('--steps', 10_000));
const TABLE_RUNS = Number(arg('--table-runs', 10_000));
const THEME = arg('--theme', 'light');
const SCREENSHOTS = arg('--screenshots', '');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const REPEATS = Number(arg('--repeats', 5));
const PROFILE = arg('--profile', '');
const ONLY = arg('--only', ''); // 'compare' or 'table'

// ---------------------------------------------------------------- the harness (runs in the page before the panel)
const HARNESS = String.raw`
import { Endpoint } from './src/protocol/rpc';
import { toWire } from './src/protocol/common';
import { downsampleHistory } from './src/core/tracking/downsample';
import { pointsPerRun } from './src/protocol/compare';
import { compileRunQuery, filterRunIds } from './src/core/tracking/runQuery';

const params = new URLSearchParams(location.search);
const scenario = params.get('scenario');
const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI));

// Deterministic data.
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const T0 = 1_764_000_000_000;
const STATUSES = ['FINISHED', 'FINISHED', 'FINISHED', 'FAILED', 'KILLED', 'RUNNING'];
const OPTIMIZERS = ['adam', 'sgd', 'adamw', 'rmsprop'];

const state = { webviewState: undefined };
let host;
window.acquireVsCodeApi = () => ({
  // Webview → host, asynchronously and as JSON text, as VS Code carries it.
  postMessage: (m) => { const text = JSON.stringify(m); setTimeout(() => host.receive(JSON.parse(text))); },
  getState: () => state.webviewState,
  setState: (s) => { state.webviewState = s; },
});
const post = (m) => { const text = JSON.stringify(m); window.postMessage(JSON.parse(text), '*'); };
let readyResolve;
const ready = new Promise((r) => (readyResolve = r));

if (scenario === 'compare' || scenario === 'baseline') {
  const N = Number(params.get('runs')), STEPS = Number(params.get('steps'));
  const runs = [], histories = new Map();
  for (let r = 0; r < N; r++) {
    const id = (r.toString(16).padStart(8, '0') + 'a'.repeat(24));
    const lr = [0.1, 0.03, 0.01, 0.003, 0.001][r % 5];
    const steps = new Float64Array(STEPS), times = new Float64Array(STEPS), loss = new Float64Array(STEPS), acc = new Float64Array(STEPS);
    const rate = 2 + 6 * rand(), floor = 0.02 + 0.1 * rand();
    for (let i = 0; i < STEPS; i++) {
      steps[i] = i;
      times[i] = T0 + r * 60_000 + i * 250;
      loss[i] = floor + 2 * Math.exp(-rate * i / STEPS) + 0.04 * (rand() - 0.5) + (i === 4321 + r ? 1.5 : 0);
      acc[i] = 1 - loss[i] / 2.2;
    }
    histories.set(id + '\u0000loss', { steps, times, values: loss });
    histories.set(id + '\u0000val_accuracy', { steps, times: times, values: acc });
    const summary = (v) => { let lo = Infinity, hi = -Infinity; for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; } return { latest: toWire(v[v.length - 1]), min: toWire(lo), max: toWire(hi), step: STEPS - 1, count: STEPS }; };
    runs.push({
      id, name: 'run-' + r, experiment: r % 2 ? 'resnet' : 'vit', status: 'FINISHED', source: 'script', start: T0 + r * 60_000, end: T0 + r * 60_000 + STEPS * 250,
      params: { lr: String(lr), batch_size: String([32, 64, 128][r % 3]), optimizer: OPTIMIZERS[r % 4], epochs: '30' },
      metrics: { loss: summary(loss), val_accuracy: summary(acc) },
    });
  }
  if (scenario === 'baseline') {
    // The curves the panel draws, downsampled as the host does, ready before the baseline's script starts.
    const maxPoints = Number(params.get('maxPoints'));
    window.__baseline = runs.map((r) => {
      const s = downsampleHistory(histories.get(r.id + '\u0000loss'), { maxPoints });
      return s.steps.map((x, i) => ({ x, y: s.values[i] }));
    });
  }
  const seriesOf = (req) => {
    const ids = req.runIds ?? runs.map((r) => r.id);
    const series = [];
    for (const id of ids) {
      const h = histories.get(id + '\u0000' + req.metric);
      if (!h) continue;
      const range = req.range && req.range.axis === 'relative'
        ? { axis: 'time', min: runs.find((r) => r.id === id).start + req.range.min * 1000, max: runs.find((r) => r.id === id).start + req.range.max * 1000 }
        : req.range;
      series.push({ runId: id, ...downsampleHistory(h, { maxPoints: Math.min(5000, Math.max(16, req.maxPoints)), range, smoothing: req.smoothing }) });
    }
    return { metric: req.metric, range: req.range ?? null, series };
  };
  const METRICS = ['loss', 'val_accuracy'];
  const curvesKey = (r) => JSON.stringify([r.metric, r.maxPoints, r.smoothing ?? 0]);
  // As the host does (CompareModel.prepare, started when the panel opens), the curves a panel of
  // the usual width (1000 px) draws first are computed while the panel's script loads: in VS Code
  // that is another process, so this time is printed apart, not counted in the panel's first paint.
  let prepared;
  if (scenario === 'compare') {
    const t = performance.now();
    const request = { metric: METRICS[0], maxPoints: pointsPerRun(1000, runs.length) };
    prepared = { key: curvesKey(request), result: seriesOf(request) };
    window.__prepareMs = performance.now() - t;
  }
  host = new Endpoint({
    post,
    onReady: () => readyResolve(),
    requests: {
      'compare/load': (first) => {
        const data = { runs, missing: [], metricKeys: METRICS };
        if (first && first.chartWidth) {
          const request = { metric: METRICS.includes(first.metric) ? first.metric : METRICS[0], maxPoints: pointsPerRun(first.chartWidth, runs.length), smoothing: first.smoothing };
          data.curves = prepared && prepared.key === curvesKey(request) ? prepared.result : seriesOf(request);
          prepared = undefined;
        }
        return data;
      },
      'compare/series': seriesOf,
      'compare/exportCsv': () => ({ path: null }),
      'compare/pickRuns': () => undefined,
      'file/save': () => ({ path: null }),
    },
  });
} else {
  const N = Number(params.get('runs'));
  const P = 25, M = 25;
  const paramKeys = Array.from({ length: P }, (_, i) => i === 0 ? 'lr' : i === 1 ? 'optimizer' : 'p' + i);
  const metricKeys = Array.from({ length: M }, (_, i) => i === 0 ? 'val_accuracy' : i === 1 ? 'loss' : 'm' + i);
  const rows = [], queryRuns = [];
  for (let r = 0; r < N; r++) {
    const id = r.toString(16).padStart(32, '0');
    const p = paramKeys.map((k, i) => i === 0 ? String([0.1, 0.03, 0.01, 0.003, 0.001][r % 5]) : i === 1 ? OPTIMIZERS[r % 4] : String(Math.floor(rand() * 100)));
    const latest = metricKeys.map(() => rand());
    const m = [];
    latest.forEach((v) => m.push(v, v * rand(), v + (1 - v) * rand()));
    const status = STATUSES[r % STATUSES.length];
    const start = T0 + r * 1000;
    const row = { id, name: 'run-' + r, experiment: 'exp-' + (r % 7), status, source: 'script', start, end: status === 'RUNNING' ? null : start + 600_000, params: p, metrics: m };
    rows.push(row);
    queryRuns.push({ id, name: row.name, experiment: row.experiment, status, source: 'script', start_time: start, end_time: row.end,
      params: Object.fromEntries(paramKeys.map((k, i) => [k, p[i]])), metrics: Object.fromEntries(metricKeys.map((k, i) => [k, latest[i]])), tags: {} });
  }
  host = new Endpoint({
    post,
    onReady: () => readyResolve(),
    requests: {
      'runs/load': () => ({ paramKeys, metricKeys, rows }),
      'runs/filter': ({ query }) => {
        const q = compileRunQuery(query);
        if (!q.ok) return { ok: false, query: q.query, error: q.error };
        return { ok: true, query: q.query, matching: filterRunIds(q, queryRuns) };
      },
      'runs/compare': () => undefined,
      'runs/reveal': () => undefined,
      'file/save': () => ({ path: null }),
    },
  });
}

const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
window.__bench = {
  violations,
  ready,
  request: (method, p) => host.request(method, p),
  frame,
  async timed(method, p) {
    const t = performance.now();
    const result = await host.request(method, p);
    await frame();
    await frame();
    return { ms: performance.now() - t, result };
  },
};
performance.mark('panel:start');
`;

// The baseline: chart.js drawing ready curves with the panel's chart options, nothing else.
const BASELINE = String.raw`
import { Chart, LinearScale, LineController, LineElement, PointElement } from 'chart.js';
Chart.register(LineController, LineElement, PointElement, LinearScale);
const params = new URLSearchParams(location.search);
const wrap = document.createElement('div');
wrap.style.position = 'relative';
wrap.style.width = params.get('width') + 'px';
wrap.style.height = params.get('height') + 'px';
const canvas = document.createElement('canvas');
wrap.append(canvas);
document.getElementById('app').replaceChildren(wrap);
const colors = window.__baseline.map((_, i) => 'hsl(' + Math.round((i * 137.508) % 360) + ', 70%, 45%)');
new Chart(canvas, {
  type: 'line',
  data: { datasets: window.__baseline.map((data, i) => ({ data, borderColor: colors[i], borderWidth: 1, pointRadius: 0 })) },
  options: {
    animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true, spanGaps: true, events: [],
    elements: { line: { tension: 0 } }, plugins: { legend: { display: false }, tooltip: { enabled: false } },
    scales: { x: { type: 'linear' }, y: { type: 'linear' } },
  },
});
requestAnimationFrame(() => performance.mark('baseline:first-paint'));
`;

const THEMES = {
  light: {
    '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px', '--vscode-foreground': '#3b3b3b', '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-editor-background': '#ffffff', '--vscode-descriptionForeground': '#717171', '--vscode-editorWidget-border': '#e5e5e5', '--vscode-panel-border': '#e5e5e5',
    '--vscode-editorGroup-border': '#e5e5e5', '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-list-activeSelectionBackground': '#e8e8e8',
    '--vscode-list-inactiveSelectionBackground': '#e4e6f1', '--vscode-charts-blue': '#1a85ff', '--vscode-charts-red': '#e51400', '--vscode-charts-green': '#388a34',
    '--vscode-charts-orange': '#d18616', '--vscode-charts-purple': '#652d90', '--vscode-charts-yellow': '#bf8803', '--vscode-errorForeground': '#f85149',
    '--vscode-inputValidation-errorBackground': '#f2dede', '--vscode-inputValidation-errorBorder': '#be1100', '--vscode-button-background': '#005fb8',
    '--vscode-button-foreground': '#ffffff', '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#3b3b3b', '--vscode-input-border': '#cecece',
    '--vscode-focusBorder': '#005fb8', '--vscode-textLink-foreground': '#005fb8', '--vscode-diffEditor-insertedTextBackground': 'rgba(156, 204, 44, 0.25)',
    '--vscode-editorHoverWidget-background': '#f8f8f8', '--vscode-editorHoverWidget-border': '#c8c8c8', '--vscode-editorHoverWidget-foreground': '#3b3b3b',
    '--vscode-textBlockQuote-background': '#f8f8f8', '--vscode-editorWidget-background': '#f8f8f8', '--vscode-widget-shadow': 'rgba(0,0,0,0.16)',
    '--vscode-sideBarSectionHeader-background': '#f8f8f8', '--vscode-testing-iconPassed': '#388a34', '--vscode-testing-iconFailed': '#f14c4c',
    '--vscode-badge-background': '#cccccc', '--vscode-badge-foreground': '#3b3b3b', '--vscode-button-hoverBackground': '#0258a8', '--vscode-button-border': 'rgba(0,0,0,0.1)',
    '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b', '--vscode-button-secondaryHoverBackground': '#cccccc',
    '--vscode-checkbox-background': '#f8f8f8', '--vscode-checkbox-border': '#cecece', '--vscode-checkbox-foreground': '#3b3b3b',
    '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-border': '#cecece', '--vscode-dropdown-foreground': '#3b3b3b', '--vscode-settings-dropdownListBorder': '#cecece',
    '--vscode-input-placeholderForeground': '#767676', '--vscode-list-activeSelectionForeground': '#000000', '--vscode-panel-background': '#f8f8f8',
    '--vscode-panelTitle-activeBorder': '#005fb8', '--vscode-panelTitle-activeForeground': '#3b3b3b', '--vscode-panelTitle-inactiveForeground': '#3b3b3b',
    '--vscode-progressBar-background': '#005fb8', '--vscode-scrollbarSlider-background': 'rgba(100,100,100,0.4)', '--vscode-scrollbarSlider-hoverBackground': 'rgba(100,100,100,0.7)',
    '--vscode-scrollbarSlider-activeBackground': 'rgba(0,0,0,0.6)', '--vscode-textLink-activeForeground': '#005fb8', '--vscode-font-weight': 'normal',
  },
  dark: {
    '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px', '--vscode-foreground': '#cccccc', '--vscode-editor-foreground': '#cccccc',
    '--vscode-editor-background': '#1f1f1f', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-editorWidget-border': '#454545', '--vscode-panel-border': '#2b2b2b',
    '--vscode-editorGroup-border': '#2b2b2b', '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-list-activeSelectionBackground': '#04395e',
    '--vscode-list-inactiveSelectionBackground': '#37373d', '--vscode-charts-blue': '#3794ff', '--vscode-charts-red': '#f14c4c', '--vscode-charts-green': '#89d185',
    '--vscode-charts-orange': '#d18616', '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700', '--vscode-errorForeground': '#f85149',
    '--vscode-inputValidation-errorBackground': '#5a1d1d', '--vscode-inputValidation-errorBorder': '#be1100', '--vscode-button-background': '#0078d4',
    '--vscode-button-foreground': '#ffffff', '--vscode-input-background': '#313131', '--vscode-input-foreground': '#cccccc', '--vscode-input-border': '#3c3c3c',
    '--vscode-focusBorder': '#0078d4', '--vscode-textLink-foreground': '#4daafc', '--vscode-diffEditor-insertedTextBackground': 'rgba(156, 204, 44, 0.2)',
    '--vscode-editorHoverWidget-background': '#202020', '--vscode-editorHoverWidget-border': '#454545', '--vscode-editorHoverWidget-foreground': '#cccccc',
    '--vscode-textBlockQuote-background': '#2b2b2b', '--vscode-editorWidget-background': '#202020', '--vscode-widget-shadow': 'rgba(0,0,0,0.36)',
    '--vscode-sideBarSectionHeader-background': '#181818', '--vscode-testing-iconPassed': '#73c991', '--vscode-testing-iconFailed': '#f14c4c',
    '--vscode-badge-background': '#616161', '--vscode-badge-foreground': '#f8f8f8', '--vscode-button-hoverBackground': '#026ec1', '--vscode-button-border': 'rgba(255,255,255,0.07)',
    '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc', '--vscode-button-secondaryHoverBackground': '#3c3c3c',
    '--vscode-checkbox-background': '#313131', '--vscode-checkbox-border': '#3c3c3c', '--vscode-checkbox-foreground': '#cccccc',
    '--vscode-dropdown-background': '#313131', '--vscode-dropdown-border': '#3c3c3c', '--vscode-dropdown-foreground': '#cccccc', '--vscode-settings-dropdownListBorder': '#454545',
    '--vscode-input-placeholderForeground': '#989898', '--vscode-list-activeSelectionForeground': '#ffffff', '--vscode-panel-background': '#181818',
    '--vscode-panelTitle-activeBorder': '#0078d4', '--vscode-panelTitle-activeForeground': '#cccccc', '--vscode-panelTitle-inactiveForeground': '#9d9d9d',
    '--vscode-progressBar-background': '#0078d4', '--vscode-scrollbarSlider-background': 'rgba(121,121,121,0.4)', '--vscode-scrollbarSlider-hoverBackground': 'rgba(100,100,100,0.7)',
    '--vscode-scrollbarSlider-activeBackground': 'rgba(191,191,191,0.4)', '--vscode-textLink-activeForeground': '#4daafc', '--vscode-font-weight': 'normal',
  },
};

// ---------------------------------------------------------------- build
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-panels-'));
const cleanup = () => fs.rmSync(work, { recursive: true, force: true });
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
const web = { bundle: true, platform: 'browser', target: 'es2020', format: 'iife', minify: true, logLevel: 'warning', absWorkingDir: repo };
await Promise.all([
  esbuild.build({ ...web, entryPoints: ['webview/runs/main.ts'], outfile: path.join(work, 'dist/webview/runs.js') }),
  esbuild.build({ ...web, entryPoints: ['webview/compare/main.ts'], outfile: path.join(work, 'dist/webview/compare.js') }),
  esbuild.build({ ...web, stdin: { contents: HARNESS, resolveDir: repo, loader: 'ts', sourcefile: 'harness.ts' }, outfile: path.join(work, 'harness.js') }),
  esbuild.build({ ...web, stdin: { contents: BASELINE, resolveDir: repo, loader: 'ts', sourcefile: 'baseline.ts' }, outfile: path.join(work, 'dist/webview/baseline.js') }),
  esbuild.build({ bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning', absWorkingDir: repo, entryPoints: ['src/extension/panels/html.ts'], outfile: path.join(work, 'html.cjs') }),
]);
fs.mkdirSync(path.join(work, 'media'));
for (const f of ['panels.css', 'runsTable.css', 'compare.css']) fs.copyFileSync(path.join(repo, 'media', f), path.join(work, 'media', f));
fs.writeFileSync(path.join(work, 'theme.css'), `body {\n${Object.entries(THEMES[THEME] ?? THEMES.light).map(([k, v]) => `  ${k}: ${v};`).join('\n')}\n}\n`);
const { panelHtml, makeNonce } = require(path.join(work, 'html.cjs'));

// ---------------------------------------------------------------- serve
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/favicon.ico') {
    res.writeHead(204);
    return res.end();
  }
  if (url.pathname === '/runs' || url.pathname === '/compare' || url.pathname === '/baseline') {
    const panel = url.pathname.slice(1);
    const nonce = makeNonce();
    let html = panelHtml({
      title: panel, cspSource: origin, nonce, panel: panel === 'runs' ? 'runsTable' : 'compare',
      scriptUri: `${origin}/dist/webview/${panel}.js`,
      styleUris: [`${origin}/theme.css`, `${origin}/media/panels.css`, `${origin}/media/${panel === 'runs' ? 'runsTable' : 'compare'}.css`],
    });
    // The harness stands in for VS Code: it goes first, with the same nonce.
    html = html.replace('<script ', `<script nonce="${nonce}" src="${origin}/harness.js"></script>\n  <script `).replace('<body ', `<body class="vscode-${THEME === 'dark' ? 'dark' : 'light'}" `);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(html);
  }
  const file = path.join(work, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ''));
  if (!file.startsWith(work) || !fs.existsSync(file)) {
    res.writeHead(404);
    return res.end();
  }
  const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream';
  res.writeHead(200, { 'content-type': type });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

// ---------------------------------------------------------------- measure
const rows = [];
const problems = [];
const record = (figure, valueMs, goalMs) => rows.push({ figure, value: `${valueMs.toFixed(valueMs >= 100 ? 0 : 1)} ms`, goal: goalMs ? `≤ ${goalMs} ms` : '', met: goalMs ? (valueMs <= goalMs ? 'yes' : 'MISSED') : '' });

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, env: { ...process.env, XDG_CONFIG_HOME: path.join(work, 'xdg'), XDG_CACHE_HOME: path.join(work, 'xdg') } });
try {
  if (ONLY !== 'table') await benchCompare();
  if (ONLY !== 'compare') await benchTable();
} finally {
  await browser.close();
  server.close();
}

async function openPage(url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  if (PROFILE && url.includes('scenario=compare') && !openPage.profiled) {
    openPage.profiled = true;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    page.stopProfile = async () => fs.writeFileSync(PROFILE, JSON.stringify((await cdp.send('Profiler.stop')).profile));
  }
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // (getImageData's readback hint comes from counting drawn pixels for the report, not from the panel.)
    if ((m.type() === 'error' || m.type() === 'warning') && !/willReadFrequently/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  await page.goto(url);
  return page;
}

async function benchCompare() {
  const firstPaints = [], sinceStart = [];
  let page;
  for (let i = 0; i < REPEATS; i++) {
    page?.close();
    page = await openPage(`${origin}/compare?scenario=compare&runs=${COMPARE_RUNS}&steps=${COMPARE_STEPS}`);
    await page.waitForFunction(() => performance.getEntriesByName('compare:first-paint').length > 0, null, { timeout: 60_000 });
    await page.stopProfile?.();
    const t = await page.evaluate(() => ({
      paint: performance.getEntriesByName('compare:first-paint')[0].startTime,
      start: performance.getEntriesByName('panel:start')[0].startTime,
    }));
    firstPaints.push(t.paint);
    sinceStart.push(t.paint - t.start);
  }
  const prepareMs = await page.evaluate(() => window.__prepareMs);
  console.log(`compare: the host's part, done while the panel's script loads: first curves downsampled in ${prepareMs.toFixed(0)} ms (last page; not in the first paint)`);
  const phases = await page.evaluate(() => {
    const start = performance.getEntriesByName('panel:start')[0].startTime;
    return performance.getEntriesByType('mark').filter((m) => m.name.startsWith('compare:')).map((m) => `${m.name.slice(8)} +${(m.startTime - start).toFixed(0)}`);
  });
  console.log(`compare: phases after panel start (last page): ${phases.join(', ')}`);
  const inspect = await page.evaluate(() => window.__bench.request('view/inspect', {}));
  const drawnRuns = inspect.curves.length, maxPts = Math.max(...inspect.curves.map((c) => c.points));
  console.log(`compare: ${COMPARE_RUNS} runs × ${COMPARE_STEPS} steps; drawn ${drawnRuns} curves of ≤ ${maxPts} points each; curves canvas ${inspect.canvases.find((c) => c.id === 'curves-canvas')?.drawnPixels ?? 0} pixels drawn`);
  record(`compare: first paint, ${COMPARE_RUNS} runs × ${COMPARE_STEPS} steps (from panel script start)`, median(sinceStart), 500);
  // The baseline, on a canvas of the size the panel's chart had, with as many points per curve.
  const canvas = inspect.canvases.find((c) => c.id === 'curves-canvas');
  const size = await page.evaluate(() => { const r = document.getElementById('curves-canvas').getBoundingClientRect(); return { width: Math.round(r.width), height: Math.round(r.height) }; });
  const baselines = [];
  for (let i = 0; i < REPEATS; i++) {
    const b = await openPage(`${origin}/baseline?scenario=baseline&runs=${COMPARE_RUNS}&steps=${COMPARE_STEPS}&maxPoints=${maxPts}&width=${size.width}&height=${size.height}`);
    await b.waitForFunction(() => performance.getEntriesByName('baseline:first-paint').length > 0, null, { timeout: 60_000 });
    baselines.push(await b.evaluate(() => performance.getEntriesByName('baseline:first-paint')[0].startTime - performance.getEntriesByName('panel:start')[0].startTime));
    await b.close();
  }
  const base = median(baselines);
  console.log(`compare: baseline (chart.js alone, ${COMPARE_RUNS} ready curves of ≤ ${maxPts} points on a ${size.width}×${size.height} canvas${canvas ? '' : '?'}): first paint ${base.toFixed(0)} ms from its script start [${baselines.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`compare: panel first paint ${median(sinceStart).toFixed(0)} ms [${sinceStart.map((x) => x.toFixed(0)).join(', ')}] = ${(median(sinceStart) / base).toFixed(2)}× the baseline (goal ≤ 2×)`);
  record('compare: baseline first paint (chart.js alone, same curves, ready arrays)', base);
  rows.push({ figure: 'compare: first paint / baseline', value: `${(median(sinceStart) / base).toFixed(2)}×`, goal: '≤ 2×', met: median(sinceStart) <= 2 * base ? 'yes' : 'MISSED' });
  record('compare: first paint (from navigation start, data generation included)', median(firstPaints));
  const zooms = [], metrics = [], axes = [];
  for (let i = 0; i < REPEATS; i++) {
    zooms.push((await page.evaluate((i) => window.__bench.timed('compare/show', { zoom: { min: 4000 + i * 10, max: 4400 + i * 10 } }), i)).ms);
    axes.push((await page.evaluate((i) => window.__bench.timed('compare/show', { xAxis: i % 2 ? 'step' : 'relative' }), i)).ms);
    metrics.push((await page.evaluate((i) => window.__bench.timed('compare/show', { metric: i % 2 ? 'loss' : 'val_accuracy' }), i)).ms);
  }
  record('compare: zoom to 400 steps (detail fetched, redrawn)', median(zooms));
  record('compare: switch x axis (redrawn)', median(axes));
  record('compare: switch metric (fetched, redrawn)', median(metrics));
  const smoothing = (await page.evaluate(() => window.__bench.timed('compare/show', { smoothing: 0.9 }))).ms;
  record('compare: EMA smoothing 0.9 on (whole histories smoothed by the host, fetched, redrawn)', smoothing);
  const hover = await page.evaluate(async () => {
    const t = performance.now();
    const lines = await window.__bench.request('compare/hover', { x: 5000 });
    return { ms: performance.now() - t, lines: lines.length };
  });
  record(`compare: hover read-out of ${hover.lines - 1} runs`, hover.ms);
  for (const tab of ['params', 'parallel', 'scatter']) {
    const r = await page.evaluate((tab) => window.__bench.timed('compare/show', { tab }), tab);
    record(`compare: show ${tab} tab`, r.ms);
    if (SCREENSHOTS) {
      await page.waitForTimeout(100);
      await page.screenshot({ path: path.join(SCREENSHOTS, `bench-compare-${tab}-${THEME}.png`) });
    }
  }
  if (SCREENSHOTS) {
    await page.evaluate(() => window.__bench.timed('compare/show', { tab: 'curves', smoothing: 0, zoom: null }));
    await page.evaluate(() => window.__bench.request('compare/hover', { x: 5000 }));
    await page.screenshot({ path: path.join(SCREENSHOTS, `bench-compare-curves-${THEME}.png`) });
  }
  const v = await page.evaluate(() => window.__bench.violations);
  for (const x of v) problems.push(`CSP violation (compare): ${x}`);
  await page.close();
}

async function benchTable() {
  const renders = [];
  let page;
  for (let i = 0; i < REPEATS; i++) {
    page?.close();
    page = await openPage(`${origin}/runs?scenario=table&runs=${TABLE_RUNS}`);
    await page.waitForFunction(() => performance.getEntriesByName('runs:first-render').length > 0, null, { timeout: 60_000 });
    renders.push(await page.evaluate(async () => {
      await window.__bench.frame();
      return performance.now() - performance.getEntriesByName('panel:start')[0].startTime;
    }));
  }
  const inspect = await page.evaluate(() => window.__bench.request('view/inspect', {}));
  console.log(`table: ${inspect.totalRuns} runs × ${inspect.headers.length} visible columns; ${inspect.domRows} rows in the DOM (virtualised)`);
  record(`table: first render, ${TABLE_RUNS} runs × ${inspect.headers.length} columns (from panel script start)`, median(renders));
  const queries = [
    'metrics.val_accuracy > 0.9',
    "metrics.val_accuracy > 0.5 and params.lr < 0.01 and status = 'FINISHED'",
    "params.optimizer IN ('adam', 'adamw') and metrics.loss < 0.3 or run_name LIKE 'run-99%'",
    "metrics.m7 >= 0.25 and metrics.m8 <= 0.75 and params.p3 != '12' and status != 'FAILED'",
    '',
  ];
  for (const q of queries) {
    const times = [];
    let shown = 0;
    let rejected = '';
    for (let i = 0; i < REPEATS; i++) {
      await page.evaluate(() => window.__bench.request('runs/setFilter', { query: 'metrics.m2 > 2' })); // a different filter in between
      const r = await page.evaluate((q) => window.__bench.timed('runs/setFilter', { query: q }), q);
      times.push(r.ms);
      shown = r.result.ok ? (r.result.matching ? r.result.matching.length : TABLE_RUNS) : -1;
      rejected = r.result.ok ? '' : r.result.error;
    }
    const label = `table: filter ${q ? `"${q.length > 60 ? q.slice(0, 57) + '…' : q}"` : '(cleared)'}`;
    if (rejected) {
      rows.push({ figure: `${label} → rejected by the parser`, value: `${median(times).toFixed(1)} ms`, goal: '', met: 'REJECTED' });
      problems.push(`the filter parser rejects ${JSON.stringify(q)}: ${rejected}`);
    } else record(`${label} → ${shown} runs`, median(times), 200);
  }
  const bad = await page.evaluate(() => window.__bench.timed('runs/setFilter', { query: 'metrics.val_accuracy >> 0.9' }));
  console.log(`table: a malformed query answers: ${bad.result.ok ? 'ok?!' : bad.result.error}`);
  const scrolls = await page.evaluate(async () => {
    const el = document.querySelector('.table-scroll');
    const times = [];
    for (let i = 1; i <= 10; i++) {
      const t = performance.now();
      el.scrollTop = (el.scrollHeight * i) / 11;
      await window.__bench.frame();
      await window.__bench.frame();
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[5];
  });
  record('table: scroll a page (median frame pair)', scrolls);
  const sortTimes = [];
  for (let i = 0; i < REPEATS; i++) {
    sortTimes.push(await page.evaluate(async () => {
      const th = document.querySelector('.th[data-col="metric:val_accuracy"]');
      const t = performance.now();
      th.click();
      await window.__bench.frame();
      await window.__bench.frame();
      return performance.now() - t;
    }));
  }
  record('table: sort by a metric column', median(sortTimes));
  if (SCREENSHOTS) {
    await page.evaluate(() => window.__bench.request('runs/setFilter', { query: "metrics.val_accuracy > 0.5 and params.optimizer = 'adam'" }));
    await page.evaluate(() => document.querySelector('.table-scroll').scrollTo(0, 0));
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(SCREENSHOTS, `bench-table-${THEME}.png`) });
    await page.evaluate(() => window.__bench.request('runs/setFilter', { query: 'metrics.val_accuracy >> 0.9' }));
    await page.waitForTimeout(100);
    await page.screenshot({ path: path.join(SCREENSHOTS, `bench-table-bad-query-${THEME}.png`) });
  }
  const v = await page.evaluate(() => window.__bench.violations);
  for (const x of v) problems.push(`CSP violation (table): ${x}`);
  await page.close();
}

// ---------------------------------------------------------------- report
const width = Math.max(...rows.map((r) => r.figure.length));
console.log(`\n${'figure'.padEnd(width)}  ${'median'.padStart(9)}  goal        met`);
for (const r of rows) console.log(`${r.figure.padEnd(width)}  ${r.value.padStart(9)}  ${r.goal.padEnd(10)}  ${r.met}`);
console.log(`\n(${REPEATS} repeats each, headless Chromium ${browser.version?.() ?? ''}, ${os.cpus().length} CPUs)`);
if (problems.length) {
  console.log(`\n${problems.length} problem(s) in the pages:`);
  for (const p of [...new Set(problems)]) console.log(`  ${p}`);
} else console.log('No CSP violation, page error or console error.');
const missed = rows.filter((r) => r.met === 'MISSED');
if (missed.length) console.log(`\nMISSED: ${missed.map((r) => r.figure).join('; ')}`);
cleanup();
