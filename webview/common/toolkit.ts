// The ONE module that touches @vscode/webview-ui-toolkit (deprecated upstream):
// every control of the panels is made here, so swapping the toolkit later means
// rewriting this file only. Callers get plain HTMLElements and callbacks.

import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

let registered = false;

/** Defines the custom elements once per page. */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(),
    vsCodePanels(), vsCodePanelTab(), vsCodePanelView(), vsCodeTextField(),
  );
}

export interface ButtonOptions {
  appearance?: 'primary' | 'secondary' | 'icon';
  title?: string;
  id?: string;
  disabled?: boolean;
}

export function button(label: string, onClick: () => void, options: ButtonOptions = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('appearance', options.appearance ?? 'secondary');
  if (options.title) {
    b.title = options.title;
    b.setAttribute('aria-label', options.title);
  }
  if (options.id) b.id = options.id;
  setDisabled(b, options.disabled ?? false);
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

export function setDisabled(control: HTMLElement, disabled: boolean): void {
  if (disabled) control.setAttribute('disabled', '');
  else control.removeAttribute('disabled');
}

export interface TextFieldOptions {
  placeholder?: string;
  label?: string;
  id?: string;
  /** Called on every edit. */
  onInput?: (value: string) => void;
  /** Called on Enter. */
  onSubmit?: (value: string) => void;
}

export interface TextField {
  element: HTMLElement;
  value: string;
  setInvalid(message: string | null): void;
}

export function textField(value: string, options: TextFieldOptions = {}): TextField {
  const f = document.createElement('vscode-text-field') as HTMLElement & { value: string };
  f.setAttribute('value', value);
  f.value = value;
  if (options.placeholder) f.setAttribute('placeholder', options.placeholder);
  if (options.id) f.id = options.id;
  if (options.label) f.setAttribute('aria-label', options.label);
  f.addEventListener('input', () => options.onInput?.(f.value));
  f.addEventListener('keydown', (e: KeyboardEvent) => {
    if (e.key === 'Enter') options.onSubmit?.(f.value);
  });
  return {
    element: f,
    get value() {
      return f.value ?? '';
    },
    set value(v: string) {
      f.value = v;
    },
    setInvalid(message) {
      f.classList.toggle('invalid', message !== null);
      if (message === null) f.removeAttribute('aria-invalid');
      else f.setAttribute('aria-invalid', 'true');
    },
  };
}

export interface DropdownOption {
  value: string;
  label: string;
}

export interface Dropdown {
  element: HTMLElement;
  value: string;
  setOptions(options: DropdownOption[], value: string): void;
}

export function dropdown(options: DropdownOption[], value: string, onChange: (value: string) => void, label?: string): Dropdown {
  const d = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
  if (label) d.setAttribute('aria-label', label);
  d.setAttribute('position', 'below');
  const fill = (opts: DropdownOption[], selected: string) => {
    d.replaceChildren(
      ...opts.map((o) => {
        const option = document.createElement('vscode-option') as HTMLElement & { value: string };
        option.setAttribute('value', o.value);
        option.value = o.value;
        option.textContent = o.label;
        if (o.value === selected) option.setAttribute('selected', '');
        return option;
      }),
    );
    d.value = selected;
  };
  fill(options, value);
  d.addEventListener('change', () => onChange(d.value));
  return {
    element: d,
    get value() {
      return d.value;
    },
    set value(v: string) {
      d.value = v;
    },
    setOptions: fill,
  };
}

export interface Checkbox {
  element: HTMLElement;
  checked: boolean;
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void, title?: string): Checkbox {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  if (checked) c.setAttribute('checked', '');
  c.checked = checked;
  if (title) c.title = title;
  c.addEventListener('change', () => onChange(c.checked));
  return {
    element: c,
    get checked() {
      return c.checked;
    },
    set checked(v: boolean) {
      c.checked = v;
    },
  };
}

export interface Slider {
  element: HTMLElement;
  value: number;
}

/** A range slider (the toolkit has none: a native input styled with theme colours). */
export function slider(label: string, value: number, min: number, max: number, step: number, onChange: (value: number) => void): Slider {
  const wrap = document.createElement('label');
  wrap.className = 'tk-slider';
  const text = document.createElement('span');
  const input = document.createElement('input');
  input.type = 'range';
  input.min = String(min);
  input.max = String(max);
  input.step = String(step);
  input.value = String(value);
  input.setAttribute('aria-label', label);
  const show = () => (text.textContent = `${label} ${Number(input.value).toFixed(2)}`);
  show();
  input.addEventListener('input', () => {
    show();
    onChange(Number(input.value));
  });
  wrap.append(text, input);
  return {
    element: wrap,
    get value() {
      return Number(input.value);
    },
    set value(v: number) {
      input.value = String(v);
      show();
    },
  };
}

export interface Tabs {
  element: HTMLElement;
  /** The element to fill for each tab id. */
  views: Map<string, HTMLElement>;
  select(id: string): void;
}

/** Tabs with one view each; `onSelect` is called when the user (or select) changes tab. */
export function tabs(items: { id: string; label: string }[], active: string, onSelect: (id: string) => void): Tabs {
  const panels = document.createElement('vscode-panels') as HTMLElement & { activeid: string };
  const views = new Map<string, HTMLElement>();
  for (const item of items) {
    const tab = document.createElement('vscode-panel-tab');
    tab.id = `tab-${item.id}`;
    tab.textContent = item.label;
    panels.append(tab);
  }
  for (const item of items) {
    const view = document.createElement('vscode-panel-view');
    view.id = `view-${item.id}`;
    panels.append(view);
    views.set(item.id, view);
  }
  panels.setAttribute('activeid', `tab-${active}`);
  panels.addEventListener('change', (e: Event) => {
    if (e.target !== panels) return; // changes of controls inside the views bubble up too
    const id = (panels.activeid ?? '').replace(/^tab-/, '');
    if (id) onSelect(id);
  });
  return {
    element: panels,
    views,
    select(id: string) {
      panels.activeid = `tab-${id}`;
      panels.setAttribute('activeid', `tab-${id}`);
    },
  };
}
