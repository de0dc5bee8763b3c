export const now = () => performance.now();

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median of `n` timed calls of `fn` (ms), after `warm` untimed ones. */
export function timeMedian(fn, n, warm = 0) {
  for (let i = 0; i < warm; i++) fn();
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    fn();
    xs.push(now() - t);
  }
  return median(xs);
}

export const ms = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) + ' ms';
export const s = (x) => (x / 1000).toFixed(2) + ' s';
export const mb = (bytes) => (bytes / 1024 / 1024).toFixed(bytes >= 100 * 1024 * 1024 ? 0 : 1) + ' MB';
export const ratio = (a, b) => {
  if (!(b > 0)) return '—';
  const r = a / b;
  return (r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)) + '×';
};

/** Prints the summary rows (figure, value, baseline, ratio, goal, met) as aligned columns under `titles`. */
export function printTable(rows, titles) {
  const cols = ['figure', 'value', 'baseline', 'ratio', 'goal', 'met'];
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(titles[c].length, ...rows.map((r) => String(r[c]).length))]));
  const fmtRow = (r) => '  ' + cols.map((c) => String(r[c]).padEnd(width[c])).join('  ');
  console.log(fmtRow(titles));
  for (const r of rows) console.log(fmtRow(r));
}
