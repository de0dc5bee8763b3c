// The virtualised grid of the runs table: only the rows in view (plus a few)
// exist in the DOM, recycled while scrolling, so 10,000 runs × 50 columns
// scroll as smoothly as 10. Text goes in with textContent, never as markup.

import { el } from '../common/dom';
import { runColor } from '../common/theme';
import { cellText, metricTooltip, type Column, type RunRecord, type TableItem } from './model';

export const ROW_HEIGHT = 24;
const OVERSCAN = 8;
const SELECT_WIDTH = 44;

export interface TableCallbacks {
  onSort(columnId: string): void;
  /** A click on a row: `mode` says how it changes the selection. */
  onRowClick(runId: string, mode: 'only' | 'toggle' | 'range'): void;
  onToggleGroup(key: string): void;
  onReorder(columnId: string, beforeId: string | null): void;
  onOpen(runId: string): void;
  onScroll(top: number): void;
}

export class VirtualTable {
  readonly element: HTMLElement;
  private readonly inner: HTMLElement;
  private readonly head: HTMLElement;
  private readonly body: HTMLElement;
  private items: TableItem[] = [];
  private columns: Column[] = [];
  private pinned = new Set<string>();
  private offsets: number[] = [];
  private totalWidth = 0;
  private sort: { column: string; descending: boolean } | null = null;
  private selection = new Set<string>();
  private pool: HTMLElement[] = [];
  private frame = 0;
  private dragging: string | null = null;
  now = Date.now();

  constructor(private readonly callbacks: TableCallbacks) {
    this.head = el('div', { className: 'thead', role: 'row' });
    this.body = el('div', { className: 'tbody', role: 'rowgroup' });
    this.inner = el('div', { className: 'table-inner' }, this.head, this.body);
    this.element = el('div', { className: 'table-scroll', role: 'grid', aria: { label: 'Runs', multiselectable: 'true' } }, this.inner);
    this.element.tabIndex = 0;
    this.element.addEventListener('scroll', () => {
      this.schedule();
      this.callbacks.onScroll(this.element.scrollTop);
    });
    new ResizeObserver(() => this.schedule()).observe(this.element);
    this.body.addEventListener('click', (e) => this.click(e));
    this.body.addEventListener('dblclick', (e) => {
      const id = (e.target as HTMLElement).closest<HTMLElement>('.tr[data-run]')?.dataset.run;
      if (id) this.callbacks.onOpen(id);
    });
  }

  setColumns(columns: Column[], pinned: string[], sort: { column: string; descending: boolean } | null): void {
    this.columns = columns;
    this.pinned = new Set(pinned);
    this.sort = sort;
    this.offsets = [];
    let x = SELECT_WIDTH;
    for (const c of columns) {
      this.offsets.push(x);
      x += c.width;
    }
    this.totalWidth = x;
    this.inner.style.width = `${x}px`;
    this.renderHead();
    for (const row of this.pool) row.remove();
    this.pool = [];
    this.schedule();
  }

  setItems(items: TableItem[], selection: Set<string>): void {
    this.items = items;
    this.selection = selection;
    this.body.style.height = `${items.length * ROW_HEIGHT}px`;
    this.element.setAttribute('aria-rowcount', String(items.length + 1));
    this.schedule();
  }

  setSelection(selection: Set<string>): void {
    this.selection = selection;
    this.schedule();
  }

  scrollTo(top: number): void {
    this.element.scrollTop = top;
    this.schedule();
  }

  /** Renders now (tests and benchmarks want the frame done). */
  flush(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.renderBody();
  }

  get domRowCount(): number {
    return this.body.querySelectorAll('.tr').length;
  }

