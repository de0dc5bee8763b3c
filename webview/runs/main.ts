// The runs table panel (browser side): toolbar, filter, column chooser,
// grouping, selection, export, and the virtualised grid. Data comes from the
// host as messages; the layout the user chose is saved in the webview state.

import type { SaveFileResult } from '../../src/protocol/common';
import type { FilterResult, RunsTableContract, RunsTableInspection } from '../../src/protocol/runsTable';
import { RUNS_TABLE_PANEL } from '../../src/protocol/runsTable';
import { el } from '../common/dom';
import { connect, loadState, saveState, type WebviewEndpoint } from '../common/host';
import { button, checkbox, dropdown, registerToolkit, setDisabled, textField, type DropdownOption } from '../common/toolkit';
import {
  buildItems, DEFAULT_LAYOUT, isVisible, moveColumn, orderedColumns, RunStore, setPinned, setVisible, shiftColumn, tableCsv, visibleColumns,
  type ColumnLayout, type RunRecord,
} from './model';
import { VirtualTable } from './table';

interface RunsState {
  v: 1;
  filter: string;
  sort: { column: string; descending: boolean } | null;
  groupBy: string | null;
  collapsed: string[];
  layout: ColumnLayout;
  selected: string[];
  scrollTop: number;
}

const EXAMPLE = "metrics.val_accuracy > 0.9 and params.lr < 0.01 and status = 'FINISHED'";

class RunsTableView {
  private readonly store = new RunStore();
  private state: RunsState;
  private match: Set<string> | null = null;
  private appliedQuery = '';
  private filterError: string | null = null;
  private filterSeq = 0;
  private shown: RunRecord[] = [];
  private selection: Set<string>;
  private anchor: string | null = null;
  private loaded = false;
  private endpoint!: WebviewEndpoint<RunsTableContract>;

  private readonly table: VirtualTable;
  private readonly filterField = textField('', {
    placeholder: `Filter runs, e.g. ${EXAMPLE}`,
    label: 'Filter query',
    id: 'filter',
    onSubmit: (value) => void this.applyFilter(value),
    onInput: (value) => {
      if (!value.trim() && this.appliedQuery) void this.applyFilter('');
    },
  });
  private readonly filterMessage = el('div', { className: 'filter-message', role: 'alert', id: 'filter-message' });
  private readonly count = el('span', { className: 'count', role: 'status', id: 'run-count' });
  private readonly compareButton = button('Compare', () => void this.compare(), { appearance: 'primary', id: 'compare', title: 'Compare the selected runs' });
  private readonly groupBy = dropdown([], '', (value) => this.setGroupBy(value || null), 'Group by');
  private readonly chooser = el('div', { className: 'column-chooser', id: 'column-chooser', role: 'dialog', aria: { label: 'Columns' } });
  private readonly empty = el('div', { className: 'empty', id: 'empty' });

  constructor(root: HTMLElement) {
    const saved = loadState<RunsState>(1);
    this.state = {
      v: 1,
      filter: typeof saved.filter === 'string' ? saved.filter : '',
      sort: saved.sort ?? null,
      groupBy: saved.groupBy ?? null,
      collapsed: Array.isArray(saved.collapsed) ? saved.collapsed : [],
      layout: { ...DEFAULT_LAYOUT, ...(saved.layout ?? {}) },
      selected: Array.isArray(saved.selected) ? saved.selected : [],
      scrollTop: typeof saved.scrollTop === 'number' ? saved.scrollTop : 0,
    };
    this.selection = new Set(this.state.selected);
    this.filterField.value = this.state.filter;
    this.table = new VirtualTable({
      onSort: (id) => this.sortBy(id),
      onRowClick: (id, mode) => this.clickRow(id, mode),
      onToggleGroup: (key) => this.toggleGroup(key),
      onReorder: (id, before) => this.setLayout(moveColumn(this.store.columns, this.state.layout, id, before)),
      onOpen: (id) => void this.endpoint.request('runs/reveal', { runId: id }).catch(() => undefined),
      onScroll: (top) => {
        this.state.scrollTop = top;
        this.saveSoon();
      },
    });
    this.chooser.hidden = true;
    const toolbar = el(
      'div',
      { className: 'toolbar', role: 'toolbar', aria: { label: 'Runs table' } },
      el('div', { className: 'filter' }, this.filterField.element, button('Apply', () => void this.applyFilter(this.filterField.value), { id: 'apply-filter', title: 'Apply the filter query (Enter)' })),
      el('label', { className: 'group-by' }, el('span', { text: 'Group by' }), this.groupBy.element),
      button('Columns…', () => this.toggleChooser(), { id: 'columns', title: 'Show, hide, reorder and pin columns' }),
      this.compareButton,
      button('Export CSV', () => void this.exportCsv(), { id: 'export-csv', title: 'Save the visible table as CSV' }),
      this.count,
    );
    root.replaceChildren(toolbar, this.filterMessage, this.chooser, this.empty, this.table.element);
    root.removeAttribute('aria-busy');
    setInterval(() => this.tick(), 1000);
  }

