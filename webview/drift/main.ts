// The drift panel (browser side): every feature with its test, statistic, threshold and
// verdict, most severe first; the selected feature's reference and current histograms
// overlaid (chart.js); a deployment's timeline of drift share and of the feature's
// statistic over its checks; what the latest check measured of serving.

import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type Plugin,
} from 'chart.js';
import { fromWire, type WireNumber } from '../../src/protocol/common';
import { DRIFT_PANEL, type DriftContract, type DriftData, type DriftFeature, type DriftInspection, type DriftSubject } from '../../src/protocol/drift';
import { canvasInfos } from '../common/canvas';
import { el, notice } from '../common/dom';
import { formatClock, formatNumber, formatTime } from '../common/format';
import { connect, loadState, saveState, type WebviewEndpoint } from '../common/host';
import { onThemeChange, themeColors, withAlpha } from '../common/theme';
import { button, registerToolkit } from '../common/toolkit';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

interface DriftState {
  v: 1;
  subject?: DriftSubject;
  selected: string | null;
}

const BASE = { animation: false, responsive: true, maintainAspectRatio: false } as const;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Series colours from the theme's chart palette (light, dark and high contrast each set them). */
function palette() {
  return {
    reference: cssVar('--vscode-charts-blue', '#3794ff'),
    current: cssVar('--vscode-charts-orange', '#d18616'),
    share: cssVar('--vscode-charts-red', '#f14c4c'),
    statistic: cssVar('--vscode-charts-purple', '#b180d7'),
  };
}

/** Fills the canvas with the theme's background first, so the chart reads the same in a screenshot. */
const background: Plugin = {
  id: 'driftBackground',
  beforeDraw(chart) {
    chart.ctx.save();
    chart.ctx.fillStyle = themeColors().background;
    chart.ctx.fillRect(0, 0, chart.width, chart.height);
    chart.ctx.restore();
  },
};

function axis(title: string, extra: object = {}) {
  const t = themeColors();
  return { title: { display: true, text: title, color: t.muted }, ticks: { color: t.muted }, grid: { color: t.grid }, border: { color: t.border }, ...extra };
}

function wire(v: WireNumber): string {
  const n = fromWire(v);
  return n === undefined ? '–' : formatNumber(n, 4);
}

function percent(v: number): string {
  return `${(v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 0)}%`;
}

class DriftView {
  private state: DriftState;
  private endpoint!: WebviewEndpoint<DriftContract>;
  private data: DriftData | undefined;
  private histogram: Chart<'bar'> | undefined;
  private timeline: Chart<'line'> | undefined;
  private readonly header = el('header', { className: 'drift-header' });
  private readonly messages = el('div', { className: 'notices' });
  private readonly table = el('table', { className: 'features', role: 'grid', aria: { label: 'Features by severity' } });
  private readonly detail = el('div', { className: 'feature-detail' });
  private readonly histogramCanvas = el('canvas', { id: 'histogram', aria: { label: 'Reference and current histograms of the selected feature' } });
  private readonly timelineBox = el('section', { className: 'timeline', aria: { label: 'Timeline of checks' } });
  private readonly timelineCanvas = el('canvas', { id: 'timeline', aria: { label: 'Drift share and the selected feature statistic over checks' } });
  private readonly serving = el('section', { className: 'serving', aria: { label: 'Serving' } });
  private busy = false;

  constructor(private readonly root: HTMLElement) {
    this.state = { v: 1, selected: null, ...loadState<DriftState>(1) };
    registerToolkit();
    root.replaceChildren(
      this.header, this.messages,
      el('div', { className: 'drift-body' },
        el('section', { className: 'features-box' }, this.table),
        el('section', { className: 'charts' },
          this.detail,
          el('div', { className: 'chart-box' }, this.histogramCanvas),
          this.timelineBox,
          this.serving)),
    );
    this.timelineBox.append(el('h2', { text: 'Checks over time' }), el('div', { className: 'chart-box' }, this.timelineCanvas));
    onThemeChange(() => this.render());
    this.endpoint = connect<DriftContract>(DRIFT_PANEL, {
      'view/inspect': () => this.inspect(),
      'drift/select': ({ column }) => {
        this.select(column, false);
        return this.inspect();
      },
    }, {
      'drift/updated': (data) => this.show(data),
    });
    void this.load('drift/load');
  }

  private async load(method: 'drift/load' | 'drift/check'): Promise<void> {
    this.busy = true;
    this.renderHeader();
    try {
      this.show(await this.endpoint.request(method, {}));
    } catch (err) {
      this.messages.replaceChildren(notice((err as Error).message, 'warning'));
    } finally {
      this.busy = false;
      this.renderHeader();
      this.root.setAttribute('aria-busy', 'false');
    }
  }

  private show(data: DriftData): void {
    this.data = data;
    if (!data.features.some((f) => f.column === this.state.selected)) this.state.selected = data.features[0]?.column ?? null;
    this.state.subject = data.subject;
    saveState(this.state);
    this.render();
  }

