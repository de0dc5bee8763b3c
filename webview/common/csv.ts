// CSV (RFC 4180): comma-separated, fields quoted when they hold a comma, quote or line break.

export function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(cells: string[]): string {
  return cells.map(csvCell).join(',');
}

export function toCsv(header: string[], rows: string[][]): string {
  return [csvLine(header), ...rows.map(csvLine)].join('\n') + '\n';
}
