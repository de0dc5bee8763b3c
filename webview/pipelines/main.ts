// The pipeline DAG panel (browser side): stages drawn as a layered SVG graph,
// left to right, edges from each stage to the stages that use its outs. Each
// stage is a focusable button: Enter runs it, Shift+Enter runs it and what
// follows; the toolbar does the same for the selected stage.

import { PIPELINE_DAG_PANEL, type DagData, type DagStage, type DagStageState, type PipelineDagContract } from '../../src/protocol/pipelines';
import { el, notice } from '../common/dom';
import { connect } from '../common/host';
import { button, registerToolkit, setDisabled } from '../common/toolkit';

const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 160;
const NODE_H = 46;
const GAP_X = 70;
const GAP_Y = 22;
const PAD = 12;

const WORDS: Record<DagStageState, string> = {
  'up-to-date': 'up to date', changed: 'changed', restorable: 'outs missing', running: 'running', ran: 'ran',
  skipped: 'skipped', restored: 'restored', failed: 'failed', 'not-run': 'not run',
};

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

class DagView {
  private data: DagData = { stages: [], running: false };
  private selected: string | undefined;
  private readonly message = el('div');
  private readonly graph = el('div', { className: 'dag', role: 'group', aria: { label: 'Pipeline stages' } });
  private readonly runAll = button('Run Pipeline', () => void this.run(undefined, false), { appearance: 'primary', title: 'Run every out-of-date stage' });
  private readonly runOne = button('Run Stage', () => this.selected && void this.run(this.selected, false), { title: 'Run the selected stage (and what it needs)' });
  private readonly runDown = button('Run Downstream', () => this.selected && void this.run(this.selected, true), { title: 'Run the selected stage and every stage after it' });
  private readonly detail = el('div', { className: 'detail muted', role: 'status' });
  private readonly endpoint;

  constructor(root: HTMLElement) {
    root.replaceChildren(el('div', { className: 'toolbar' }, this.runAll, this.runOne, this.runDown), this.message, this.graph, this.detail);
    this.endpoint = connect<PipelineDagContract>(PIPELINE_DAG_PANEL, {}, { 'dag/update': (d) => this.show(d) });
    void this.endpoint.request('dag/load', null).then((d) => this.show(d), (err: Error) => this.message.replaceChildren(notice(err.message, 'warning')));
  }

  private async run(stage: string | undefined, downstream: boolean): Promise<void> {
    await this.endpoint.request('dag/run', { stage, downstream });
  }

  private show(data: DagData): void {
    this.data = data;
    if (this.selected && !data.stages.some((s) => s.name === this.selected)) this.selected = undefined;
    this.message.replaceChildren(...(data.error ? [notice(data.error, 'warning')] : !data.stages.length ? [notice('No stages: declare them under "stages:" in mlops.yaml, each with cmd, deps and outs.')] : []));
    setDisabled(this.runAll, data.running || !data.stages.length);
    setDisabled(this.runOne, data.running || !this.selected);
    setDisabled(this.runDown, data.running || !this.selected);
    this.draw();
    this.describe();
  }

  private draw(): void {
    const { stages } = this.data;
    const columns = new Map<number, DagStage[]>();
    for (const s of stages) columns.set(s.layer, [...(columns.get(s.layer) ?? []), s]);
    const pos = new Map<string, { x: number; y: number }>();
    for (const [layer, list] of columns) list.forEach((s, row) => pos.set(s.name, { x: PAD + layer * (NODE_W + GAP_X), y: PAD + row * (NODE_H + GAP_Y) }));
    const width = PAD * 2 + Math.max(1, columns.size) * (NODE_W + GAP_X) - GAP_X;
    const height = PAD * 2 + Math.max(1, ...[...columns.values()].map((l) => l.length)) * (NODE_H + GAP_Y) - GAP_Y;
    const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'false' });
    const defs = svg('defs', {});
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
    defs.append(marker);
    root.append(defs);
    for (const s of stages) {
      const to = pos.get(s.name)!;
      for (const u of s.upstream) {
        const from = pos.get(u);
        if (!from) continue;
        const [x1, y1, x2, y2] = [from.x + NODE_W, from.y + NODE_H / 2, to.x, to.y + NODE_H / 2];
        const mid = (x1 + x2) / 2;
        root.append(svg('path', { d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`, class: 'edge', 'marker-end': 'url(#arrow)' }));
      }
    }
    for (const s of stages) root.append(this.node(s, pos.get(s.name)!));
    this.graph.replaceChildren(root);
  }

  private node(s: DagStage, at: { x: number; y: number }): SVGGElement {
    const g = svg('g', { class: `stage state-${s.state}${s.name === this.selected ? ' selected' : ''}`, transform: `translate(${at.x},${at.y})`, tabindex: 0, role: 'button', 'data-stage': s.name });
    g.setAttribute('aria-label', `Stage ${s.name}, ${WORDS[s.state]}${s.reasons.length ? `: ${s.reasons.join('; ')}` : ''}. Enter runs it, Shift+Enter runs it and the stages after it.`);
    const title = svg('title', {});
    title.textContent = [s.cmd, ...s.reasons].join('\n');
    const name = svg('text', { x: 10, y: 19, class: 'name' });
    name.textContent = s.name.length > 20 ? s.name.slice(0, 19) + '…' : s.name;
    const state = svg('text', { x: 10, y: 36, class: 'state' });
    state.textContent = WORDS[s.state];
    g.append(title, svg('rect', { width: NODE_W, height: NODE_H, rx: 4 }), name, state);
    g.addEventListener('click', () => this.select(s.name));
    g.addEventListener('dblclick', () => void this.endpoint.request('dag/open', { stage: s.name }));
    g.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key === 'Enter' && !this.data.running) {
        e.preventDefault();
        void this.run(s.name, e.shiftKey);
      } else if (e.key === ' ') {
        e.preventDefault();
        this.select(s.name);
      }
    });
    g.addEventListener('focus', () => this.select(s.name, false));
    return g;
  }

  private select(name: string, redraw = true): void {
    this.selected = name;
    setDisabled(this.runOne, this.data.running);
    setDisabled(this.runDown, this.data.running);
    for (const g of this.graph.querySelectorAll('g.stage')) g.classList.toggle('selected', (g as SVGGElement).dataset.stage === name);
    if (redraw) (this.graph.querySelector(`g.stage[data-stage="${CSS.escape(name)}"]`) as SVGGElement | null)?.focus();
    this.describe();
  }

  private describe(): void {
    const s = this.data.stages.find((x) => x.name === this.selected);
    this.detail.textContent = s ? `${s.name} (mlops.yaml line ${s.line}): ${WORDS[s.state]}${s.reasons.length ? ` — ${s.reasons.join('; ')}` : ''}\n$ ${s.cmd}` : 'Select a stage to see why it is in its state; double-click opens it in mlops.yaml.';
  }
}

registerToolkit();
new DagView(document.getElementById('app')!);