  private render(): void {
    this.renderHeader();
    const data = this.data;
    if (!data) return;
    this.messages.replaceChildren(...data.reasons.map((r) => notice(`Alert: ${r}`, 'warning')), ...data.notices.map((n) => notice(n)));
    this.renderTable();
    this.renderSelected();
    this.renderTimeline();
    this.renderServing();
  }

  private renderHeader(): void {
    const d = this.data;
    const deployment = d?.subject.kind === 'deployment';
    const verdict = d ? el('span', { className: `verdict ${d.dataset.drift ? 'is-drift' : 'is-ok'}`, role: 'status', text: d.dataset.drift ? 'Dataset drift' : 'No dataset drift' }) : null;
    this.header.replaceChildren(...[
      el('div', { className: 'title' },
        el('h1', { text: d?.title ?? 'Drift' }), verdict,
        d ? el('span', { className: 'muted', text: `${d.dataset.drifted} of ${d.dataset.features} features drifted (${percent(d.dataset.share)}, threshold ${percent(d.dataset.threshold)})${d.predictionDrift ? ' · prediction drift' : ''}` }) : null),
      d ? el('div', { className: 'muted sides', text: `Reference: ${d.reference.label} (${d.reference.rows.toLocaleString('en')} rows) · Current: ${d.current.label} (${d.current.rows.toLocaleString('en')} rows)${d.checkedAt ? ` · checked ${formatTime(d.checkedAt)}` : ''}` }) : null,
      el('div', { className: 'toolbar' },
        button(deployment ? 'Check Now' : 'Compare Again', () => void this.load('drift/check'), { id: 'check', appearance: 'primary', disabled: this.busy, title: deployment ? 'Check the deployment for drift now' : 'Compare the data again' }),
        deployment ? button('Retrain', () => void this.endpoint.request('drift/retrain', {}).catch((err: Error) => this.messages.prepend(notice(err.message, 'warning'))), { id: 'retrain', title: 'Retrain the model this deployment serves' }) : null),
    ].filter((n): n is HTMLDivElement => n !== null));
  }

  private renderTable(): void {
    const features = this.data?.features ?? [];
    const head = el('thead', {}, el('tr', {}, ...['Feature', 'Test', 'Statistic', 'Threshold', 'Verdict'].map((h) => el('th', { text: h, role: 'columnheader' }))));
    const rows = features.map((f) => {
      const selected = f.column === this.state.selected;
      const row = el('tr', {
        className: `${f.drift ? 'is-drift' : 'is-ok'}${selected ? ' selected' : ''}`, role: 'row', data: { column: f.column },
        aria: { selected: String(selected) },
      },
      el('td', { role: 'gridcell', text: f.role === 'prediction' ? `${f.column} (output)` : f.column }),
      el('td', { role: 'gridcell', text: f.test }),
      el('td', { role: 'gridcell', className: 'num', text: wire(f.pValue !== null ? f.pValue : f.statistic), title: f.pValue !== null ? `statistic ${wire(f.statistic)}, p-value ${wire(f.pValue)}` : `statistic ${wire(f.statistic)}` }),
      el('td', { role: 'gridcell', className: 'num', text: `${f.pValue !== null ? 'p ≤ ' : '≥ '}${formatNumber(f.threshold, 3)}` }),
      el('td', { role: 'gridcell', className: 'verdict-cell', text: f.drift ? '✗ drift' : '✓ ok' }));
      row.tabIndex = selected ? 0 : -1;
      row.addEventListener('click', () => this.select(f.column, true));
      row.addEventListener('keydown', (e) => this.onKey(e, f.column));
      return row;
    });
    this.table.replaceChildren(head, el('tbody', {}, ...rows));
    if (!features.length) this.table.replaceChildren(el('caption', { className: 'empty', text: 'No column on both sides to compare.' }));
  }

