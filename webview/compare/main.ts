// The comparison panel (browser side): metric curves overlaid (chart.js), the
// parameter diff, parallel coordinates and a scatter. Curves arrive downsampled
// from the host; dragging on the chart zooms and fetches the detail of the range.

// First: asks the host for the runs before the rest of this script is evaluated.
import { answerWith, endpoint, firstLoad, saved, type CompareState } from './connection';
import {
  Chart, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip,
  type ChartDataset, type ChartOptions, type Plugin, type TooltipItem,
} from 'chart.js';
import { fromWire, type SaveFileResult } from '../../src/protocol/common';
import {
  defaultMetric, pointsPerRun, type CompareContract, type CompareData, type CompareInspection, type CompareRun, type CompareTab, type CompareUpdate, type ObjectiveInfo, type Series, type XAxis,
} from '../../src/protocol/compare';
import { canvasInfos, pngBase64 } from '../common/canvas';
import { el, notice } from '../common/dom';
import { durationSeconds, formatNumber, formatSeconds, formatTime } from '../common/format';
import { saveState, type WebviewEndpoint } from '../common/host';
import { onThemeChange, runColorsById, themeColors, withAlpha, type ThemeColors } from '../common/theme';
import { button, checkbox, dropdown, registerToolkit, slider, tabs, type Dropdown } from '../common/toolkit';
import { digitsToTellApart, forLogScale, formatTick, hoverLines, seriesPoints, smoothedPoints, type Point } from './curves';
import { goalLabel, goalLinePlugin, targetOf } from './goalLine';
import { defaultScatterX, fieldsOf, fieldValue, normalized, paramDiff, paramDiffCsv, parallelDimensions, runsCsv, type Dimension, type Field } from './runsData';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip);

const TABS: { id: CompareTab; label: string }[] = [
  { id: 'curves', label: 'Curves' },
  { id: 'params', label: 'Parameters' },
  { id: 'parallel', label: 'Parallel Coordinates' },
  { id: 'scatter', label: 'Scatter' },
];

const AXES: { value: XAxis; label: string }[] = [
  { value: 'step', label: 'Step' },
  { value: 'time', label: 'Wall time' },
  { value: 'relative', label: 'Relative time' },
];

/** What every chart here shares: drawn at once (no animation), sized by its box, data given as {x, y} points. */
const BASE_CHART_OPTIONS = { animation: false, responsive: true, maintainAspectRatio: false, parsing: false } as const;

/** A titled axis in the theme's colours; `ticks` adds to its tick options. */
function axisStyle<T extends object>(theme: ThemeColors, title: string, ticks: T) {
  return {
    title: { display: true, text: title, color: theme.muted },
    ticks: { color: theme.muted, ...ticks },
    grid: { color: theme.grid },
    border: { color: theme.border },
  };
}

