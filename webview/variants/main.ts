// The variant comparison panel (browser side): a deployment's A/B arms and shadow side by
// side — traffic (requests, error rate, p50/p99), the shadow's agreement with the served
// answers, and the prediction distributions overlaid (class shares, score histogram; chart.js).

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { VARIANTS_PANEL, type VariantsContract, type VariantsData, type VariantsInspection } from '../../src/protocol/variants';
import { canvasInfos } from '../common/canvas';
import { el, notice } from '../common/dom';
import { formatTime } from '../common/format';
import { connect, loadState, saveState, type WebviewEndpoint } from '../common/host';
import { onThemeChange, themeColors } from '../common/theme';
import { button, dropdown, registerToolkit, type Dropdown } from '../common/toolkit';
import {
  agreementText, chartSummary, classShareSeries, histogramSeries, predictionRows, PREDICTIONS_HEADER, TRAFFIC_HEADER, trafficRows, type ShareSeries,
} from './model';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface VariantsState {
  v: 1;
  deployment: string | null;
  output: string | null;
}

/** A variant's colour, from the theme's chart colours: the control arm blue, the challenger orange, the shadow purple. */
function variantColor(variant: string): string {
  const name = { primary: 'blue', a: 'blue', b: 'orange', shadow: 'purple' }[variant] ?? 'green';
  const fallback = { blue: '#3794ff', orange: '#d18616', purple: '#b180d7', green: '#89d185' }[name]!;
  return getComputedStyle(document.body).getPropertyValue(`--vscode-charts-${name}`).trim() || fallback;
}

function table(caption: string, header: string[], rows: string[][], id: string): HTMLElement {
  return el('table', { className: 'variants-table', id },
    el('caption', { text: caption }),
    el('thead', {}, el('tr', {}, ...header.map((h) => el('th', { text: h })))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c, i) => (i === 0 ? el('th', { text: c }) : el('td', { text: c })))))),
  );
}

class VariantsView {
  private state: VariantsState;
  private endpoint!: WebviewEndpoint<VariantsContract>;
  private data: VariantsData | undefined;
  private charts: Chart[] = [];
  private output: Dropdown | undefined;
  private readonly app = document.getElementById('app')!;
  /** Charts wait for their canvas to be in the page. */
  private pendingCharts: (() => void)[] = [];

  constructor() {
    this.state = { v: 1, deployment: null, output: null, ...loadState<VariantsState>(1) };
  }

  start(): void {
    registerToolkit();
    this.endpoint = connect<VariantsContract>(VARIANTS_PANEL, { 'view/inspect': () => this.inspect() }, { 'variants/updated': (d) => this.show(d) });
    onThemeChange(() => this.data && this.show(this.data));
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.show(await this.endpoint.request('variants/load', this.state.output ? { output: this.state.output } : {}));
    } catch (err) {
      this.app.replaceChildren(notice(`Could not load the comparison: ${(err as Error).message}`, 'warning'));
      this.app.removeAttribute('aria-busy');
    }
  }

  private show(data: VariantsData): void {
    this.data = data;
    this.state = { ...this.state, deployment: data.deployment, output: data.comparison?.output ?? this.state.output };
    saveState(this.state);
    for (const c of this.charts.splice(0)) c.destroy();
    const c = data.comparison;
    // The dropdown keeps focus across refreshes: it is made once and only its options change.
    const outputs = data.outputs.map((o) => ({ value: o, label: o }));
    if (!this.output) {
      this.output = dropdown(outputs, c?.output ?? '', (value) => {
        this.state = { ...this.state, output: value };
        void this.load();
      }, 'Output compared');
    } else this.output.setOptions(outputs, c?.output ?? '');
    const header = el('header', { className: 'variants-header' },
      el('h1', { text: `Variants of ${data.deployment}` }),
      el('span', { className: 'muted', text: `${data.running ? 'running' : 'not running'} · serving ${data.serving}` }),
      el('label', {}, 'Output', this.output.element),
      button('Refresh', () => void this.load(), { title: 'Read the log and the metrics again', id: 'refresh' }),
    );
    const notes = [data.trafficNote, data.comparisonNote].filter((n): n is string => !!n).map((n) => notice(n, 'warning'));
    const body = el('div', { className: 'variants-body' });
    if (data.traffic?.length) body.append(table('Traffic since the server started (its /metrics)', TRAFFIC_HEADER, trafficRows(data), 'traffic'));
    if (c) {
      body.append(
        el('p', { className: 'agreement', id: 'agreement', role: 'status', text: agreementText(c) }),
        table(`Predictions: the last ${c.records.toLocaleString('en-US')} logged, ${formatTime(c.from)} to ${formatTime(c.to)}${c.skippedLines ? ` (${c.skippedLines} unreadable lines skipped)` : ''}`, PREDICTIONS_HEADER, predictionRows(c), 'predictions'),
      );
      const charts = el('div', { className: 'variants-charts' });
      if (c.classes.length) charts.append(this.chart('classes', `Share of rows per predicted class (${c.output})`, classShareSeries(c)));
      if (c.bins.length) charts.append(this.chart('scores', `Distribution of ${c.score ?? c.output} (share of each variant's rows)`, histogramSeries(c)));
      body.append(charts);
    }
    this.app.replaceChildren(header, ...notes, body);
    this.app.removeAttribute('aria-busy');
    for (const chart of this.pendingCharts.splice(0)) chart();
  }

  /** A bar chart of shares per variant, side by side per class or bin; drawn once its canvas is in the page. */
  private chart(id: string, title: string, data: { labels: string[]; series: ShareSeries[] }): HTMLElement {
    const canvas = el('canvas', { id: `chart-${id}`, role: 'img', aria: { label: chartSummary(title, data) } });
    const figure = el('figure', { className: 'variants-chart' }, el('figcaption', { text: title }), el('div', { className: 'chart-box' }, canvas));
    this.pendingCharts.push(() => {
      const theme = themeColors();
      const axis = (text: string) => ({ title: { display: true, text, color: theme.muted }, ticks: { color: theme.muted }, grid: { color: theme.grid }, border: { color: theme.border } });
      this.charts.push(new Chart(canvas, {
        type: 'bar',
        data: {
          labels: data.labels,
          datasets: data.series.map((s) => ({ label: s.label, data: s.values, backgroundColor: variantColor(s.variant), borderColor: theme.highContrast ? theme.foreground : variantColor(s.variant), borderWidth: 1 })),
        },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          plugins: {
            legend: { labels: { color: theme.foreground } },
            tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${((item.raw as number) * 100).toFixed(1)}%` } },
          },
          scales: { x: axis(id === 'classes' ? 'class' : 'value'), y: { ...axis('share of rows'), beginAtZero: true, ticks: { color: theme.muted, callback: (v) => `${Math.round(Number(v) * 100)}%` } } },
        },
      }));
    });
    return figure;
  }

  private inspect(): VariantsInspection {
    const cells = (id: string) => [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) => [...tr.children].map((c) => c.textContent ?? ''));
    return {
      deployment: this.data?.deployment ?? null,
      output: this.data?.comparison?.output ?? null,
      traffic: cells('traffic'),
      predictions: cells('predictions'),
      agreement: document.getElementById('agreement')?.textContent ?? null,
      notices: [...document.querySelectorAll('.notice')].map((n) => n.textContent ?? ''),
      canvases: canvasInfos(),
    };
  }
}

new VariantsView().start();
