// Small DOM helpers: elements are built with properties and text, never from
// HTML strings, so data can never become markup.

type Props = { className?: string; id?: string; title?: string; role?: string; text?: string; aria?: Record<string, string>; data?: Record<string, string> };

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.id) e.id = props.id;
  if (props.title) e.title = props.title;
  if (props.role) e.setAttribute('role', props.role);
  if (props.text !== undefined) e.textContent = props.text;
  for (const [k, v] of Object.entries(props.aria ?? {})) e.setAttribute(`aria-${k}`, v);
  for (const [k, v] of Object.entries(props.data ?? {})) e.dataset[k] = v;
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** A message area for a person (role=status). */
export function notice(text: string, kind: 'info' | 'warning' = 'info'): HTMLElement {
  return el('div', { className: `notice notice-${kind}`, role: 'status', text });
}