  /** Arrow keys, Home and End move through the features; the selection follows. */
  private onKey(e: KeyboardEvent, column: string): void {
    const features = this.data?.features ?? [];
    const at = features.findIndex((f) => f.column === column);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: features.length - 1 }[e.key];
    if (to === undefined || to < 0 || to >= features.length) return;
    e.preventDefault();
    this.select(features[to].column, true);
  }

  private select(column: string, focus: boolean): void {
    if (!this.data?.features.some((f) => f.column === column)) throw new Error(`No feature "${column}" in this report.`);
    this.state.selected = column;
    saveState(this.state);
    this.renderTable();
    this.renderSelected();
    this.renderTimeline();
    if (focus) (this.table.querySelector('tr.selected') as HTMLElement | null)?.focus();
  }

  private feature(): DriftFeature | undefined {
    return this.data?.features.find((f) => f.column === this.state.selected);
  }

  private renderSelected(): void {
    const f = this.feature();
    if (!f) {
      this.detail.replaceChildren();
      this.histogram?.destroy();
      this.histogram = undefined;
      return;
    }
    const facts = [
      `${f.test}: statistic ${wire(f.statistic)}${f.pValue !== null ? `, p-value ${wire(f.pValue)}` : ''}, drift when ${f.pValue !== null ? 'p ≤' : 'statistic ≥'} ${formatNumber(f.threshold, 3)}`,
      `missing values ${percent(f.missing.reference)} → ${percent(f.missing.current)}`,
      ...(f.newCategories ? [`${f.newCategories.rows} rows with categories the reference never had: ${f.newCategories.values.join(', ')}`] : []),
    ];
    this.detail.replaceChildren(el('h2', { text: `${f.column} — ${f.drift ? 'drifted' : 'no drift'}` }), el('ul', {}, ...facts.map((t) => el('li', { text: t }))));
    const colors = palette();
    const data = {
      labels: f.bins,
      datasets: [
        { label: 'reference', data: f.reference, backgroundColor: withAlpha(colors.reference, 0.55), borderColor: colors.reference, borderWidth: 1, grouped: false },
        { label: 'current', data: f.current, backgroundColor: withAlpha(colors.current, 0.55), borderColor: colors.current, borderWidth: 1, grouped: false },
      ],
    };
    const t = themeColors();
    const options = {
      ...BASE,
      scales: { x: axis(f.kind === 'numeric' ? 'bin' : 'category', { ticks: { color: t.muted, maxRotation: 45, autoSkip: true } }), y: axis('share of rows', { beginAtZero: true }) },
      plugins: { legend: { labels: { color: t.foreground } }, tooltip: { callbacks: { label: (i: { dataset: { label?: string }; parsed: { y: number | null } }) => `${i.dataset.label}: ${percent(i.parsed.y ?? 0)}` } } },
    };
    this.histogram?.destroy();
    this.histogram = new Chart<'bar'>(this.histogramCanvas, { type: 'bar', data, options: options as never, plugins: [background as Plugin<'bar'>] });
  }

  private renderTimeline(): void {
    const points = this.data?.timeline ?? [];
    this.timelineBox.hidden = points.length === 0;
    this.timeline?.destroy();
    this.timeline = undefined;
    if (!points.length) return;
    const f = this.feature();
    const colors = palette();
    const span = points[points.length - 1].time - points[0].time;
    const t = themeColors();
    const datasets = [
      { label: 'drift share', data: points.map((p) => ({ x: p.time, y: p.share })), borderColor: colors.share, backgroundColor: colors.share, yAxisID: 'share', pointRadius: points.map((p) => (p.alert ? 4 : 2)) },
      ...(f ? [{ label: `${f.column} ${f.test}`, data: points.flatMap((p) => (p.statistics[f.column] === undefined ? [] : [{ x: p.time, y: fromWire(p.statistics[f.column]) ?? NaN }])), borderColor: colors.statistic, backgroundColor: colors.statistic, yAxisID: 'statistic', pointRadius: 2 }] : []),
    ];
    this.timeline = new Chart<'line'>(this.timelineCanvas, {
      type: 'line',
      data: { datasets } as never,
      options: {
        ...BASE,
        scales: {
          x: { type: 'linear', ...axis('check time', { ticks: { color: t.muted, maxRotation: 0, callback: (v: number | string) => formatClock(Number(v), span) } }) },
          share: { type: 'linear', position: 'left', min: 0, max: 1, ...axis('drift share') },
          statistic: { type: 'linear', position: 'right', ...axis(f ? `${f.test} statistic` : ''), grid: { drawOnChartArea: false } },
        },
        plugins: { legend: { labels: { color: t.foreground } } },
      } as never,
      plugins: [background as Plugin<'line'>],
    });
  }

  private renderServing(): void {
    const s = this.data?.serving;
    const live = this.data?.live;
    const rows = [
      live ? `live, last ${Math.round(live.seconds)} s: ${live.summary}` : null,
      s?.p99Ms ? `at the last check: p99 latency ${s.p99Ms.value.toFixed(1)} ms${s.p99Ms.threshold !== undefined ? ` (threshold ${s.p99Ms.threshold} ms)` : ''}${s.p99Ms.crossed ? ' ✗' : ''}` : null,
      s?.errorRate ? `at the last check: error rate ${percent(s.errorRate.value)} of ${s.errorRate.requests} requests${s.errorRate.threshold !== undefined ? ` (threshold ${percent(s.errorRate.threshold)})` : ''}${s.errorRate.crossed ? ' ✗' : ''}` : null,
    ].filter((r): r is string => r !== null);
    this.serving.hidden = rows.length === 0;
    this.serving.replaceChildren(el('h2', { text: 'Serving' }), el('ul', {}, ...rows.map((r) => el('li', { text: r }))));
  }

  private inspect(): DriftInspection {
    return {
      title: this.data?.title ?? '',
      rows: [...this.table.querySelectorAll('tbody tr')].map((r) => {
        const f = this.data!.features.find((x) => x.column === (r as HTMLElement).dataset.column)!;
        return { column: f.column, verdict: f.drift ? 'drift' : 'ok', severity: f.severity };
      }),
      selected: this.state.selected,
      timelinePoints: this.timeline ? this.data!.timeline.length : 0,
      canvases: canvasInfos(this.root).filter((c) => !this.root.querySelector(`#${c.id}`)?.closest('[hidden]')),
      notices: [...this.messages.querySelectorAll('.notice')].map((n) => n.textContent ?? ''),
    };
  }
}

new DriftView(document.getElementById('app')!);
