// How times, durations and numbers read in the panels: the same rules as the
// CLI and the Runs view (src/core/format.ts), restated here because webviews
// import the protocol only.

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function durationSeconds(start: number | null, end: number | null, now: number): number | undefined {
  if (start === null) return undefined;
  return Math.max(0, Math.round(((end ?? now) - start) / 1000));
}

export function formatSeconds(s: number | undefined): string {
  if (s === undefined) return '';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A metric value with `digits` significant digits; exponent form only for very large or small values. */
export function formatNumber(v: number | undefined, digits = 6): string {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(digits - 2) : String(Number(v.toPrecision(digits)));
}

const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Whether text is a number ("0.01", "1e-3"), so it sorts and plots as one. */
export function isNumericText(text: string): boolean {
  return NUMERIC.test(text);
}

/** Ticks of a wall-clock axis: time of day, with the date when the span is long. */
export function formatClock(ms: number, spanMs: number): string {
  const iso = new Date(ms).toISOString();
  return spanMs > 36 * 3600_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
}

/** Ticks of a relative-time axis (seconds since the run started). */
export function formatRelative(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 60) return `${sign}${Number(s.toPrecision(3))}s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${sign}${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
