const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/;

/** "30s", "15m", "6h", "1d" in milliseconds; undefined when it is not a duration. (Apart from config.ts so that the log reader thread loads no YAML parser.) */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as 's' | 'm' | 'h' | 'd'] : undefined;
}