/** Fills the canvas with the theme's background first, so exported PNGs are readable. */
const backgroundPlugin: Plugin = {
  id: 'mlopsBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = themeColors().background;
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

class CompareView {
  private state: CompareState;
  private endpoint!: WebviewEndpoint<CompareContract>;
  private runs: CompareRun[] = [];
  private objectives: ObjectiveInfo[] = [];
  private metricKeys: string[] = [];
  private colors = new Map<string, string>();
  /** Whole-range curves of the current metric, per run. */
  private overview = new Map<string, Series>();
  /** Curves of the zoomed range, when zoomed. */
  private detail: Map<string, Series> | null = null;
  private notices: string[] = [];
  /** Counts fetches of every run's overview, and of every run's zoom detail: a later one makes an earlier one stale. */
  private seriesSeq = 0;
  private detailSeq = 0;
  private loadedOnce = false;
  private theme: ThemeColors = themeColors();
  private hoverX: number | null = null;
  private hoverText: string[] = [];
  private drawn: { runId: string; label: string; raw: Point[] }[] = [];
  /** The curves being fetched again for a new smoothing weight, if they are. */
  private smoothingFetch: Promise<void> | null = null;

  private curvesChart: Chart<'line', Point[]> | undefined;
  private parallelChart: Chart<'line'> | undefined;
  private scatterChart: Chart<'scatter'> | undefined;

  private readonly title = el('h1', { className: 'title', id: 'compare-title' });
  private readonly noticeArea = el('div', { className: 'notices', id: 'notices' });
  private readonly tabs;
  private readonly metricDropdown: Dropdown;
  private readonly axisDropdown: Dropdown;
  private readonly logBox;
  private readonly smoothingSlider;
  private readonly curvesCanvas = el('canvas', { id: 'curves-canvas', aria: { label: 'Metric curves' } });
  private readonly zoomBox = el('div', { className: 'zoom-box' });
  private readonly readout = el('div', { className: 'hover-readout', id: 'hover-readout', role: 'status' });
  private readonly crosshair = el('div', { className: 'crosshair', aria: { hidden: 'true' } });
  private readonly legend = el('div', { className: 'legend', id: 'legend', role: 'list' });
  private readonly curvesMessage = el('div', { className: 'chart-message', id: 'curves-message' });
  private readonly paramsArea = el('div', { className: 'params-area', id: 'params' });
  private readonly parallelCanvas = el('canvas', { id: 'parallel-canvas', aria: { label: 'Parallel coordinates' } });
  private readonly parallelMetric: Dropdown;
  private readonly scatterCanvas = el('canvas', { id: 'scatter-canvas', aria: { label: 'Scatter plot' } });
  private readonly scatterX: Dropdown;
  private readonly scatterY: Dropdown;
  private readonly body = el('div', { className: 'compare-body' });
  private readonly emptyArea = el('div', { className: 'empty', id: 'empty' });

  constructor(root: HTMLElement) {
    this.state = {
      v: 1,
      runIds: Array.isArray(saved.runIds) ? saved.runIds : [],
      tab: TABS.some((t) => t.id === saved.tab) ? saved.tab! : 'curves',
      metric: saved.metric ?? null,
      xAxis: AXES.some((a) => a.value === saved.xAxis) ? saved.xAxis! : 'step',
      logScale: saved.logScale === true,
      smoothing: typeof saved.smoothing === 'number' ? saved.smoothing : 0,
      zoom: saved.zoom ?? null,
      hidden: Array.isArray(saved.hidden) ? saved.hidden : [],
      onlyDifferences: saved.onlyDifferences === true,
      parallelMetric: saved.parallelMetric ?? null,
      scatterX: saved.scatterX ?? null,
      scatterY: saved.scatterY ?? null,
    };
    // The runs were asked for (./connection) before this script built anything: the host reads them meanwhile.
    const first = this.connectHost();
    registerToolkit();

    this.metricDropdown = dropdown([], '', (v) => void this.setMetric(v), 'Metric');
    this.axisDropdown = dropdown(AXES, this.state.xAxis, (v) => this.setAxis(v as XAxis), 'X axis');
    this.logBox = checkbox('Log scale', this.state.logScale, (on) => {
      this.state.logScale = on;
      this.drawCurves();
      this.save();
    });
    this.smoothingSlider = slider('Smoothing', this.state.smoothing, 0, 0.99, 0.01, (v) => void this.setSmoothing(v));
    this.parallelMetric = dropdown([], '', (v) => {
      this.state.parallelMetric = v || null;
      this.drawParallel();
      this.save();
    }, 'Metric axis');
    this.scatterX = dropdown([], '', (v) => {
      this.state.scatterX = v || null;
      this.drawScatter();
      this.save();
    }, 'X');
    this.scatterY = dropdown([], '', (v) => {
      this.state.scatterY = v || null;
      this.drawScatter();
      this.save();
    }, 'Y');

    this.tabs = tabs(TABS, this.state.tab, (id) => this.showTab(id as CompareTab));
    const chartWrap = el('div', { className: 'chart-wrap', id: 'curves-chart' }, this.curvesCanvas, this.zoomBox, this.crosshair, this.readout);
    this.zoomBox.hidden = true;
    this.crosshair.hidden = true;
    this.readout.hidden = true;
    this.tabs.views.get('curves')!.append(
      el('div', { className: 'curves' },
        el('div', { className: 'controls', role: 'toolbar', aria: { label: 'Curves' } },
          el('label', {}, el('span', { text: 'Metric' }), this.metricDropdown.element),
          el('label', {}, el('span', { text: 'X axis' }), this.axisDropdown.element),
          this.logBox.element,
          this.smoothingSlider.element,
          button('Reset zoom', () => void this.setZoom(null), { id: 'reset-zoom', title: 'Show the whole range (or double-click the chart)' }),
          button('PNG', () => void this.exportPng(this.curvesCanvas, 'curves'), { title: 'Save the chart as PNG' }),
          button('CSV', () => void this.exportCurvesCsv(), { title: 'Save every point of this metric (not downsampled) as CSV' }),
        ),
        this.curvesMessage,
        el('div', { className: 'curves-main' }, chartWrap, this.legend),
      ),
    );
    this.tabs.views.get('params')!.append(this.paramsArea);
    this.tabs.views.get('parallel')!.append(
      el('div', { className: 'controls' },
        el('label', {}, el('span', { text: 'Metric axis' }), this.parallelMetric.element),
        button('PNG', () => void this.exportPng(this.parallelCanvas, 'parallel-coordinates'), { title: 'Save the chart as PNG' }),
        button('CSV', () => void this.exportRunsCsv('parallel-coordinates'), { title: 'Save the runs\u2019 params and metrics as CSV' }),
      ),
      el('div', { className: 'chart-wrap', id: 'parallel-chart' }, this.parallelCanvas),
    );
    this.tabs.views.get('scatter')!.append(
      el('div', { className: 'controls' },
        el('label', {}, el('span', { text: 'X' }), this.scatterX.element),
        el('label', {}, el('span', { text: 'Y' }), this.scatterY.element),
        button('PNG', () => void this.exportPng(this.scatterCanvas, 'scatter'), { title: 'Save the chart as PNG' }),
        button('CSV', () => void this.exportRunsCsv('scatter'), { title: 'Save the runs\u2019 params and metrics as CSV' }),
      ),
      el('div', { className: 'chart-wrap', id: 'scatter-chart' }, this.scatterCanvas),
    );
    this.body.append(this.tabs.element);
    root.replaceChildren(
      el('header', { className: 'compare-header' }, this.title, button('Change runs…', () => void this.pickRuns(), { id: 'change-runs', title: 'Choose the runs to compare' })),
      this.noticeArea,
      this.emptyArea,
      this.body,
    );
    root.removeAttribute('aria-busy');
    this.emptyArea.hidden = true;
    this.installChartMouse();
    onThemeChange(() => {
      this.theme = themeColors();
      this.assignColors();
      this.redrawAll();
    });
    void this.load(first);
  }

  /** Answers the host's requests and notifications on the connection opened first; returns the first load. */
  private connectHost(): Promise<CompareData> {
    this.endpoint = endpoint;
    answerWith(
      {
        'view/inspect': () => this.inspect(),
        'compare/show': async (params) => {
          if (params.tab) {
            // The view shows at once (unlike after a click), so the redraw below draws it.
            this.state.tab = params.tab;
            this.tabs.select(params.tab);
          }
          if (params.xAxis && params.xAxis !== this.state.xAxis) this.setAxis(params.xAxis, true);
          if (params.logScale !== undefined) {
            this.state.logScale = params.logScale;
            this.logBox.checked = params.logScale;
          }
          if (params.smoothing !== undefined && params.smoothing !== this.state.smoothing) {
            this.smoothingSlider.value = params.smoothing;
            await this.setSmoothing(params.smoothing);
          }
          if (params.metric !== undefined && params.metric !== this.state.metric) await this.setMetric(params.metric, true);
          if (params.zoom !== undefined) await this.setZoom(params.zoom);
          this.redrawAll();
          this.save();
          return this.inspect();
        },
        'compare/hover': ({ x }) => this.hoverAt(x),
        'view/export': ({ format }) => this.exportTab(format),
      },
      {
        'compare/reset': (data) => void this.receive(data, true),
        'compare/updated': (update) => void this.applyUpdate(update),
      },
    );
    return firstLoad;
  }

  private async load(first: Promise<CompareData>): Promise<void> {
    try {
      const data = await first;
      performance.mark('compare:load-reply');
      await this.receive(data, false);
    } catch (err) {
      this.setNotices([`Could not load the runs: ${(err as Error).message}`]);
    }
  }

  /** New data for the whole panel (first load, or other runs chosen). */
  private async receive(data: CompareData, reset: boolean): Promise<void> {
    this.runs = data.runs;
    this.metricKeys = data.metricKeys;
    this.objectives = data.objectives ?? [];
    this.state.runIds = data.runs.map((r) => r.id);
    if (reset) {
      this.state.zoom = null;
      this.state.hidden = [];
    }
    this.notices = data.missing.length
      ? [`${data.missing.length} of the chosen runs no longer exist (deleted); showing the others.`]
      : [];
    this.assignColors();
    if (!this.state.metric || !this.metricKeys.includes(this.state.metric)) this.state.metric = defaultMetric(this.metricKeys, this.objectives);
    this.syncControls();
    this.overview.clear();
    this.detail = null;
    const curves = data.curves;
    if (curves && curves.metric === this.state.metric) {
      // The host sent the curves to draw first (this metric, this smoothing) with the runs: no second round trip.
      this.seriesSeq++;
      for (const s of curves.series) this.overview.set(s.runId, s);
      if (this.state.zoom) await this.fetchSeries({ overview: false });
    } else {
      await this.fetchSeries();
    }
    this.loadedOnce = true;
    this.redrawAll();
    this.save();
  }

  private async applyUpdate(update: CompareUpdate): Promise<void> {
    if (!this.loadedOnce) return;
    const byId = new Map(update.runs.map((r) => [r.id, r]));
    this.runs = this.runs.map((r) => byId.get(r.id) ?? r);
    if (update.removed.length) {
      const gone = new Set(update.removed.map((r) => r.id));
      this.runs = this.runs.filter((r) => !gone.has(r.id));
      for (const id of gone) {
        this.overview.delete(id);
        this.detail?.delete(id);
      }
      this.state.runIds = this.runs.map((r) => r.id);
      for (const r of update.removed) this.notices.push(`Run "${r.name}" was deleted; it is no longer shown.`);
    }
    this.metricKeys = update.metricKeys;
    if (!this.state.metric && this.metricKeys.length) this.state.metric = defaultMetric(this.metricKeys, this.objectives);
    this.syncControls();
    const changed = update.runs.map((r) => r.id);
    if (changed.length && this.state.metric) await this.fetchSeries({ runIds: changed });
    this.redrawAll();
    this.save();
  }

  /**
   * Curves of the current metric: the overview (`overview` false: a zoom keeps
   * the one loaded) and, when zoomed, the detail of the range; of `runIds` only
   * (live updates), or of every run, which makes any such fetch in flight stale.
   */
  private async fetchSeries({ runIds, overview = true }: { runIds?: string[]; overview?: boolean } = {}): Promise<void> {
    const metric = this.state.metric;
    if (!metric || !this.runs.length) return;
    const seq = runIds || !overview ? this.seriesSeq : ++this.seriesSeq;
    const detailSeq = runIds ? this.detailSeq : ++this.detailSeq;
    const maxPoints = pointsPerRun(this.curvesCanvas.parentElement?.clientWidth || 800, this.runs.length);
    const smoothing = this.state.smoothing || undefined;
    try {
      performance.mark('compare:series-request');
      const whole = overview ? await this.endpoint.request('compare/series', { metric, runIds, maxPoints, smoothing }) : undefined;
      performance.mark('compare:series-reply');
      const zoom = this.state.zoom;
      const detail = zoom ? await this.endpoint.request('compare/series', { metric, runIds, maxPoints, smoothing, range: { axis: this.state.xAxis, min: zoom.min, max: zoom.max } }) : undefined;
      if (seq !== this.seriesSeq || metric !== this.state.metric) return; // a newer fetch replaced this one, or another metric is shown
      if (whole) {
        if (!runIds) this.overview.clear();
        for (const s of whole.series) this.overview.set(s.runId, s);
      }
      if (detailSeq !== this.detailSeq) return; // a newer zoom fetches its own detail
      if (detail) {
        if (!this.detail || !runIds) this.detail = new Map();
        for (const s of detail.series) this.detail.set(s.runId, s);
      } else if (!runIds) this.detail = null;
    } catch (err) {
      this.setNotices([...this.notices, `Could not read the curves of "${metric}": ${(err as Error).message}`]);
    }
  }

  /** `programmatic`: not from the dropdown itself, which then needs to show the new value. */
  private async setMetric(metric: string, programmatic = false): Promise<void> {
    this.state.metric = metric || null;
    if (programmatic) this.metricDropdown.value = metric;
    await this.fetchSeries();
    this.drawCurves();
    this.save();
  }

  /**
   * The host smooths each run's whole history, so a new weight fetches the curves
   * again; while the slider is dragged, one fetch at a time, the last one with the
   * weight the slider ended on.
   */
  private setSmoothing(weight: number): Promise<void> {
    this.state.smoothing = weight;
    this.save();
    this.smoothingFetch ??= (async () => {
      try {
        let asked: number;
        do {
          asked = this.state.smoothing;
          await this.fetchSeries();
          this.drawCurves();
        } while (asked !== this.state.smoothing);
      } finally {
        this.smoothingFetch = null;
      }
    })();
    return this.smoothingFetch;
  }

  private setAxis(axis: XAxis, programmatic = false): void {
    this.state.xAxis = axis;
    if (programmatic) this.axisDropdown.value = axis;
    // A zoom is in the old axis' units.
    this.state.zoom = null;
    this.detail = null;
    this.drawCurves();
    this.save();
  }

  private async setZoom(zoom: { min: number; max: number } | null): Promise<void> {
    this.state.zoom = zoom && zoom.max > zoom.min ? zoom : null;
    if (!this.state.zoom) this.detail = null;
    this.drawCurves(); // right away on what is loaded; the detail follows
    if (this.state.zoom) {
      await this.fetchSeries({ overview: false });
      this.drawCurves();
    }
    this.save();
  }

  private showTab(tab: CompareTab): void {
    this.state.tab = tab;
    // Charts in a hidden tab have no size: draw the one shown.
    requestAnimationFrame(() => this.redrawAll());
    this.save();
  }

  /** The metric and field dropdowns and the header, after the runs or their metric keys changed. */
  private syncControls(): void {
    this.metricDropdown.setOptions(this.metricKeys.map((k) => ({ value: k, label: k })), this.state.metric ?? '');
    this.updateFieldDropdowns();
    this.updateHeader();
  }

  private assignColors(): void {
    this.colors = runColorsById(this.runs.map((r) => r.id));
  }

  private updateHeader(): void {
    const n = this.runs.length;
    this.title.textContent = n ? `Comparing ${n} run${n === 1 ? '' : 's'}` : 'Compare runs';
    this.emptyArea.hidden = n > 0;
    this.body.hidden = n === 0;
    if (!n) {
      this.emptyArea.replaceChildren(
        el('p', { text: 'No runs to compare: they were deleted, or none were chosen.' }),
        el('p', { text: 'Select runs in the Runs view or the runs table and choose Compare, or pick them here.' }),
        button('Choose runs…', () => void this.pickRuns(), { appearance: 'primary' }),
      );
    }
  }

  private setNotices(notices: string[]): void {
    this.notices = notices;
    this.renderNotices([]);
  }

  private renderNotices(extra: string[]): void {
    const all = [...this.notices, ...extra];
    this.noticeArea.replaceChildren(...all.map((n) => notice(n, /deleted|Could not/.test(n) ? 'warning' : 'info')));
  }

  private redrawAll(): void {
    this.renderNotices([]);
    this.drawCurves();
    if (this.state.tab === 'params') this.renderParams();
    if (this.state.tab === 'parallel') this.drawParallel();
    if (this.state.tab === 'scatter') this.drawScatter();
  }

  // ---------------------------------------------------------------- curves

  private drawCurves(): void {
    const metric = this.state.metric;
    const axis = this.state.xAxis;
    const source = this.detail ?? this.overview;
    const datasets: ChartDataset<'line', Point[]>[] = [];
    const drawn: typeof this.drawn = [];
    let nonFinite = 0, droppedForLog = 0, downsampled = false, maxKept = 0;
    // Many overlaid curves: 1 px lines read as well and rasterise several times faster (hairlines).
    const width = this.runs.length > 20 ? 1 : 1.6;
    for (const run of this.runs) {
      const s = source.get(run.id) ?? this.overview.get(run.id);
      if (!s) continue;
      nonFinite += s.nonFinite;
      downsampled ||= s.downsampled;
      maxKept = Math.max(maxKept, s.values.length);
      if (this.state.hidden.includes(run.id)) continue;
      let raw = seriesPoints(s, axis, run.start);
      if (this.state.logScale) {
        const kept = forLogScale(raw);
        raw = kept.points;
        droppedForLog += kept.dropped;
      }
      const color = this.colors.get(run.id) ?? this.theme.foreground;
      drawn.push({ runId: run.id, label: run.name, raw });
      if (s.smoothed) {
        const smoothed = smoothedPoints(raw);
        datasets.push({ label: `${run.name} (raw)`, data: raw, borderColor: withAlpha(color, 0.25), borderWidth: 1, pointRadius: 0 });
        datasets.push({ label: run.name, data: this.state.logScale ? forLogScale(smoothed).points : smoothed, borderColor: color, borderWidth: width, pointRadius: 0 });
      } else {
        datasets.push({ label: run.name, data: raw, borderColor: color, borderWidth: width, pointRadius: raw.length === 1 ? 3 : 0, backgroundColor: color });
      }
    }
    this.drawn = drawn;
    const messages: string[] = [];
    if (!metric) messages.push(this.runs.length ? 'These runs logged no metrics yet.' : '');
    if (nonFinite) messages.push(`${nonFinite} NaN or infinite point${nonFinite === 1 ? ' is' : 's are'} not drawn.`);
    if (droppedForLog) messages.push(`${droppedForLog} point${droppedForLog === 1 ? '' : 's'} ≤ 0 cannot be drawn on a log scale.`);
    if (downsampled) messages.push(`Downsampled to at most ${maxKept} points per run (shape, minimum and maximum kept); drag across the chart to zoom in on the detail.`);
    this.curvesMessage.textContent = messages.filter(Boolean).join(' ');
    // The first chart is painted before the legend beside it is built (its box has a fixed width).
    if (this.curvesChart) this.renderLegend();
    else afterPaint(() => this.renderLegend());
    if (this.state.tab !== 'curves' || !this.curvesCanvas.isConnected || !this.curvesCanvas.parentElement?.clientWidth) return;

    const zoom = this.state.zoom;
    const span = spanOf(drawn, zoom);
    const x = {
      type: 'linear' as const,
      min: zoom?.min,
      max: zoom?.max,
      ...axisStyle(this.theme, AXES.find((a) => a.value === axis)!.label, { maxRotation: 0, callback: (v: number | string) => formatTick(Number(v), axis, span) }),
    };
    const goal = this.goal();
    const y = {
      type: (this.state.logScale ? 'logarithmic' : 'linear') as 'linear',
      // The target stays in view, so the goal line is always drawn.
      ...(goal && !zoom ? { suggestedMin: goal.target, suggestedMax: goal.target } : {}),
      ...axisStyle(this.theme, metric ?? '', { callback: (v: number | string) => formatNumber(Number(v), 4) }),
    };
    const scales = { x, y } as unknown as ChartOptions<'line'>['scales'];
    if (!this.curvesChart) {
      performance.mark('compare:chart-create');
      this.curvesChart = new Chart<'line', Point[]>(this.curvesCanvas, {
        type: 'line',
        data: { datasets },
        options: {
          ...BASE_CHART_OPTIONS,
          normalized: true,
          spanGaps: true,
          events: [], // hover and zoom are handled by this panel (every run's value at x)
          elements: { line: { tension: 0 } },
          plugins: { legend: { display: false }, tooltip: { enabled: false } },
          scales,
        },
        plugins: [backgroundPlugin as Plugin<'line'>, goalLinePlugin(() => this.goal(), () => this.theme.muted)],
      });
      requestAnimationFrame(() => {
        if (!performance.getEntriesByName('compare:first-paint').length && datasets.length) performance.mark('compare:first-paint');
      });
    } else {
      this.curvesChart.data.datasets = datasets;
      this.curvesChart.options.scales = scales;
      this.curvesChart.update('none');
    }
    if (this.hoverX !== null) this.hoverAt(this.hoverX);
  }

  private renderLegend(): void {
    const metric = this.state.metric;
    const latest = (run: CompareRun) => (metric && run.metrics[metric] ? fromWire(run.metrics[metric].latest) : undefined);
    const digits = digitsToTellApart(this.runs.filter((r) => !this.state.hidden.includes(r.id)).map(latest).filter((v): v is number => v !== undefined));
    this.legend.replaceChildren(
      ...this.runs.map((run) => {
        const hidden = this.state.hidden.includes(run.id);
        const value = latest(run);
        const item = el(
          'div',
          { className: `legend-item${hidden ? ' off' : ''}`, role: 'listitem', title: `${run.name} (${run.status}) — click to ${hidden ? 'show' : 'hide'}`, data: { run: run.id } },
          swatch(this.colors.get(run.id)),
          el('span', { className: 'legend-name', text: run.name }),
          el('span', { className: `legend-value status-${run.status}`, text: formatNumber(value, digits) }),
        );
        item.addEventListener('click', () => {
          this.state.hidden = hidden ? this.state.hidden.filter((id) => id !== run.id) : [...this.state.hidden, run.id];
          this.drawCurves();
          this.save();
        });
        return item;
      }),
    );
  }

  /** Shows every run's value at x (in the axis' units); returns the read-out lines. */
  hoverAt(x: number): string[] {
    this.hoverX = x;
    const span = spanOf(this.drawn, this.state.zoom);
    this.hoverText = hoverLines(this.drawn.map((d) => ({ name: d.label, points: d.raw })), x, this.state.xAxis, span);
    this.readout.replaceChildren(
      el('div', { className: 'readout-title', text: this.hoverText[0] }),
      ...this.hoverText.slice(1).map((line, i) => {
        const run = this.drawn.find((d) => line.startsWith(`${d.label}: `)) ?? this.drawn[i];
        return el('div', { className: 'readout-line' }, swatch(run ? this.colors.get(run.runId) : undefined), el('span', { text: line }));
      }),
    );
    this.readout.hidden = false;
    // The vertical line is an element over the canvas: hovering never redraws a hundred curves.
    const chart = this.curvesChart;
    if (chart) {
      const px = chart.scales.x.getPixelForValue(x);
      const { top, bottom, left, right } = chart.chartArea;
      const wrap = this.curvesCanvas.parentElement!;
      const onRight = px > wrap.clientWidth / 2;
      this.readout.style.left = onRight ? '' : `${Math.round(px + 12)}px`;
      this.readout.style.right = onRight ? `${Math.round(wrap.clientWidth - px + 12)}px` : '';
      this.crosshair.hidden = px < left || px > right;
      this.crosshair.style.left = `${Math.round(px)}px`;
      this.crosshair.style.top = `${Math.round(top)}px`;
      this.crosshair.style.height = `${Math.round(bottom - top)}px`;
    }
    return this.hoverText;
  }

  private clearHover(): void {
    this.hoverX = null;
    this.readout.hidden = true;
    this.crosshair.hidden = true;
  }

  private installChartMouse(): void {
    const canvas = this.curvesCanvas;
    let dragFrom: number | null = null;
    const valueAt = (px: number) => this.curvesChart?.scales.x.getValueForPixel(px);
    canvas.addEventListener('mousemove', (e) => {
      if (!this.curvesChart) return;
      const { left, right } = this.curvesChart.chartArea;
      if (dragFrom !== null) {
        const a = Math.max(left, Math.min(dragFrom, e.offsetX)), b = Math.min(right, Math.max(dragFrom, e.offsetX));
        this.zoomBox.hidden = false;
        this.zoomBox.style.left = `${a}px`;
        this.zoomBox.style.width = `${b - a}px`;
      }
      if (e.offsetX < left || e.offsetX > right) return this.clearHover();
      const x = valueAt(e.offsetX);
      if (x !== undefined) this.hoverAt(x);
    });
    canvas.addEventListener('mouseleave', () => this.clearHover());
    canvas.addEventListener('mousedown', (e) => {
      if (e.button === 0 && this.curvesChart) dragFrom = e.offsetX;
    });
    window.addEventListener('mouseup', (e) => {
      if (dragFrom === null) return;
      const from = dragFrom;
      dragFrom = null;
      this.zoomBox.hidden = true;
      const rect = canvas.getBoundingClientRect();
      const to = e.clientX - rect.left;
      if (Math.abs(to - from) < 5) return;
      const a = valueAt(Math.min(from, to)), b = valueAt(Math.max(from, to));
      if (a !== undefined && b !== undefined) void this.setZoom({ min: a, max: b });
    });
    canvas.addEventListener('dblclick', () => void this.setZoom(null));
  }

  // ---------------------------------------------------------------- params

  private renderParams(): void {
    const runs = this.runs;
    const diff = paramDiff(runs);
    const shown = this.state.onlyDifferences ? diff.filter((d) => d.differs) : diff;
    const head = () => el('tr', {}, el('th', { text: '' }), ...runs.map((r) => el('th', { title: r.id }, swatch(this.colors.get(r.id)), el('span', { text: r.name }))));
    const differing = diff.filter((d) => d.differs).length;
    const paramTable = el(
      'table',
      { className: 'diff-table', id: 'param-diff', aria: { label: 'Parameters' } },
      el('thead', {}, head()),
      el('tbody', {}, ...shown.map((row) => el('tr', { className: row.differs ? 'differs' : 'same', data: { key: row.key } },
        el('th', { text: row.key, title: row.differs ? 'differs between the runs' : 'the same in every run' }),
        ...row.values.map((v) => el('td', { text: v, title: v.length > 40 ? v : '' }))))),
    );
    const metricKeys = this.metricKeys;
    const metricTable = el(
      'table',
      { className: 'diff-table metrics-table', id: 'metric-summary', aria: { label: 'Metrics' } },
      el('thead', {}, head()),
      el('tbody', {}, ...metricKeys.map((k) => el('tr', {}, el('th', { text: k }), ...runs.map((r) => {
        const m = r.metrics[k];
        return el('td', { text: m ? formatNumber(fromWire(m.latest)) : '', title: m ? `latest ${formatNumber(fromWire(m.latest))} at step ${m.step}\nmin ${formatNumber(fromWire(m.min))}\nmax ${formatNumber(fromWire(m.max))}\n${m.count} points` : '' });
      })))),
    );
    const now = Date.now();
    const info = el(
      'table',
      { className: 'diff-table', id: 'run-info', aria: { label: 'Runs' } },
      el('thead', {}, head()),
      el('tbody', {},
        el('tr', {}, el('th', { text: 'Status' }), ...runs.map((r) => el('td', { className: `status status-${r.status}`, text: r.status }))),
        el('tr', {}, el('th', { text: 'Experiment' }), ...runs.map((r) => el('td', { text: r.experiment }))),
        el('tr', {}, el('th', { text: 'Start' }), ...runs.map((r) => el('td', { text: formatTime(r.start) }))),
        el('tr', {}, el('th', { text: 'Duration' }), ...runs.map((r) => el('td', { text: formatSeconds(durationSeconds(r.start, r.end, now)) }))),
        el('tr', {}, el('th', { text: 'Source' }), ...runs.map((r) => el('td', { text: r.source }))),
      ),
    );
    const only = checkbox('Only differences', this.state.onlyDifferences, (on) => {
      this.state.onlyDifferences = on;
      this.renderParams();
      this.save();
    });
    this.paramsArea.replaceChildren(
      el('div', { className: 'controls' },
        only.element,
        el('span', { className: 'muted', text: `${differing} of ${diff.length} params differ` }),
        button('CSV', () => void this.save_('params.csv', paramDiffCsv(this.runs, this.state.onlyDifferences)), { title: 'Save the parameter table as CSV' }),
      ),
      el('h2', { text: 'Parameters' }),
      diff.length ? paramTable : el('p', { className: 'muted', text: 'These runs logged no parameters.' }),
      el('h2', { text: 'Metrics (latest)' }),
      metricTable,
      el('h2', { text: 'Runs' }),
      info,
    );
  }

  // ---------------------------------------------------------------- parallel coordinates and scatter

  private fields(): Field[] {
    return fieldsOf(this.runs, this.metricKeys);
  }

  private updateFieldDropdowns(): void {
    const fields = this.fields();
    const options = fields.map((f) => ({ value: f.id, label: f.label }));
    const metricOptions = this.metricKeys.map((k) => ({ value: k, label: k }));
    if (!this.state.parallelMetric || !this.metricKeys.includes(this.state.parallelMetric)) this.state.parallelMetric = this.state.metric ?? this.metricKeys[0] ?? null;
    this.parallelMetric.setOptions(metricOptions, this.state.parallelMetric ?? '');
    const ids = fields.map((f) => f.id);
    if (!this.state.scatterX || !ids.includes(this.state.scatterX)) this.state.scatterX = defaultScatterX(this.runs, fields)?.id ?? null;
    if (!this.state.scatterY || !ids.includes(this.state.scatterY)) this.state.scatterY = (this.state.metric && ids.includes(`metric:${this.state.metric}`) ? `metric:${this.state.metric}` : fields.find((f) => f.kind === 'metric')?.id) ?? null;
    this.scatterX.setOptions(options, this.state.scatterX ?? '');
    this.scatterY.setOptions(options, this.state.scatterY ?? '');
  }

  private drawParallel(): void {
    const canvas = this.parallelCanvas;
    if (!canvas.parentElement?.clientWidth) return;
    const dims = parallelDimensions(this.runs, this.fields(), this.state.parallelMetric);
    const datasets: ChartDataset<'line', Point[]>[] = this.runs.map((run) => {
      const color = this.colors.get(run.id) ?? this.theme.foreground;
      return {
        label: run.name,
        data: dims.map((d, i) => ({ x: i, y: normalized(run, d) ?? NaN })),
        borderColor: color,
        backgroundColor: color,
        borderWidth: 1.6,
        pointRadius: 3,
        spanGaps: false,
      };
    });
    const theme = this.theme;
    const axesPlugin: Plugin<'line'> = {
      id: 'mlopsParallelAxes',
      afterDatasetsDraw(chart) {
        const ctx = chart.ctx;
        const { top, bottom } = chart.chartArea;
        ctx.save();
        ctx.font = '11px sans-serif';
        ctx.fillStyle = theme.muted;
        ctx.strokeStyle = theme.border;
        dims.forEach((d, i) => {
          const px = chart.scales.x.getPixelForValue(i);
          ctx.beginPath();
          ctx.moveTo(px, top);
          ctx.lineTo(px, bottom);
          ctx.stroke();
          ctx.textAlign = i === dims.length - 1 ? 'right' : i === 0 ? 'left' : 'center';
          const y = (v: number) => chart.scales.y.getPixelForValue(v);
          if (d.field.numeric) {
            ctx.fillText(formatNumber(d.max, 4), px, y(1) - 4);
            ctx.fillText(formatNumber(d.min, 4), px, y(0) + 12);
          } else {
            d.field.categories.forEach((c, k) => ctx.fillText(c, px, y(d.field.categories.length === 1 ? 0.5 : k / (d.field.categories.length - 1)) - 4));
          }
        });
        ctx.restore();
      },
    };
    this.parallelChart?.destroy();
    this.parallelChart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        ...BASE_CHART_OPTIONS,
        layout: { padding: { top: 18, bottom: 6, left: 8, right: 8 } },
        interaction: { mode: 'nearest', intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items: TooltipItem<'line'>[]) => (items[0] ? dims[Number(items[0].parsed.x)]?.field.label ?? '' : ''),
              label: (item: TooltipItem<'line'>) => `${item.dataset.label}: ${dimText(this.runs[item.datasetIndex], dims[Number(item.parsed.x)])}`,
            },
          },
        },
        scales: {
          x: { type: 'linear', min: 0, max: Math.max(1, dims.length - 1), ticks: { stepSize: 1, color: theme.foreground, callback: (v) => dims[Number(v)]?.field.label ?? '' }, grid: { display: false }, border: { color: theme.border } },
          y: { type: 'linear', min: -0.05, max: 1.05, display: false },
        },
      },
      plugins: [backgroundPlugin as Plugin<'line'>, axesPlugin],
    });
  }

  private drawScatter(): void {
    const canvas = this.scatterCanvas;
    if (!canvas.parentElement?.clientWidth) return;
    const fields = this.fields();
    const fx = fields.find((f) => f.id === this.state.scatterX);
    const fy = fields.find((f) => f.id === this.state.scatterY);
    const theme = this.theme;
    const datasets: ChartDataset<'scatter', Point[]>[] = this.runs.map((run) => {
      const x = fx && fieldValue(run, fx), y = fy && fieldValue(run, fy);
      const color = this.colors.get(run.id) ?? theme.foreground;
      return { label: run.name, data: x !== undefined && y !== undefined ? [{ x, y }] : [], backgroundColor: color, borderColor: color, pointRadius: 5, pointHoverRadius: 7 };
    });
    const axis = (f: Field | undefined) => ({
      type: 'linear' as const,
      ...(f && !f.numeric ? { min: -0.5, max: f.categories.length - 0.5 } : {}),
      ...axisStyle(theme, f?.label ?? '', {
        ...(f && !f.numeric ? { stepSize: 1 } : {}),
        callback: (v: number | string) => (f && !f.numeric ? f.categories[Number(v)] ?? '' : formatNumber(Number(v), 4)),
      }),
    });
    this.scatterChart?.destroy();
    this.scatterChart = new Chart<'scatter', Point[]>(canvas, {
      type: 'scatter',
      data: { datasets },
      options: {
        ...BASE_CHART_OPTIONS,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item: TooltipItem<'scatter'>) => {
                const run = this.runs[item.datasetIndex];
                return `${run.name}: ${fx ? fieldText(run, fx) : ''}, ${fy ? fieldText(run, fy) : ''}`;
              },
            },
          },
        },
        scales: { x: axis(fx), y: axis(fy) },
      },
      plugins: [backgroundPlugin as Plugin<'scatter'>],
    });
  }

  // ---------------------------------------------------------------- export, pick, inspect

  /** What the PNG or CSV button of the shown tab saves. */
  private exportTab(format: 'png' | 'csv'): Promise<SaveFileResult> {
    const tab = this.state.tab;
    if (format === 'png') {
      const canvas = tab === 'parallel' ? this.parallelCanvas : tab === 'scatter' ? this.scatterCanvas : this.curvesCanvas;
      return this.exportPng(canvas, tab === 'parallel' ? 'parallel-coordinates' : tab === 'params' ? 'curves' : tab);
    }
    if (tab === 'curves') return this.exportCurvesCsv();
    if (tab === 'params') return this.save_('params.csv', paramDiffCsv(this.runs, this.state.onlyDifferences));
    return this.exportRunsCsv(tab === 'parallel' ? 'parallel-coordinates' : 'scatter');
  }

  private async exportPng(canvas: HTMLCanvasElement, name: string): Promise<SaveFileResult> {
    if (!canvas.width) {
      this.flash('Show the chart first: there is nothing drawn to save.');
      return { path: null };
    }
    return this.save_(`${name}.png`, pngBase64(canvas), true);
  }

  private async exportCurvesCsv(): Promise<SaveFileResult> {
    if (!this.state.metric) return { path: null };
    try {
      const saved = await this.endpoint.request('compare/exportCsv', { metric: this.state.metric });
      if (saved.path) this.flash(`Saved ${saved.path}`);
      return saved;
    } catch (err) {
      this.flash(`Export failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private exportRunsCsv(name: string): Promise<SaveFileResult> {
    return this.save_(`${name}.csv`, runsCsv(this.runs, this.fields()));
  }

  private async save_(suggestedName: string, content: string, base64 = false): Promise<SaveFileResult> {
    try {
      const saved = await this.endpoint.request('file/save', { suggestedName, content, base64, typeLabel: base64 ? 'PNG' : 'CSV' });
      if (saved.path) this.flash(`Saved ${saved.path}`);
      return saved;
    } catch (err) {
      this.flash(`Export failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private flash(text: string): void {
    this.renderNotices([text]);
  }

  private async pickRuns(): Promise<void> {
    try {
      await this.endpoint.request('compare/pickRuns', {});
    } catch (err) {
      this.flash((err as Error).message);
    }
  }

  /** The objective with a target for the shown metric (none on a log scale when the target is ≤ 0). */
  private goal() {
    const goal = targetOf(this.state.metric, this.objectives);
    return goal && !(this.state.logScale && goal.target <= 0) ? goal : undefined;
  }

  private inspect(): CompareInspection {
    const diff = paramDiff(this.runs);
    return {
      runIds: this.runs.map((r) => r.id),
      metric: this.state.metric,
      xAxis: this.state.xAxis,
      logScale: this.state.logScale,
      smoothing: this.state.smoothing,
      zoom: this.state.zoom,
      tab: this.state.tab,
      curves: this.drawn.map((d) => ({
        runId: d.runId,
        label: d.label,
        points: d.raw.length,
        lastX: d.raw.length ? d.raw[d.raw.length - 1].x : null,
        lastY: d.raw.length ? d.raw[d.raw.length - 1].y : null,
        lastSmoothed: d.raw[d.raw.length - 1]?.s ?? null,
      })),
      diff: diff.map((d) => ({ key: d.key, values: d.values, differs: d.differs })),
      notices: [...this.notices, this.curvesMessage.textContent ?? ''].filter(Boolean),
      canvases: canvasInfos(),
      hover: this.hoverText,
      goalLine: this.state.tab === 'curves' && this.goal() ? goalLabel(this.goal()!) : null,
    };
  }

  private save(): void {
    saveState(this.state);
  }
}

/** Runs `fn` once the next frame is painted. */
function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => setTimeout(fn));
}

function swatch(color: string | undefined): HTMLElement {
  const s = el('span', { className: 'swatch', aria: { hidden: 'true' } });
  if (color) s.style.backgroundColor = color;
  return s;
}

function spanOf(drawn: { raw: Point[] }[], zoom: { min: number; max: number } | null): number {
  if (zoom) return zoom.max - zoom.min;
  let lo = Infinity, hi = -Infinity;
  for (const d of drawn) {
    if (!d.raw.length) continue;
    lo = Math.min(lo, d.raw[0].x);
    hi = Math.max(hi, d.raw[d.raw.length - 1].x);
  }
  return hi > lo ? hi - lo : 0;
}

function dimText(run: CompareRun | undefined, dim: Dimension | undefined): string {
  return run && dim ? fieldText(run, dim.field) : '';
}

function fieldText(run: CompareRun, field: Field): string {
  const v = fieldValue(run, field);
  if (v === undefined) return '(none)';
  return field.numeric ? formatNumber(v) : field.categories[v] ?? '';
}

new CompareView(document.getElementById('app')!);