  /** Texts of the run rows in the DOM, in display order. */
  renderedRows(): { runId: string; cells: string[] }[] {
    return [...this.body.querySelectorAll<HTMLElement>('.tr[data-run]')]
      .filter((r) => r.style.display !== 'none')
      .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
      .map((r) => ({ runId: r.dataset.run!, cells: [...r.querySelectorAll<HTMLElement>('.td:not(.select)')].map((c) => c.textContent ?? '') }));
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderBody();
    });
  }

  private renderHead(): void {
    const cells: HTMLElement[] = [el('div', { className: 'th select pinned', role: 'columnheader', aria: { label: 'Selected' } })];
    cells[0].style.width = `${SELECT_WIDTH}px`;
    cells[0].style.left = '0px';
    this.columns.forEach((c, i) => {
      const sorted = this.sort?.column === c.id;
      const th = el(
        'div',
        { className: `th col-${c.kind}${this.pinned.has(c.id) ? ' pinned' : ''}${sorted ? ' sorted' : ''}`, role: 'columnheader', title: `${c.qualified} — click to sort, drag to move`, data: { col: c.id } },
        el('span', { className: 'label', text: c.label }),
        sorted ? el('span', { className: 'sort', text: this.sort!.descending ? '▼' : '▲', aria: { hidden: 'true' } }) : null,
      );
      th.setAttribute('aria-sort', sorted ? (this.sort!.descending ? 'descending' : 'ascending') : 'none');
      th.style.width = `${c.width}px`;
      if (this.pinned.has(c.id)) th.style.left = `${this.offsets[i]}px`;
      th.draggable = true;
      th.addEventListener('click', () => this.callbacks.onSort(c.id));
      th.addEventListener('dragstart', (e) => {
        this.dragging = c.id;
        e.dataTransfer?.setData('text/plain', c.id);
      });
      th.addEventListener('dragover', (e) => {
        if (this.dragging && this.dragging !== c.id) {
          e.preventDefault();
          th.classList.add('drop-target');
        }
      });
      th.addEventListener('dragleave', () => th.classList.remove('drop-target'));
      th.addEventListener('drop', (e) => {
        e.preventDefault();
        th.classList.remove('drop-target');
        if (this.dragging && this.dragging !== c.id) this.callbacks.onReorder(this.dragging, c.id);
        this.dragging = null;
      });
      th.addEventListener('dragend', () => (this.dragging = null));
      cells.push(th);
    });
    this.head.replaceChildren(...cells);
    this.head.style.width = `${this.totalWidth}px`;
  }

  private renderBody(): void {
    const height = this.element.clientHeight || 600;
    const top = Math.max(0, this.element.scrollTop - 28); // the sticky header is inside the scroll area
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.items.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const needed = Math.max(0, last - first);
    while (this.pool.length < needed) {
      const row = this.newRow();
      this.pool.push(row);
      this.body.append(row);
    }
    for (let p = 0; p < this.pool.length; p++) {
      const row = this.pool[p];
      const i = first + p;
      if (i >= last) {
        row.style.display = 'none';
        delete row.dataset.run;
        continue;
      }
      row.style.display = '';
      row.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      row.dataset.index = String(i);
      row.setAttribute('aria-rowindex', String(i + 2));
      const item = this.items[i];
      if (item.type === 'group') this.fillGroup(row, item);
      else this.fillRun(row, item.row);
    }
  }

  private newRow(): HTMLElement {
    const row = el('div', { className: 'tr', role: 'row' });
    row.style.width = `${this.totalWidth}px`;
    const select = el('div', { className: 'td select pinned', role: 'gridcell' });
    select.style.width = `${SELECT_WIDTH}px`;
    select.style.left = '0px';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.tabIndex = -1;
    box.setAttribute('aria-label', 'Select run');
    // The run's colour, as every chart draws it.
    select.append(box, el('span', { className: 'swatch', aria: { hidden: 'true' } }));
    row.append(select);
    this.columns.forEach((c, i) => {
      const td = el('div', { className: `td col-${c.kind}${this.pinned.has(c.id) ? ' pinned' : ''}`, role: 'gridcell' });
      td.style.width = `${c.width}px`;
      if (this.pinned.has(c.id)) td.style.left = `${this.offsets[i]}px`;
      row.append(td);
    });
    row.append(el('div', { className: 'group-label', role: 'gridcell' }));
    return row;
  }

  private fillRun(row: HTMLElement, run: RunRecord): void {
    row.classList.remove('group');
    row.dataset.run = run.id;
    delete row.dataset.group;
    const selected = this.selection.has(run.id);
    row.classList.toggle('selected', selected);
    row.setAttribute('aria-selected', String(selected));
    const cells = row.children;
    (cells[0].firstChild as HTMLInputElement).checked = selected;
    (cells[0].lastChild as HTMLElement).style.backgroundColor = runColor(run.id);
    for (let c = 0; c < this.columns.length; c++) {
      const col = this.columns[c];
      const td = cells[c + 1] as HTMLElement;
      td.textContent = cellText(run, col, this.now);
      if (col.kind === 'metric') td.title = metricTooltip(run, col);
      else if (col.kind === 'attr' && col.key === 'status') {
        td.className = `td col-attr status status-${run.status}${this.pinned.has(col.id) ? ' pinned' : ''}`;
        td.title = run.status;
      } else if (col.kind === 'attr' && col.key === 'objectives') {
        const missed = run.objectives?.startsWith('✗') ?? false;
        td.className = `td col-attr${run.objectives ? (missed ? ' objective-missed' : ' objective-met') : ''}${this.pinned.has(col.id) ? ' pinned' : ''}`;
        td.title = run.objectives ? (missed ? `Misses the target of ${run.objectives.slice(2)} (mlops.yaml objectives)` : 'Meets every objective target in mlops.yaml') : '';
      } else if (col.kind === 'attr' && col.key === 'id') td.title = run.id;
      else td.title = td.textContent.length > 14 ? td.textContent : '';
    }
  }

  private fillGroup(row: HTMLElement, group: TableItem & { type: 'group' }): void {
    row.classList.add('group');
    row.classList.remove('selected');
    row.removeAttribute('aria-selected');
    delete row.dataset.run;
    row.dataset.group = group.key;
    row.setAttribute('aria-expanded', String(!group.collapsed));
    const label = row.lastElementChild as HTMLElement;
    label.textContent = `${group.collapsed ? '▸' : '▾'} ${group.label} (${group.count} run${group.count === 1 ? '' : 's'})`;
  }

  private click(e: MouseEvent): void {
    const row = (e.target as HTMLElement).closest<HTMLElement>('.tr');
    if (!row) return;
    if (row.dataset.group !== undefined && row.classList.contains('group')) {
      this.callbacks.onToggleGroup(row.dataset.group);
      return;
    }
    const id = row.dataset.run;
    if (!id) return;
    const onBox = (e.target as HTMLElement).closest('.select');
    const mode = e.shiftKey ? 'range' : onBox || e.ctrlKey || e.metaKey ? 'toggle' : 'only';
    this.callbacks.onRowClick(id, mode);
  }
}