  start(): void {
    this.endpoint = connect<RunsTableContract>(
      RUNS_TABLE_PANEL,
      {
        'runs/setFilter': async ({ query }) => {
          this.filterField.value = query;
          return this.applyFilter(query);
        },
        'view/inspect': () => this.inspect(),
        'runs/csv': () => this.csv(),
        'view/export': () => this.exportCsv(),
        'runs/select': ({ runIds }) => {
          this.selection = new Set(runIds.filter((id) => this.store.rows.has(id)));
          this.selectionChanged();
          return [...this.selection];
        },
      },
      {
        'runs/changed': (delta) => {
          if (!this.loaded) return;
          this.store.apply(delta);
          for (const id of delta.removed) {
            this.selection.delete(id);
            this.match?.delete(id);
          }
          if (this.match) {
            if (delta.filter && delta.filter.query === this.appliedQuery) {
              const yes = new Set(delta.filter.matching);
              for (const row of delta.upserts) {
                if (yes.has(row.id)) this.match.add(row.id);
                else this.match.delete(row.id);
              }
            } else void this.applyFilter(this.appliedQuery); // the host's filter is not ours: ask again
          }
          this.refresh();
        },
      },
    );
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const data = await this.endpoint.request('runs/load', {});
      this.store.load(data);
      this.loaded = true;
      this.selection = new Set([...this.selection].filter((id) => this.store.rows.has(id)));
      if (this.state.filter.trim()) await this.applyFilter(this.state.filter);
      else this.refresh();
      this.table.scrollTo(this.state.scrollTop);
      performance.mark('runs:first-render');
    } catch (err) {
      this.showMessage(`Could not load the runs: ${(err as Error).message}`, 'error');
    }
  }

  /** Sends the query to the host (which owns the parser); keeps the last good filter on an error. */
  async applyFilter(text: string): Promise<FilterResult> {
    const seq = ++this.filterSeq;
    let result: FilterResult;
    try {
      result = await this.endpoint.request('runs/filter', { query: text });
    } catch (err) {
      result = { ok: false, query: text, error: `The filter could not be applied: ${(err as Error).message}` };
    }
    if (seq !== this.filterSeq) return result; // a newer query was typed meanwhile
    if (result.ok) {
      this.match = result.matching ? new Set(result.matching) : null;
      this.appliedQuery = result.query;
      this.filterError = null;
      this.state.filter = result.query;
      this.filterField.setInvalid(null);
      this.showMessage('', 'info');
    } else {
      this.filterError = result.error;
      this.filterField.setInvalid(result.error);
      const keeping = this.appliedQuery ? ` Still showing the runs of the last valid filter: ${this.appliedQuery}` : '';
      this.showMessage(`${result.error}${keeping}\nExample: ${EXAMPLE}`, 'error');
    }
    this.refresh();
    this.save();
    return result;
  }

  private showMessage(text: string, kind: 'info' | 'error'): void {
    this.filterMessage.textContent = text;
    this.filterMessage.className = `filter-message ${kind}`;
    this.filterMessage.hidden = !text;
  }

  /** Recomputes what is shown (filter, sort, groups) and redraws. */
  refresh(): void {
    const now = Date.now();
    this.table.now = now;
    const { items, shown } = buildItems(this.store, this.match, this.state.sort, this.state.groupBy, new Set(this.state.collapsed), now);
    this.shown = shown;
    this.updateColumns();
    this.table.setItems(items, this.selection);
    const total = this.store.rows.size;
    this.count.textContent = this.match ? `${shown.length} of ${total} runs match` : `${total} run${total === 1 ? '' : 's'}`;
    this.empty.textContent = !this.loaded ? '' : total === 0 ? 'No runs yet. Run a Python file with tracking, or `mlops run -- python3 train.py`, and it appears here live.' : shown.length === 0 ? 'No run matches the filter.' : '';
    this.empty.hidden = !this.empty.textContent;
    this.updateGroupOptions();
    this.updateCompareButton();
  }

  private columnsKey = '';
  /**
   * Headers and the open column chooser are rebuilt (and the row pool dropped)
   * only when the columns, their layout or the sort changed, not on every live update.
   */
  private updateColumns(): void {
    const key = JSON.stringify([this.store.columns.map((c) => c.id), this.state.layout, this.state.sort]);
    if (key === this.columnsKey) return;
    this.columnsKey = key;
    const columns = visibleColumns(this.store.columns, this.state.layout);
    this.table.setColumns(columns, this.state.layout.pinned.filter((id) => columns.some((c) => c.id === id)), this.state.sort);
    if (!this.chooser.hidden) this.renderChooser();
  }

  /** Draws the frame now (after refresh), for tests and the benchmark. */
  flush(): void {
    this.table.flush();
  }

  private tick(): void {
    if (!this.shown.some((r) => r.status === 'RUNNING')) return;
    this.table.now = Date.now();
    this.table.setSelection(this.selection); // redraws the rows in view: running durations advance
  }

  private sortBy(columnId: string): void {
    const s = this.state.sort;
    this.state.sort = s?.column === columnId ? (s.descending ? null : { column: columnId, descending: true }) : { column: columnId, descending: false };
    this.refresh();
    this.save();
  }

  private setGroupBy(value: string | null): void {
    this.state.groupBy = value;
    this.state.collapsed = [];
    this.refresh();
    this.save();
  }

  private toggleGroup(key: string): void {
    const collapsed = new Set(this.state.collapsed);
    if (collapsed.has(key)) collapsed.delete(key);
    else collapsed.add(key);
    this.state.collapsed = [...collapsed];
    this.refresh();
    this.save();
  }

  private setLayout(layout: ColumnLayout): void {
    this.state.layout = layout;
    this.refresh();
    this.save();
  }

  private clickRow(id: string, mode: 'only' | 'toggle' | 'range'): void {
    if (mode === 'only') this.selection = new Set([id]);
    else if (mode === 'toggle') {
      if (this.selection.has(id)) this.selection.delete(id);
      else this.selection.add(id);
    } else {
      const order = this.shown.map((r) => r.id);
      const a = this.anchor ? order.indexOf(this.anchor) : -1;
      const b = order.indexOf(id);
      if (a < 0 || b < 0) this.selection.add(id);
      else for (const rid of order.slice(Math.min(a, b), Math.max(a, b) + 1)) this.selection.add(rid);
    }
    if (mode !== 'range') this.anchor = id;
    this.selectionChanged();
  }

  private selectionChanged(): void {
    this.table.setSelection(this.selection);
    this.updateCompareButton();
    this.save();
  }

  private updateCompareButton(): void {
    const n = [...this.selection].filter((id) => this.store.rows.has(id)).length;
    this.compareButton.textContent = n ? `Compare ${n}` : 'Compare';
    setDisabled(this.compareButton, n === 0);
  }

  private async compare(): Promise<void> {
    const ids = this.shown.map((r) => r.id).filter((id) => this.selection.has(id));
    if (!ids.length) return;
    try {
      await this.endpoint.request('runs/compare', { runIds: ids });
    } catch (err) {
      this.showMessage((err as Error).message, 'error');
    }
  }

  private groupOptionsKey = '';
  private updateGroupOptions(): void {
    const key = this.store.paramKeys.join('\u0000') + '\u0001' + (this.state.groupBy ?? '');
    if (key === this.groupOptionsKey) return;
    this.groupOptionsKey = key;
    const options: DropdownOption[] = [
      { value: '', label: 'None' },
      { value: 'experiment', label: 'Experiment' },
      { value: 'status', label: 'Status' },
      { value: 'pipeline', label: 'Pipeline run' },
      ...this.store.paramKeys.map((k) => ({ value: `param:${k}`, label: `params.${k}` })),
    ];
    this.groupBy.setOptions(options, this.state.groupBy ?? '');
  }

  private toggleChooser(): void {
    this.chooser.hidden = !this.chooser.hidden;
    if (!this.chooser.hidden) this.renderChooser();
  }

  private renderChooser(): void {
    const all = orderedColumns(this.store.columns, this.state.layout);
    const rows = all.map((c) => {
      const pinned = this.state.layout.pinned.includes(c.id);
      return el(
        'div',
        { className: 'chooser-row', data: { col: c.id } },
        checkbox(c.label, isVisible(c, this.state.layout), (on) => this.setLayout(setVisible(this.state.layout, c, on)), c.qualified).element,
        el('span', { className: 'chooser-kind', text: c.kind === 'attr' ? 'run' : c.kind }),
        button(pinned ? 'Unpin' : 'Pin', () => this.setLayout(setPinned(this.state.layout, c.id, !pinned)), { title: pinned ? 'Let it scroll' : 'Keep it at the left while scrolling' }),
        button('↑', () => this.setLayout(shiftColumn(this.store.columns, this.state.layout, c.id, -1)), { appearance: 'icon', title: 'Move left' }),
        button('↓', () => this.setLayout(shiftColumn(this.store.columns, this.state.layout, c.id, 1)), { appearance: 'icon', title: 'Move right' }),
      );
    });
    this.chooser.replaceChildren(
      el('div', { className: 'chooser-head' }, el('strong', { text: 'Columns' }), button('Reset', () => this.setLayout({ ...DEFAULT_LAYOUT }), { title: 'Default columns' }), button('Close', () => this.toggleChooser())),
      el('div', { className: 'chooser-list' }, ...rows),
    );
  }

  private csv(): string {
    return tableCsv(this.shown, visibleColumns(this.store.columns, this.state.layout), Date.now());
  }

  private async exportCsv(): Promise<SaveFileResult> {
    try {
      const saved = await this.endpoint.request('file/save', { suggestedName: 'runs.csv', content: this.csv(), typeLabel: 'CSV' });
      if (saved.path) this.showMessage(`Saved ${saved.path}`, 'info');
      return saved;
    } catch (err) {
      this.showMessage(`Export failed: ${(err as Error).message}`, 'error');
      throw err;
    }
  }

  private inspect(): RunsTableInspection {
    this.flush();
    return {
      totalRuns: this.store.rows.size,
      shownRunIds: this.shown.map((r) => r.id),
      domRows: this.table.domRowCount,
      headers: visibleColumns(this.store.columns, this.state.layout).map((c) => c.label),
      renderedRows: this.table.renderedRows(),
      filterQuery: this.appliedQuery,
      filterError: this.filterError,
      selected: [...this.selection],
      sort: this.state.sort,
      groupBy: this.state.groupBy,
    };
  }

  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private saveSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, 300);
  }

  private save(): void {
    this.state.selected = [...this.selection];
    saveState(this.state);
  }
}

registerToolkit();
const view = new RunsTableView(document.getElementById('app')!);
view.start();
