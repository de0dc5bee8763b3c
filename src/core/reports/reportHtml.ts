import { formatDuration, formatNumber, formatTime } from '../format';
import { escapeHtml } from '../hostileText';
import type { ColumnDrift, DriftReport } from '../monitoring';
import type { LoopSummary } from '../pipelines/loopRun';
import type { ValidationReport } from '../validation/modelValidation';
import type { ReportData, RunsComparison } from './reportData';
import { histogramChart, lineChart } from './svg';

type Markdown = { render(src: string): string; disable(rule: string): unknown };
let markdownIt: Markdown | undefined;
/**
 * markdown-it renders the model cards; raw HTML and images are off, so a card can neither run
 * anything nor make the report fetch anything. Made on first use: loading it at activation cost
 * the editor's window milliseconds for a report it may never write.
 */
function markdown(): Markdown {
  if (!markdownIt) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const MarkdownIt: new (options: object) => Markdown = require('markdown-it');
    markdownIt = new MarkdownIt({ html: false, linkify: false });
    markdownIt.disable('image');
  }
  return markdownIt;
}

/** Histograms drawn per drift report: the most drifted columns first. */
const MAX_HISTOGRAMS = 40;

const e = escapeHtml;
const num = (v: number | undefined) => (v === undefined ? '–' : formatNumber(v, 4));

const STYLE = `
:root{color-scheme:light dark;--fg:#1d1f23;--muted:#5d6470;--bg:#fff;--card:#f5f6f8;--line:#d9dce1;--ok:#1f7a3f;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--fg:#e3e5e8;--muted:#9aa1ab;--bg:#16181c;--card:#1f2227;--line:#343840;--ok:#5cc586;--bad:#f2867e}}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:32px}h3{font-size:15px}
.muted{color:var(--muted)}table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--card)}td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:var(--ok)}.bad{color:var(--bad)}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:var(--card);border-radius:4px;max-width:100%;height:auto}
.chart text{font-size:10px;fill:var(--muted)}.chart .grid{stroke:var(--line);stroke-width:.5}
figure{margin:0}figcaption{font-size:12px;color:var(--muted)}.card{background:var(--card);padding:4px 16px;border-radius:4px;overflow-x:auto}
ol.timeline{padding-left:20px}ol.timeline li{margin:2px 0}nav a{margin-right:12px}
@media print{nav{display:none}body{max-width:none}}`;

function runsSection(c: RunsComparison): string {
  const head = `<tr><th></th>${c.runs.map((r) => `<th>${e(r.name)}<br><span class="muted">${e(r.id.slice(0, 8))}</span></th>`).join('')}</tr>`;
  const row = (label: string, cells: string[]) => `<tr><th>${label}</th>${cells.map((x) => `<td>${x}</td>`).join('')}</tr>`;
  const rows = [
    row('experiment', c.runs.map((r) => e(r.experiment))),
    row('status', c.runs.map((r) => e(r.status))),
    row('started', c.runs.map((r) => e(formatTime(r.start_time)))),
    row('duration', c.runs.map((r) => e(formatDuration(r.start_time, r.end_time)))),
    ...c.params.map((p) => row(`param ${e(p.key)}`, p.values.map((v) => e(v ?? '–')))),
    ...c.metrics.map((m) => `<tr><th>metric ${e(m.key)}</th>${m.values.map((v) => `<td class="n">${e(num(v))}</td>`).join('')}</tr>`),
  ];
  const curves = c.curves.map((k) => `<figure>${lineChart(k.key, k.series)}<figcaption>${e(k.key)} by step</figcaption></figure>`).join('');
  return `<section id="runs"><h2>Runs compared</h2><table>${head}${rows.join('')}</table>${curves ? `<div class="charts">${curves}</div>` : ''}</section>`;
}

function gateTable(g: ValidationReport | { model: string; version: number; error: string }): string {
  if ('error' in g) return `<h3>${e(g.model)} v${g.version}</h3><p class="muted">No gate table: ${e(g.error)}</p>`;
  if (!g.gates.length) return `<h3>${e(g.model)} v${g.version}</h3><p class="muted">mlops.yaml declares no gates.</p>`;
  const rows = g.gates.map((r) => `<tr><td class="${r.passed ? 'ok' : 'bad'}">${r.passed ? '✓ pass' : '✗ fail'}</td><td>${e(r.gate)}</td><td class="n">${e(num(r.value))}</td><td class="n">${e(num(r.bound))}</td><td>${e(r.note ?? '')}</td></tr>`).join('');
  return `<h3>${e(g.model)} v${g.version} <span class="${g.passed ? 'ok' : 'bad'}">${g.passed ? 'passes its gates' : 'fails a gate'}</span></h3>
<p class="muted">Judged on evaluation run ${e(g.evaluationRun.slice(0, 8))}${g.champion ? ` against the champion, v${g.champion.version}` : ''}.</p>
<table><tr><th></th><th>gate</th><th>value</th><th>bound</th><th>note</th></tr>${rows}</table>`;
}

/** Most drifted first: drifted columns, then by how close the statistic came to its threshold. */
function severity(c: ColumnDrift): number {
  const ratio = c.pValue !== undefined ? c.threshold / Math.max(c.pValue, 1e-300) : c.statistic / c.threshold;
  return (c.drift ? 1e6 : 0) + Math.min(ratio, 1e5);
}

