/**
 * Showing text that came from runs (names, params, tags, metric keys, paths, users): anyone
 * who can log to a run, through the MLflow endpoint, an imported mlruns folder or a shared
 * workspace, chooses it. Shown raw it could drive a terminal (clear the screen, set the
 * window title, write the clipboard with OSC 52) or a Markdown view (remote images, links,
 * HTML). These helpers make such text inert where it is shown; stored data is never changed.
 */

/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts every escape
 * sequence), DEL, C1 controls (U+009B is a one-character CSI) and the invisible Unicode
 * line and direction controls that make shown text differ from stored text.
 */
export const CONTROL_CHARS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visibleEscape(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/**
 * The text with every control character written as a visible escape (`\x1b`, `\n`, `\u202e`);
 * with `keepLines`, line breaks and tabs stay as they are.
 */
export function visibleControls(text: string, keepLines: boolean): string {
  return text.replace(CONTROL_CHARS, (c) => (keepLines && (c === '\n' || c === '\t') ? c : visibleEscape(c)));
}

/**
 * Every ASCII punctuation character may be backslash-escaped in CommonMark; escaped, none of
 * them starts markup. `-` and `.` are left alone inside words (`cancer-clf`, `v1.2`), where they
 * cannot start a list, a rule or a heading underline; at the start, or after a space, they are
 * escaped too (LIST_MARKERS).
 */
const MARKDOWN_PUNCTUATION = /[!"#$%&'()*+,/:;<=>?@[\\\]^_`{|}~]/g;
const LIST_MARKERS = /(^|\s)([-.])|^(\d+)\./g;

/**
 * Text as Markdown that renders exactly as the text, on one line: no link, image, HTML,
 * emphasis, table cell break (`|`), heading, theme icon (`$(…)`) or autolink (`https\://`
 * is not a URL to a Markdown renderer) can come out of it. Safe in GFM table cells.
 */
export function markdownText(text: string): string {
  return visibleControls(text, false)
    .replace(MARKDOWN_PUNCTUATION, '\\$&')
    .replace(LIST_MARKERS, (_, space: string | undefined, mark: string | undefined, digits: string | undefined) => (digits ? `${digits}\\.` : `${space}\\${mark}`));
}

/**
 * Text as an indented Markdown code block (four spaces per line): shown verbatim, and unlike
 * a ``` fence nothing inside can end it, since every line of it is indented.
 */
export function markdownCodeBlock(lines: string[]): string[] {
  return lines.flatMap((l) => l.split('\n')).map((l) => `    ${visibleControls(l, false)}`);
}

/**
 * Text as a Markdown code span (monospace, nothing inside interpreted): fenced with one more
 * backtick than the longest run of backticks inside, so the text cannot end it. In a GFM
 * table cell a `|` still splits the cell, even inside a code span, unless escaped (`inTable`).
 */
export function markdownCode(text: string, inTable = false): string {
  let t = visibleControls(text, false);
  if (inTable) t = t.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(t) ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** Text inside HTML or SVG (element content or a quoted attribute): &, <, >, " and ' escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
