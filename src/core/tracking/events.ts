/** The run event log, schema version 1: docs/event-log.md is the contract. */

export const EVENT_SCHEMA_VERSION = 1;
export const MAX_KEY_LENGTH = 250;

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
export type RunSource = 'script' | 'command' | 'python' | 'notebook' | 'mlflow';
/** NaN and ±Infinity travel as strings because JSON has no literal for them. */
export type MetricValueJson = number | 'NaN' | 'Infinity' | '-Infinity';

export interface GpuInfo {
  index: number;
  uuid?: string;
  name?: string;
  driver_version?: string;
  memory_total_mib?: number | null;
  memory_used_mib?: number | null;
  memory_free_mib?: number | null;
  utilization_gpu_pct?: number | null;
  utilization_memory_pct?: number | null;
  temperature_c?: number | null;
  power_draw_w?: number | null;
  power_limit_w?: number | null;
}

export interface Capture {
  argv?: string[];
  cwd?: string;
  pid?: number;
  python?: { path: string; version: string };
  packages?: string[];
  git?: { commit: string; branch: string; dirty: boolean; diff_artifact?: string };
  host?: string;
  user?: string;
  gpus?: GpuInfo[];
  [extra: string]: unknown;
}

interface Base { time: number }
export interface RunStartEvent extends Base { type: 'run_start'; schema: number; run_id: string; name: string; experiment: string; source: RunSource }
export interface CaptureEvent extends Base { type: 'capture'; capture: Capture }
export interface ParamEvent extends Base { type: 'param'; key: string; value: string }
export interface MetricEvent extends Base { type: 'metric'; key: string; value: MetricValueJson; step: number }
export interface TagEvent extends Base { type: 'tag'; key: string; value: string }
export interface ArtifactEvent extends Base { type: 'artifact'; path: string; size: number; sha256: string }
export interface StatusEvent extends Base { type: 'status'; status: RunStatus }
export interface RenameEvent extends Base { type: 'rename'; name: string }
export interface RunEndEvent extends Base { type: 'run_end'; status: RunStatus; exit_code: number | null }

export type RunEvent =
  | RunStartEvent | CaptureEvent | ParamEvent | MetricEvent | TagEvent
  | ArtifactEvent | StatusEvent | RenameEvent | RunEndEvent;

/** Distributes Omit over the union so each event keeps its own fields. */
export type NewRunEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'time'> & { time?: number } : never) : never;

const STATUSES = new Set<string>(['RUNNING', 'FINISHED', 'FAILED', 'KILLED']);

export function encodeMetricValue(value: number): MetricValueJson {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

export function decodeMetricValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return undefined;
}

/** Thrown for a line that is JSON but not an event we can use; the message says what is wrong. */
export class EventShapeError extends Error {}

function isKey(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_KEY_LENGTH;
}

function need(ok: boolean, what: string): void {
  if (!ok) throw new EventShapeError(what);
}

/**
 * Checks one parsed line against the schema. Returns undefined for event types
 * this version does not know (readers ignore them, so newer writers stay compatible).
 */
export function validateEvent(obj: unknown): RunEvent | undefined {
  need(typeof obj === 'object' && obj !== null && !Array.isArray(obj), 'not a JSON object');
  const e = obj as Record<string, unknown>;
  need(typeof e.type === 'string', 'no "type" field');
  need(typeof e.time === 'number' && Number.isFinite(e.time), `"${String(e.type)}" event has no numeric "time"`);
  switch (e.type) {
    case 'run_start':
      need(typeof e.run_id === 'string', 'run_start without "run_id"');
      need(e.name === undefined || typeof e.name === 'string', 'run_start "name" is not a string');
      need(e.experiment === undefined || typeof e.experiment === 'string', 'run_start "experiment" is not a string');
      return e as unknown as RunStartEvent;
    case 'capture':
      need(typeof e.capture === 'object' && e.capture !== null && !Array.isArray(e.capture), 'capture without a "capture" object');
      return e as unknown as CaptureEvent;
    case 'param':
    case 'tag':
      need(isKey(e.key), `${e.type} key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
      need(typeof e.value === 'string', `${e.type} "${String(e.key)}" value is not a string`);
      return e as unknown as ParamEvent | TagEvent;
    case 'metric':
      need(isKey(e.key), `metric key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
      need(decodeMetricValue(e.value) !== undefined, `metric "${String(e.key)}" value ${JSON.stringify(e.value)} is not a number`);
      need(e.step === undefined || Number.isSafeInteger(e.step), `metric "${String(e.key)}" step is not an integer`);
      return e as unknown as MetricEvent;
    case 'artifact':
      need(typeof e.path === 'string' && e.path.length > 0, 'artifact without "path"');
      need(typeof e.size === 'number' && typeof e.sha256 === 'string', `artifact "${String(e.path)}" lacks size or sha256`);
      return e as unknown as ArtifactEvent;
    case 'status':
      need(STATUSES.has(e.status as string), `unknown status ${JSON.stringify(e.status)}`);
      return e as unknown as StatusEvent;
    case 'rename':
      need(typeof e.name === 'string' && e.name.length > 0, 'rename without a "name"');
      return e as unknown as RenameEvent;
    case 'run_end':
      need(STATUSES.has(e.status as string), `run_end with unknown status ${JSON.stringify(e.status)}`);
      need(e.exit_code === undefined || e.exit_code === null || Number.isInteger(e.exit_code), 'run_end "exit_code" is not an integer');
      return e as unknown as RunEndEvent;
    default:
      return undefined;
  }
}