function checksChart(checks: { time: number; share: number; alert: boolean }[]): string {
  if (checks.length < 2) return '';
  const t0 = checks[0].time;
  const chart = lineChart('share of features drifted per check', [{ label: 'drifted share', xs: checks.map((c) => (c.time - t0) / 60_000), ys: checks.map((c) => c.share) }]);
  return `<figure>${chart}<figcaption>Share of features drifted at each of the last ${checks.length} checks (minutes since ${e(formatTime(t0))}); ${checks.filter((c) => c.alert).length} alerted.</figcaption></figure>`;
}

function driftSection(deployment: string, r: DriftReport, checks: { time: number; share: number; alert: boolean }[]): string {
  const cols = [...r.columns].sort((a, b) => severity(b) - severity(a));
  const d = r.dataset;
  const rows = cols.map((c) => `<tr><td>${e(c.column)}</td><td>${c.role}</td><td>${e(c.test)}</td><td class="n">${e(num(c.statistic))}</td><td class="n">${e(num(c.pValue))}</td><td class="n">${e(num(c.threshold))}</td><td class="${c.drift ? 'bad' : 'ok'}">${c.drift ? '✗ drift' : '✓'}</td></tr>`).join('');
  const charts = cols.slice(0, MAX_HISTOGRAMS).map((c) => `<figure>${histogramChart(c.column, c.histogram)}<figcaption>${e(c.column)}: ${e(c.test)} ${e(num(c.statistic))}${c.drift ? ' — drift' : ''}</figcaption></figure>`).join('');
  return `<h3>${e(deployment)}: <span class="${d.drift ? 'bad' : 'ok'}">${d.drift ? 'dataset drift' : 'no dataset drift'}</span></h3>
<p>${d.drifted} of ${d.features} features drifted (${(d.share * 100).toFixed(0)}%, threshold ${(d.threshold * 100).toFixed(0)}%)${r.predictionDrift !== undefined ? `; prediction drift: ${r.predictionDrift ? 'yes' : 'no'}` : ''}.
<span class="muted">Reference: ${e(r.reference.label)} (${r.reference.rows} rows); current: ${e(r.current.label)} (${r.current.rows} rows).</span></p>
<table><tr><th>column</th><th>role</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th><th></th></tr>${rows}</table>
<div class="charts">${checksChart(checks)}${charts}</div>`;
}

function loopsSection(loops: LoopSummary[]): string {
  if (!loops.length) return '<p class="muted">No retraining loop has run yet.</p>';
  return [...loops].reverse().map((l) => {
    const outcome = l.state === 'promoted' ? 'ok' : l.state === 'running' ? '' : 'bad';
    const steps = l.steps.map((s) => `<li><span class="${s.status === 'done' ? 'ok' : s.status === 'skipped' ? 'muted' : 'bad'}">${e(s.step)}</span> <span class="muted">${e(formatTime(s.time))}</span> ${e(s.detail)}${s.run ? ` <span class="muted">(run ${e(s.run.slice(0, 8))})</span>` : ''}</li>`).join('');
    return `<h3>${e(formatTime(l.started))} · ${e(l.deployment)} · <span class="${outcome}">${e(l.state)}</span></h3>
<p>Triggered by ${e(l.trigger)}${l.reason ? `: ${e(l.reason)}` : ''}.${l.summary ? ` ${e(l.summary)}` : ''} <span class="muted">Loop run ${e(l.loop.slice(0, 8))}.</span></p><ol class="timeline">${steps}</ol>`;
  }).join('');
}

/**
 * The report as one self-contained HTML file: styles inline, charts as inline SVG, no script,
 * and a Content-Security-Policy that forbids every fetch, so it opens anywhere without a network.
 */
export function renderReport(data: ReportData): string {
  const sections: { id: string; title: string; html: string }[] = [];
  if (data.runs) sections.push({ id: 'runs', title: 'Runs', html: runsSection(data.runs) });
  if (data.cards.length) sections.push({ id: 'card', title: 'Model card', html: `<section id="card"><h2>Model card</h2>${data.cards.map((c) => `<div class="card">${markdown().render(c.markdown)}</div>`).join('')}</section>` });
  if (data.gates.length) sections.push({ id: 'gates', title: 'Gates', html: `<section id="gates"><h2>Gates</h2>${data.gates.map(gateTable).join('')}</section>` });
  if (data.drift.length) sections.push({ id: 'drift', title: 'Drift', html: `<section id="drift"><h2>Drift</h2>${data.drift.map((d) => ('error' in d ? `<h3>${e(d.deployment)}</h3><p class="muted">No drift report: ${e(d.error)}</p>` : driftSection(d.deployment, d.report, d.checks))).join('')}</section>` });
  if (data.cards.length || data.drift.length) sections.push({ id: 'loops', title: 'Retraining', html: `<section id="loops"><h2>Retraining history</h2>${loopsSection(data.loops)}</section>` });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(data.title)}</title><style>${STYLE}</style></head>
<body><header><h1>${e(data.title)}</h1><p class="muted">MLOps Workbench report, made ${e(formatTime(data.generated))}. Covers ${data.covers.map(e).join('; ')}.</p>
<nav>${sections.map((s) => `<a href="#${s.id}">${s.title}</a>`).join('')}</nav></header>
${sections.map((s) => s.html).join('\n')}
</body></html>
`;
}
