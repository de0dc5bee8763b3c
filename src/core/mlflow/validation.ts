import { invalidParameter } from './errors';
import { preview } from '../format';

/** MLflow's limits (../shared/reference/mlflow-rest.md, "Rules"). */
export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  runTagValueLength: 8000,
  experimentTagValueLength: 5000,
  experimentNameLength: 500,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchEntities: 1000,
  batchRequestBytes: 1_000_000,
  searchDefaultMaxResults: 1000,
  searchMaxResults: 50_000,
  historyPage: 25_000,
  datasetsPerRequest: 1000,
} as const;

/** ±Infinity are stored as the largest finite doubles, as MLflow does. */
export const MAX_DOUBLE = 1.7976931348623157e308;

const NAME_CHARS = /^[/\p{L}\p{N}_.\- ]*$/u;
const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const EXPERIMENT_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;
const BAD_CHARACTERS = 'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).';

/** Length in characters (code points), as Python counts it. */
export function charLength(s: string): number {
  if (!/[\uD800-\uDFFF]/.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python's posixpath.normpath, which MLflow uses to refuse names that would resolve to other names. */
export function normpath(p: string): string {
  if (p === '') return '.';
  const lead = p.startsWith('//') && !p.startsWith('///') ? '//' : p.startsWith('/') ? '/' : '';
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (!lead && out.length === 0) || out[out.length - 1] === '..') out.push(part);
    else if (out.length) out.pop();
  }
  const joined = lead + out.join('/');
  return joined || '.';
}

/** A param, metric or tag key: `^[/\w.\- ]*$`, normalised (no `..`, `.`, `//`, leading `/`), at most 250 characters. */
export function validateKey(kind: 'Metric' | 'Param' | 'Tag', key: string | undefined): string {
  const what = kind === 'Param' ? 'parameter' : kind.toLowerCase();
  if (key === undefined) throw invalidParameter(`${kind === 'Param' ? 'Parameter' : kind} name cannot be None. A key name must be provided.`);
  if (!NAME_CHARS.test(key)) throw invalidParameter(`Invalid ${what} name: '${preview(key, 250)}'. ${BAD_CHARACTERS}`);
  const norm = normpath(key);
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw invalidParameter(`Invalid ${what} name: '${preview(key, 250)}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${preview(norm, 250)}'`);
  }
  validateLength(kind === 'Metric' ? 'Metric name' : `${kind} key`, LIMITS.keyLength, key);
  return key;
}

const KEY_CACHE_MAX = 10_000;
const validMetricKeys = new Set<string>();

/** Whether a metric key passes validateKey, remembered: a training loop logs the same few keys many times. */
export function isValidMetricKey(key: string): boolean {
  if (validMetricKeys.has(key)) return true;
  try {
    validateKey('Metric', key);
  } catch {
    return false;
  }
  if (validMetricKeys.size >= KEY_CACHE_MAX) validMetricKeys.clear();
  validMetricKeys.add(key);
  return true;
}

export function validateLength(what: string, limit: number, value: string): string {
  if (value.length > limit && charLength(value) > limit) {
    throw invalidParameter(`${what} '${preview(value, 250)}' had length ${charLength(value)}, which exceeded length limit of ${limit}`);
  }
  return value;
}

export function validateRunId(id: string): string {
  if (!RUN_ID.test(id)) throw invalidParameter(`Invalid run ID: '${preview(id)}'`);
  return id;
}

export function validateExperimentId(id: string): string {
  if (!EXPERIMENT_ID.test(id)) throw invalidParameter(`Invalid experiment ID: '${preview(id)}'`);
  return id;
}

export function validateExperimentName(name: string | undefined): string {
  if (name === undefined || name === '') throw invalidParameter(`Invalid experiment name: '${name ?? ''}'`);
  if (charLength(name) > LIMITS.experimentNameLength) {
    throw invalidParameter(`Experiment name exceeds the maximum length of ${LIMITS.experimentNameLength} characters`);
  }
  return name;
}

/** A metric as MLflow checks it: key, a numeric value (booleans are refused earlier), a timestamp ≥ 0 in ms, an integer step. */
export function validateMetric(key: string | undefined, value: number | undefined, timestamp: number | undefined, step: number): void {
  validateKey('Metric', key);
  if (value === undefined) throw invalidParameter(`Got invalid value None for metric '${key}' (timestamp=${timestamp}). Please specify value as a valid double (64-bit floating point)`);
  if (timestamp === undefined || timestamp < 0) {
    throw invalidParameter(`Got invalid timestamp ${timestamp ?? 'None'} for metric '${key}' (value=${value}). Timestamp must be a nonnegative long (64-bit integer) `);
  }
  if (!Number.isSafeInteger(step)) throw invalidParameter(`Got invalid step ${step} for metric '${key}' (value=${value}). Step must be a valid long (64-bit integer).`);
}

/** NaN stays NaN; ±Infinity clamp to ±1.7976931348623157e308. */
export function storedMetricValue(value: number): number {
  if (value === Infinity) return MAX_DOUBLE;
  if (value === -Infinity) return -MAX_DOUBLE;
  return value;
}

export function validateBatchLimits(metrics: number, params: number, tags: number): void {
  const check = (entity: string, limit: number, length: number): void => {
    if (length > limit) {
      throw invalidParameter(`A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`);
    }
  };
  check('metrics', LIMITS.batchMetrics, metrics);
  check('params', LIMITS.batchParams, params);
  check('tags', LIMITS.batchTags, tags);
  check('metrics, params, and tags', LIMITS.batchEntities, metrics + params + tags);
}

export function validateMaxResults(value: number | undefined, fallback: number, cap: number): number {
  if (value === undefined) return fallback;
  if (value < 1) throw invalidParameter(`Invalid value for request parameter max_results. It must be a positive integer, but got value ${value}`);
  if (value > cap) throw invalidParameter(`Invalid value for request parameter max_results. It must be at most ${cap}, but got value ${value}`);
  return value;
}

/** Opaque page tokens: base64 of `{"offset": n}` (the form MLflow's own stores use). */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9+/=_-]+$/.test(token)) throw new Error('not base64');
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw invalidParameter(`Invalid page token '${preview(token)}': it could not be decoded. Pass the next_page_token of an earlier response.`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidParameter(`Invalid page token '${preview(token)}'. Pass the next_page_token of an earlier response.`);
  }
  return offset;
}
