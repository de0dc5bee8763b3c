/** One sample of a Prometheus text exposition: `name{label="value",…} number`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;

function number(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text); // NaN stays NaN
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * The samples of a Prometheus text exposition (reference/prometheus.md), comments skipped.
 * `only` keeps the samples whose name starts with it, so a scrape parses what it reads.
 * Lines that are not samples are skipped: a reader of live figures must not fail on one.
 */
export function parsePromText(text: string, only = ''): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#') || !line.startsWith(only)) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      for (let l = LABEL.exec(m[2]); l; l = LABEL.exec(m[2])) labels[l[1]] = unescape(l[2]);
    }
    out.push({ name: m[1], labels, value: number(m[3]) });
  }
  return out;
}
