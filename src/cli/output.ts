import { CONTROL_CHARS, visibleControls } from '../core/hostileText';

/**
 * Output for people; --json shapes are built in core (runJson.ts). Every printer of the CLI
 * writes through these functions, so text that came from runs (names, params, tags, metric
 * keys, paths, error messages quoting them) can never drive the terminal: a run name set
 * through MLflow could otherwise clear the screen, set the window title or write the
 * clipboard (OSC 52). The output of the user's own program (`mlops run`, notebook cells)
 * is passed through as it is, as a terminal would show it.
 */

/** A value shown on one line (a table cell, `key = value`): line breaks and tabs escaped too. */
export function oneLine(text: string): string {
  return visibleControls(text, false);
}

export function print(text: string): void {
  process.stdout.write(visibleControls(text, true));
}

export function printError(text: string): void {
  process.stderr.write(visibleControls(text, true));
}

/** Rewrites the current line of stderr (progress on a terminal). */
export function printProgress(text: string): void {
  process.stderr.write(`\r${oneLine(text)}`);
}

/**
 * JSON for scripts. JSON.stringify escapes C0 controls inside strings (the only raw ones left
 * are its own line breaks); the other controls are escaped as \uXXXX too: the same JSON value.
 */
export function printJson(value: unknown): void {
  const json = JSON.stringify(value, null, 2).replace(CONTROL_CHARS, (c) => (c === '\n' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  process.stdout.write(json + '\n');
}

/** Columns padded to their widest cell; each cell shown on one line. */
export function table(header: string[], rows: string[][]): string {
  const cells = rows.map((r) => r.map(oneLine));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (cs: string[]) => cs.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}
