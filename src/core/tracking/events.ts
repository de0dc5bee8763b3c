/** The run event log, schema version 1: docs/event-log.md is the contract. */

export const EVENT_SCHEMA_VERSION = 1;
export const MAX_KEY_LENGTH = 250;

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
export type RunSource = 'script' | 'command' | 'python' | 'notebook' | 'mlflow';
/** `deleted`: soft-deleted through the MLflow endpoint, restorable; the log and artifacts are kept. */
export type RunLifecycle = 'active' | 'deleted';
/** How a notebook cell execution ended: `unknown` when the kernel did not say (an interrupted execution). */
export type CellStatus = 'ok' | 'error' | 'unknown';
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
/** One point of a `metrics` event: key, value (encoded as in `metric`), step, timestamp (ms). */
export type MetricPointJson = [key: string, value: MetricValueJson, step: number, timestamp: number];
/** Many metric points in one line (the MLflow endpoint's log-batch); each is read exactly like a `metric` event. */
export interface MetricsEvent extends Base { type: 'metrics'; points: MetricPointJson[] }
/** A metric as MLflow's log-batch sends it, in the plain form `mlflow_metrics` lines hold (isPlainMlflowMetric). */
export interface PlainMlflowMetric { key: string; value: number; timestamp: number; step?: number | null }
/** An MLflow log-batch request of plain metrics only, as the endpoint received it; read like `metrics`. */
export interface MlflowMetricsEvent extends Base { type: 'mlflow_metrics'; request: { metrics: PlainMlflowMetric[] } }
export interface TagEvent extends Base { type: 'tag'; key: string; value: string }
export interface ArtifactEvent extends Base { type: 'artifact'; path: string; size: number; sha256: string }
export interface StatusEvent extends Base { type: 'status'; status: RunStatus }
export interface RenameEvent extends Base { type: 'rename'; name: string }
/** The run now belongs to another experiment (its experiment was renamed). */
export interface MoveEvent extends Base { type: 'move'; experiment: string }
/** A tag was removed (MLflow's delete-tag). */
export interface TagDeleteEvent extends Base { type: 'tag_delete'; key: string }
/** An artifact file was removed (MLflow's artifact delete); `path` as in `artifact`, one file per event. */
export interface ArtifactDeleteEvent extends Base { type: 'artifact_delete'; path: string }
/** The run was soft-deleted or restored (MLflow's delete/restore run); runs start `active`. */
export interface LifecycleEvent extends Base { type: 'lifecycle'; stage: RunLifecycle }
export interface InputEvent extends Base { type: 'input'; snapshot: string; paths: string[] }
export interface RunEndEvent extends Base { type: 'run_end'; status: RunStatus; exit_code: number | null }
/** One execution of a notebook cell (docs/event-log.md); `index` is the cell's 0-based position in the notebook. */
export interface CellEvent extends Base {
  type: 'cell'; index: number; execution_count?: number | null; duration_ms?: number | null; status: CellStatus; error?: string;
}

export type RunEvent =
  | RunStartEvent | CaptureEvent | ParamEvent | MetricEvent | MetricsEvent | MlflowMetricsEvent | TagEvent | TagDeleteEvent
  | ArtifactDeleteEvent | LifecycleEvent
  | ArtifactEvent | StatusEvent | RenameEvent | MoveEvent | InputEvent | RunEndEvent | CellEvent;

/** Distributes Omit over the union so each event keeps its own fields. */
export type NewRunEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'time'> & { time?: number } : never) : never;

const STATUSES = new Set<string>(['RUNNING', 'FINISHED', 'FAILED', 'KILLED']);
const CELL_STATUSES = new Set<string>(['ok', 'error', 'unknown']);

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

/** Lengths count characters (code points), as MLflow does: a letter outside the BMP is one. */
function isKey(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && (v.length <= MAX_KEY_LENGTH || [...v].length <= MAX_KEY_LENGTH);
}

/** A `metrics` point: [key, value, integer step, numeric timestamp]; cheap, this runs for every point. */
function validPoint(p: unknown): boolean {
  if (!Array.isArray(p) || p.length < 4) return false; // later versions may add elements
  const value = p[1], step = p[2], timestamp = p[3];
  return isKey(p[0]) && (typeof value === 'number' || decodeMetricValue(value) !== undefined)
    && Number.isSafeInteger(step) && typeof timestamp === 'number' && Number.isFinite(timestamp);
}

/**
 * A metric an `mlflow_metrics` line may hold: a key, a finite JSON number value, a non-negative
 * integer timestamp and an integer or absent step. It means exactly the point
 * [key, value, step ?? 0, timestamp]. Cheap: this runs for every metric of every such line.
 */
export function isPlainMlflowMetric(m: unknown): m is PlainMlflowMetric {
  if (typeof m !== 'object' || m === null) return false;
  const { key, value, timestamp, step } = m as Record<string, unknown>;
  return isKey(key) && typeof value === 'number' && value - value === 0
    && Number.isSafeInteger(timestamp) && (timestamp as number) >= 0
    && (step === undefined || step === null || Number.isSafeInteger(step));
}

function preview(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** The message is built only on failure: this runs for every line of every log. */
function need(ok: boolean, what: string | (() => string)): void {
  if (!ok) throw new EventShapeError(typeof what === 'string' ? what : what());
}

/**
 * Checks one parsed line against the schema. Returns undefined for event types
 * this version does not know (readers ignore them, so newer writers stay compatible).
 */
export function validateEvent(obj: unknown): RunEvent | undefined {
  need(typeof obj === 'object' && obj !== null && !Array.isArray(obj), 'not a JSON object');
  const e = obj as Record<string, unknown>;
  need(typeof e.type === 'string', 'no "type" field');
  need(typeof e.time === 'number' && Number.isFinite(e.time), () => `"${String(e.type)}" event has no numeric "time"`);
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
      need(isKey(e.key), () => `${e.type} key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
      need(typeof e.value === 'string', () => `${e.type} "${String(e.key)}" value is not a string`);
      return e as unknown as ParamEvent | TagEvent;
    case 'metric':
      need(isKey(e.key), () => `metric key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
      need(decodeMetricValue(e.value) !== undefined, () => `metric "${String(e.key)}" value ${JSON.stringify(e.value)} is not a number`);
      need(e.step === undefined || Number.isSafeInteger(e.step), () => `metric "${String(e.key)}" step is not an integer`);
      return e as unknown as MetricEvent;
    case 'metrics': {
      const points = e.points;
      need(Array.isArray(points), 'metrics without a "points" list');
      for (let i = 0; i < (points as unknown[]).length; i++) {
        const p = (points as unknown[])[i];
        need(validPoint(p), () => `metrics point ${i} ${preview(p)} is not [key, value, step, timestamp]`);
      }
      return e as unknown as MetricsEvent;
    }
    case 'mlflow_metrics': {
      const request = e.request as Record<string, unknown> | null;
      need(typeof request === 'object' && request !== null && Array.isArray(request.metrics), 'mlflow_metrics without a request holding a "metrics" list');
      const metrics = request!.metrics as unknown[];
      for (let i = 0; i < metrics.length; i++) {
        need(isPlainMlflowMetric(metrics[i]), () => `mlflow_metrics metric ${i} ${preview(metrics[i])} is not {key, finite value, timestamp, step}`);
      }
      return e as unknown as MlflowMetricsEvent;
    }
    case 'artifact':
      need(typeof e.path === 'string' && e.path.length > 0, 'artifact without "path"');
      need(typeof e.size === 'number' && typeof e.sha256 === 'string', () => `artifact "${String(e.path)}" lacks size or sha256`);
      return e as unknown as ArtifactEvent;
    case 'status':
      need(STATUSES.has(e.status as string), () => `unknown status ${JSON.stringify(e.status)}`);
      return e as unknown as StatusEvent;
    case 'rename':
      need(typeof e.name === 'string' && e.name.length > 0, 'rename without a "name"');
      return e as unknown as RenameEvent;
    case 'move':
      need(typeof e.experiment === 'string' && e.experiment.length > 0, 'move without an "experiment"');
      return e as unknown as MoveEvent;
    case 'input':
      need(typeof e.snapshot === 'string' && /^[0-9a-f]{40}$/.test(e.snapshot), 'input without a 40-hex "snapshot" id');
      need(Array.isArray(e.paths) && e.paths.every((p) => typeof p === 'string'), () => `input ${String(e.snapshot)} "paths" is not a list of paths`);
      return e as unknown as InputEvent;
    case 'cell':
      need(Number.isSafeInteger(e.index) && (e.index as number) >= 0, 'cell without a non-negative integer "index"');
      need(CELL_STATUSES.has(e.status as string), () => `cell ${String(e.index)} has unknown status ${JSON.stringify(e.status)}`);
      need(e.execution_count === undefined || e.execution_count === null || Number.isSafeInteger(e.execution_count), () => `cell ${String(e.index)} "execution_count" is not an integer`);
      need(e.duration_ms === undefined || e.duration_ms === null || (typeof e.duration_ms === 'number' && e.duration_ms >= 0), () => `cell ${String(e.index)} "duration_ms" is not a non-negative number`);
      need(e.error === undefined || typeof e.error === 'string', () => `cell ${String(e.index)} "error" is not a string`);
      return e as unknown as CellEvent;
    case 'tag_delete':
      need(isKey(e.key), () => `tag_delete key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
      return e as unknown as TagDeleteEvent;
    case 'artifact_delete':
      need(typeof e.path === 'string' && e.path.length > 0, 'artifact_delete without "path"');
      return e as unknown as ArtifactDeleteEvent;
    case 'lifecycle':
      need(e.stage === 'active' || e.stage === 'deleted', () => `lifecycle with unknown stage ${JSON.stringify(e.stage)}`);
      return e as unknown as LifecycleEvent;
    case 'run_end':
      need(STATUSES.has(e.status as string), () => `run_end with unknown status ${JSON.stringify(e.status)}`);
      need(e.exit_code === undefined || e.exit_code === null || Number.isInteger(e.exit_code), 'run_end "exit_code" is not an integer');
      return e as unknown as RunEndEvent;
    default:
      return undefined;
  }
}
