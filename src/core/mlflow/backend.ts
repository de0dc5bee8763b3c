import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { SqlValue } from 'sql.js';
import {
  encodeMetricValue, EVENT_SCHEMA_VERSION, type Capture, type MetricEvent, type MetricPointJson, type MetricsEvent,
  type MetricValueJson, type NewRunEvent, type RunEvent, type RunLifecycle, type RunStatus,
} from '../tracking/events';
import { appendEvents, eventLine, newRunId } from '../tracking/eventWriter';
import { readHistoryRange } from '../tracking/metricHistory';
import { appendRecord } from '../workspace/appendLog';
import type { Tracking } from '../tracking/tracking';
import type { Project } from '../project';
import { artifactSegments, fsError, RunArtifacts, type FileInfo } from './artifacts';
import { DatasetInputs, type DatasetInputEvent, type DatasetInputJson, type DatasetJson } from './datasetInputs';
import { doesNotExist, invalidParameter, MlflowError } from './errors';
import { preview } from '../format';
import { DEFAULT_EXPERIMENT_ID, ExperimentLog, experimentsFile, type ExperimentRecord } from './experiments';
import { randomRunName } from './runNames';
import { RegistryApi } from './registryApi';
import { RequestMessage } from './request';
import { mlflowMetricsLine } from './batchAsReceived';
import type { PlainBatch } from './plainBatch';
import { RunWriter } from './runWriter';
import {
  compareRuns, EXPERIMENT_SCHEMA, matchRun, parseExperimentFilter, parseOrderBy, parseRunFilter, referencedKeys,
  type FilterNode, type OrderKey, type RunView,
} from '../query/searchFilter';
import {
  decodePageToken, encodePageToken, isValidMetricKey, LIMITS, storedMetricValue, validateBatchLimits, validateExperimentId,
  validateExperimentName, validateKey, validateLength, validateMaxResults, validateMetric, validateRunId,
} from './validation';

// ---------------------------------------------------------------- wire shapes

export interface KeyValue { key: string; value: string }
export interface ExperimentJson {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time: number;
  last_update_time: number;
  tags: KeyValue[];
}
export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export interface RunInfoJson {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: MlflowRunStatus;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: RunLifecycle;
}
/** One point of a metric as MLflow shows it. */
export interface MetricPoint { key: string; value: number; timestamp: number; step: number }

export interface RunJson {
  info: RunInfoJson;
  data: { metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] };
  inputs: { dataset_inputs: DatasetInputJson[] };
}

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
/** The numbers of MLflow's RunStatus enum (requests may send them; its file store writes them). */
export const RUN_STATUS_NUMBERS: Readonly<Record<string, MlflowRunStatus>> = { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' };
const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;
const VIEW_TYPE_NUMBERS: Record<number, (typeof VIEW_TYPES)[number]> = { 1: 'ACTIVE_ONLY', 2: 'DELETED_ONLY', 3: 'ALL' };

/** System tags MLflow clients set, and where they land in a run's capture. */
export const SYSTEM_TAGS = {
  runName: 'mlflow.runName',
  user: 'mlflow.user',
  sourceName: 'mlflow.source.name',
  sourceType: 'mlflow.source.type',
  gitCommit: 'mlflow.source.git.commit',
  gitBranch: 'mlflow.source.git.branch',
  gitRepoUrl: 'mlflow.source.git.repoURL',
  logModelHistory: 'mlflow.log-model.history',
} as const;

/** Our run capture from MLflow's system tags: the user, the source file as argv, the git commit and branch. */
export function captureFromTags(tags: ReadonlyMap<string, string>, userId?: string): Capture {
  const capture: Capture = {};
  const user = userId || tags.get(SYSTEM_TAGS.user);
  if (user) capture.user = user;
  const source = tags.get(SYSTEM_TAGS.sourceName);
  if (source) capture.argv = [source];
  const commit = tags.get(SYSTEM_TAGS.gitCommit);
  if (commit) {
    // MLflow does not say whether the tree was dirty; `false` is what it records as "no diff captured".
    capture.git = { commit, branch: tags.get(SYSTEM_TAGS.gitBranch) ?? '', dirty: false };
  }
  const repoUrl = tags.get(SYSTEM_TAGS.gitRepoUrl);
  const sourceType = tags.get(SYSTEM_TAGS.sourceType);
  if (repoUrl || sourceType) capture.mlflow = { ...(sourceType ? { source_type: sourceType } : {}), ...(repoUrl ? { git_repo_url: repoUrl } : {}) };
  return capture;
}

export function artifactUri(experimentId: string, runId: string): string {
  return `mlflow-artifacts:/${experimentId}/${runId}/artifacts`;
}

interface RunRow {
  id: string;
  name: string;
  experiment: string;
  experimentCreated: number;
  status: RunStatus;
  startTime: number | null;
  endTime: number | null;
  capture: Capture;
  lifecycle: RunLifecycle;
  source: string;
}

const RUN_SELECT = `SELECT r.id, r.name, e.name AS experiment, e.created AS experiment_created, r.status, r.source,
  r.start_time, r.end_time, r.capture, r.lifecycle FROM runs r JOIN experiments e ON e.id = r.experiment_id`;
const RUN_BY_ID = `${RUN_SELECT} WHERE r.id = ?`;

function toRunRow(r: Record<string, SqlValue>): RunRow {
  let capture: Capture = {};
  try {
    capture = r.capture ? (JSON.parse(r.capture as string) as Capture) : {};
  } catch {
    capture = {};
  }
  return {
    id: r.id as string, name: r.name as string, experiment: r.experiment as string, experimentCreated: (r.experiment_created as number) ?? 0,
    status: r.status as RunStatus, startTime: r.start_time as number | null, endTime: r.end_time as number | null, capture,
    lifecycle: (r.lifecycle as RunLifecycle) ?? 'active', source: r.source as string,
  };
}

const CHUNK = 500;
function chunks<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += CHUNK) out.push(list.slice(i, i + CHUNK));
  return out;
}

function placeholders(n: number): string {
  return new Array(n).fill('?').join(',');
}

export interface MlflowBackendOptions {
  now?: () => number;
  /** Called after each write with the runs it changed (the extension refreshes its views from it). */
  onDidWrite?: (runIds: readonly string[]) => void;
  /** Largest artifact upload accepted, in bytes (default 64 GiB). */
  maxArtifactBytes?: number;
  /** How long logged events may wait to be indexed together, in one transaction (default 50 ms); a read indexes them first. */
  indexDelayMs?: number;
  /** Faults that no request can be answered with (a deferred indexing that failed). */
  log?: (message: string) => void;
  /**
   * Reads what other processes appended to the run logs (default: Tracking.refresh); the
   * extension passes its own, so that its views update with what a read found.
   */
  readOtherWriters?: () => void;
  /** The workspace's engine, for the Model Registry API (registryApi.ts); without it those calls answer 404. */
  project?: Project;
}

/** Reads look for other processes' log lines at most this often (a burst of reads shares one look). */
const OTHER_WRITERS_EVERY_MS = 250;

const KEY_CACHE_MAX = 10_000;

/**
 * MLflow's tracking API over the workspace's tracking engine. Writes append events to the
 * run's log (the truth), then read them into the index so the next read sees them; reads come
 * from the index and the metric history files. Every method takes the request message and
 * returns the response object of reference/mlflow-rest.md, or throws an MlflowError.
 */
export class MlflowBackend {
  readonly experiments: ExperimentLog;
  private readonly datasets = new DatasetInputs();
  /** Runs of other sources that got dataset inputs in this process (their logs are scanned for them). */
  private readonly datasetRuns = new Set<string>();
  private readonly now: () => number;
  readonly maxArtifactBytes: number;
  private readonly writer: RunWriter;
  /** Runs found writable, while the index's run rows stay as they were (Tracking.runRowsGeneration). */
  private readonly writableRuns = new Map<string, { generation: number; run: { name: string; source: string } }>();
  /** Millisecond timestamps share their leading digits for ~17 minutes: those are formatted once. */
  private lastMillionth = -1;
  private lastMillionthText = '';
  private lastLookAtOthers = 0;

  constructor(readonly tracking: Tracking, private readonly options: MlflowBackendOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxArtifactBytes = options.maxArtifactBytes ?? 64 * 1024 ** 3;
    this.experiments = new ExperimentLog(experimentsFile(tracking.layout), this.now);
    this.writer = new RunWriter(tracking, (ids) => options.onDidWrite?.(ids), options.indexDelayMs ?? 50,
      (err) => options.log?.(`MLflow endpoint: indexing logged events failed (they are in the run logs; a later read indexes them): ${err.message}`));
  }

  /** Indexes every write not yet indexed; every read of the index starts here. */
  flush(): void {
    this.writer.flush();
  }

  dispose(): void {
    this.writer.dispose();
  }

  private registry: RegistryApi | undefined;

  /** The Model Registry API over the workspace's registry. */
  registryApi(): RegistryApi {
    const { project } = this.options;
    if (!project) throw new MlflowError('ENDPOINT_NOT_FOUND', 'This endpoint serves no model registry (it was started over the tracking index alone).');
    this.registry ??= new RegistryApi(project, (runId) => {
      this.flush();
      const row = this.runRow(runId);
      return row && this.experimentOfRun(row).id;
    });
    return this.registry;
  }

  // ---------------------------------------------------------------- helpers

  private runRow(runId: string): RunRow | undefined {
    const row = this.tracking.query(RUN_BY_ID, [runId])[0];
    return row ? toRunRow(row) : undefined;
  }

  /** The row `sql` selects for a run id; a run whose log exists but is not indexed yet (just launched) is read in first. */
  private findRunRow(runId: string, sql: string): Record<string, SqlValue> {
    let row = this.tracking.query(sql, [runId])[0];
    if (!row && fs.existsSync(this.tracking.layout.eventsFile(runId))) {
      this.tracking.refresh([runId]);
      row = this.tracking.query(sql, [runId])[0];
    }
    if (!row) throw doesNotExist(`Run with id=${runId} not found`);
    return row;
  }

  /**
   * Runs other processes write (`mlops run`, a notebook, another client) are seen within a
   * second: reads first index what they appended since the last look.
   */
  private seeOtherWriters(): void {
    const now = Date.now();
    if (now - this.lastLookAtOthers < OTHER_WRITERS_EVERY_MS) return;
    this.lastLookAtOthers = now;
    if (this.options.readOtherWriters) this.options.readOtherWriters();
    else this.tracking.refresh();
  }

  /** A run by id, with every write before this indexed and other processes' lines read. */
  private requireRun(runId: string): RunRow {
    validateRunId(runId);
    this.writer.flush();
    this.seeOtherWriters();
    return toRunRow(this.findRunRow(runId, RUN_BY_ID));
  }

  private requireActiveRun(runId: string): RunRow {
    const row = this.requireRun(runId);
    if (row.lifecycle !== 'active') throw invalidParameter(`The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle}.`);
    return row;
  }

  private runIdOf(msg: RequestMessage): string {
    const id = msg.string('run_id') || msg.string('run_uuid');
    if (!id) throw invalidParameter("Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.");
    return id;
  }

  private experimentOfRun(row: RunRow): ExperimentRecord {
    return this.experiments.forRunExperiment(row.experiment, row.experimentCreated);
  }

  private requireExperiment(id: string): ExperimentRecord {
    validateExperimentId(id);
    const record = this.experiments.get(id);
    if (!record) throw doesNotExist(`No Experiment with id=${id} exists`);
    return record;
  }

  /**
   * Appends events to a run's log (the truth) and indexes them: before this returns, or with
   * `defer`, together with other writes a moment later (reads flush first, so they see them).
   */
  private write(runId: string, events: NewRunEvent[], defer = false): void {
    if (events.length === 0) return;
    const time = this.now();
    const full = events.map((e) => (e.time === undefined ? { ...e, time } : e) as RunEvent);
    this.writer.append(runId, full, full.map(eventLine).join(''), defer);
  }

  /** A run that may be written to: it exists (read in first if just launched) and is not deleted. */
  private requireWritableRun(runId: string): { name: string; source: string } {
    const generation = this.tracking.runRowsGeneration;
    const cached = this.writableRuns.get(runId);
    if (cached && cached.generation === generation) return cached.run; // nothing about the run's row changed since
    validateRunId(runId);
    const row = this.findRunRow(runId, 'SELECT name, source, lifecycle FROM runs WHERE id = ?');
    if (row.lifecycle !== 'active') throw invalidParameter(`The run ${runId} must be in the 'active' state. Current state is ${String(row.lifecycle)}.`);
    const run = { name: row.name as string, source: row.source as string };
    if (this.writableRuns.size >= KEY_CACHE_MAX) this.writableRuns.clear();
    this.writableRuns.set(runId, { generation: this.tracking.runRowsGeneration, run });
    return run;
  }

  /** `String(ms)` for a non-negative integer, ~3× faster (13-digit numbers are not small integers to V8). */
  private timestampText(ms: number): string {
    if (ms < 1e6) return String(ms);
    const hi = Math.floor(ms / 1e6);
    if (hi !== this.lastMillionth) {
      this.lastMillionth = hi;
      this.lastMillionthText = String(hi);
    }
    const lo = ms - hi * 1e6;
    return this.lastMillionthText + (lo >= 100_000 ? String(lo) : String(lo).padStart(6, '0'));
  }

  /**
   * One metric of a request, checked, as a point of a `metrics` event: [key, value, step,
   * timestamp]. The common case (a known key, numbers of the right kinds) takes a fast path;
   * everything else goes through the full checks of validateMetric with MLflow's messages.
   */
  private metricPoint(raw: unknown, where: string): MetricPointJson {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw invalidParameter(`Invalid value ${preview(raw)} for parameter '${where}' supplied: expected an object.`);
    }
    const m = raw as Record<string, unknown>;
    let key = m.key, value = m.value, timestamp = m.timestamp, step = m.step ?? 0;
    const fast = typeof key === 'string' && isValidMetricKey(key) && typeof value === 'number'
      && typeof timestamp === 'number' && Number.isSafeInteger(timestamp) && timestamp >= 0 && typeof step === 'number' && Number.isSafeInteger(step);
    if (!fast) {
      const msg = new RequestMessage(m);
      key = msg.string('key');
      value = msg.double('value');
      timestamp = msg.int64('timestamp');
      step = msg.int64('step') ?? 0;
      validateMetric(key as string | undefined, value as number | undefined, timestamp as number | undefined, step as number);
    }
    const v = value as number;
    // Finite values (the common case) are stored as they are; NaN and ±Infinity as in `metric` events.
    const json: MetricValueJson = v - v === 0 ? v : encodeMetricValue(storedMetricValue(v));
    return [key as string, json, step as number, timestamp as number];
  }

  /** One metric of a request, checked, as its `metric` event and its log line (log-metric). */
  private metric(raw: unknown, where: string): { event: MetricEvent; line: string } {
    const [key, json, step, timestamp] = this.metricPoint(raw, where);
    // A valid key holds no character that JSON escapes; the line is exactly what eventLine writes.
    const line = `{"type":"metric","time":${this.timestampText(timestamp)},"key":"${key}","value":${typeof json === 'number' ? json : `"${json}"`},"step":${step}}\n`;
    return { event: { type: 'metric', time: timestamp, key, value: json, step }, line };
  }

  /** Experiments named by runs but not yet in experiments.jsonl get their ids. */
  syncExperiments(): void {
    this.writer.flush();
    this.seeOtherWriters();
    // Only experiments that hold runs: the one a rename emptied keeps its row in the index until a reindex.
    for (const r of this.tracking.query('SELECT DISTINCT e.name, e.created FROM experiments e JOIN runs r ON r.experiment_id = e.id')) {
      this.experiments.forRunExperiment(r.name as string, r.created as number);
    }
  }

  experimentJson(e: ExperimentRecord): ExperimentJson {
    return {
      experiment_id: e.id,
      name: e.name,
      artifact_location: e.artifactLocation ?? `mlflow-artifacts:/${e.id}`,
      lifecycle_stage: e.lifecycle,
      creation_time: e.creationTime,
      last_update_time: e.lastUpdateTime,
      tags: [...e.tags].map(([key, value]) => ({ key, value })),
    };
  }

  private runInfo(row: RunRow, experimentId = this.experimentOfRun(row).id): RunInfoJson {
    const info: RunInfoJson = {
      run_id: row.id,
      run_uuid: row.id,
      run_name: row.name,
      experiment_id: experimentId,
      user_id: typeof row.capture.user === 'string' ? row.capture.user : '',
      status: row.status,
      start_time: row.startTime ?? 0,
      artifact_uri: artifactUri(experimentId, row.id),
      lifecycle_stage: row.lifecycle,
    };
    if (row.endTime !== null && row.status !== 'RUNNING') info.end_time = row.endTime;
    return info;
  }

  /** Full runs (info, params, latest metrics, tags, dataset inputs) for many runs with a few queries. */
  private runsJson(rows: RunRow[]): RunJson[] {
    const ids = rows.map((r) => r.id);
    const params = new Map<string, KeyValue[]>();
    const tags = new Map<string, KeyValue[]>();
    const metrics = new Map<string, MetricPoint[]>();
    for (const part of chunks(ids)) {
      const marks = placeholders(part.length);
      for (const r of this.tracking.query(`SELECT run_id, key, value FROM params WHERE run_id IN (${marks}) ORDER BY run_id, key`, part)) {
        pushTo(params, r.run_id as string, { key: r.key as string, value: r.value as string });
      }
      for (const r of this.tracking.query(`SELECT run_id, key, value FROM tags WHERE run_id IN (${marks}) ORDER BY run_id, key`, part)) {
        pushTo(tags, r.run_id as string, { key: r.key as string, value: r.value as string });
      }
      for (const r of this.tracking.query(`SELECT run_id, ${LATEST_COLUMNS} FROM metrics WHERE run_id IN (${marks}) ORDER BY run_id, seq`, part)) {
        pushTo(metrics, r.run_id as string, latestPoint(r));
      }
    }
    return rows.map((row) => {
      const runTags = tags.get(row.id) ?? [];
      // The run's current name is the truth (a rename in the Runs view writes no tag).
      const named = runTags.filter((t) => t.key !== SYSTEM_TAGS.runName);
      named.push({ key: SYSTEM_TAGS.runName, value: row.name });
      return {
        info: this.runInfo(row),
        data: { metrics: (metrics.get(row.id) ?? []).map(wireMetric), params: params.get(row.id) ?? [], tags: named.sort(byKey) },
        inputs: { dataset_inputs: this.datasetInputsOf(row) },
      };
    });
  }

  private datasetInputsOf(row: RunRow): DatasetInputJson[] {
    if (row.source !== 'mlflow' && !this.datasetRuns.has(row.id)) return [];
    return this.datasets.of(this.tracking.layout.eventsFile(row.id), row.id);
  }

  // ---------------------------------------------------------------- experiments

  createExperiment(msg: RequestMessage): { experiment_id: string } {
    const name = validateExperimentName(msg.string('name'));
    const artifactLocation = msg.string('artifact_location') || undefined;
    if (artifactLocation?.startsWith('runs:')) {
      throw invalidParameter(`Artifact location cannot be a runs:/ URI. Given: '${preview(artifactLocation)}'`);
    }
    const tags = msg.messages('tags').map((t) => {
      const key = validateKey('Tag', t.string('key'));
      return { key, value: validateLength('Tag value', LIMITS.experimentTagValueLength, t.string('value') ?? '') };
    });
    this.syncExperiments();
    const existing = this.experiments.byName(name);
    if (existing) {
      throw new MlflowError('RESOURCE_ALREADY_EXISTS', existing.lifecycle === 'deleted'
        ? `Experiment '${name}' already exists in deleted state. You can restore the experiment, or permanently delete the experiment from the .trash folder (under tracking server's root folder) in order to use this experiment name again.`
        : `Experiment(name=${name}) already exists.`);
    }
    const record = this.experiments.create(name, { artifactLocation });
    for (const t of tags) this.experiments.setTag(record.id, t.key, t.value);
    this.options.onDidWrite?.([]);
    return { experiment_id: record.id };
  }

  getExperiment(msg: RequestMessage): { experiment: ExperimentJson } {
    const id = msg.requiredString('experiment_id');
    this.syncExperiments();
    return { experiment: this.experimentJson(this.requireExperiment(id)) };
  }

  getExperimentByName(msg: RequestMessage): { experiment: ExperimentJson } {
    const name = msg.requiredString('experiment_name');
    this.syncExperiments();
    const record = this.experiments.byName(name);
    if (!record) throw doesNotExist(`Could not find experiment with name '${name}'`);
    return { experiment: this.experimentJson(record) };
  }

  searchExperiments(msg: RequestMessage): { experiments: ExperimentJson[]; next_page_token?: string } {
    const maxResults = validateMaxResults(msg.int64('max_results'), LIMITS.searchDefaultMaxResults, LIMITS.searchMaxResults);
    const offset = decodePageToken(msg.string('page_token'));
    const filter = parseExperimentFilter(msg.string('filter'));
    const order = msg.strings('order_by').map((clause) => parseOrderBy(clause, EXPERIMENT_SCHEMA));
    const viewType = msg.enumValue('view_type', VIEW_TYPES, VIEW_TYPE_NUMBERS) ?? 'ACTIVE_ONLY';
    this.syncExperiments();
    const views = this.experiments.list()
      .filter((e) => viewType === 'ALL' || (viewType === 'ACTIVE_ONLY') === (e.lifecycle === 'active'))
      .map((e) => ({ e, view: experimentView(e) }))
      .filter(({ view }) => matchRun(filter, view));
    const natural: OrderKey[] = [{ entity: 'attribute', key: 'creation_time', ascending: false }, { entity: 'attribute', key: 'experiment_id', ascending: true }];
    views.sort((a, b) => compareRuns(a.view, b.view, [...order, ...natural]));
    const page = views.slice(offset, offset + maxResults).map(({ e }) => this.experimentJson(e));
    return { experiments: page, ...(offset + maxResults < views.length ? { next_page_token: encodePageToken(offset + maxResults) } : {}) };
  }

  setExperimentTag(msg: RequestMessage): Record<string, never> {
    const id = msg.requiredString('experiment_id');
    const key = validateKey('Tag', msg.string('key'));
    const value = validateLength('Tag value', LIMITS.experimentTagValueLength, msg.string('value') ?? '');
    this.syncExperiments();
    const record = this.requireExperiment(id);
    if (record.lifecycle !== 'active') throw invalidParameter(`The experiment ${id} must be in the 'active' state. Current state is ${record.lifecycle}.`);
    this.experiments.setTag(id, key, value);
    this.options.onDidWrite?.([]);
    return {};
  }

  /** MLflow's update-experiment: a rename. The runs follow (a `move` line in each run's log). */
  updateExperiment(msg: RequestMessage): Record<string, never> {
    const id = msg.requiredString('experiment_id');
    const name = validateExperimentName(msg.string('new_name'));
    this.syncExperiments();
    const record = this.requireExperiment(id);
    if (record.lifecycle !== 'active') throw invalidParameter(`Cannot rename a non-active experiment. Experiment ${id} is ${record.lifecycle}.`);
    if (id === DEFAULT_EXPERIMENT_ID) throw invalidParameter('Cannot rename the default experiment \'0\': runs started without an experiment land in "Default". Create a new experiment instead.');
    if (name === record.name) return {};
    const clash = this.experiments.byName(name);
    if (clash) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${name}) already exists.`);
    const from = record.name;
    this.experiments.rename(id, name);
    const moved = this.tracking.moveExperimentRuns(from, name);
    this.options.onDidWrite?.(moved);
    return {};
  }

  deleteExperiment(msg: RequestMessage): Record<string, never> {
    const id = msg.requiredString('experiment_id');
    this.syncExperiments();
    const record = this.requireExperiment(id);
    if (id === DEFAULT_EXPERIMENT_ID) throw invalidParameter('Cannot delete the default experiment \'0\'. This is an internally reserved experiment.');
    if (record.lifecycle !== 'deleted') this.experiments.setLifecycle(id, 'deleted');
    this.options.onDidWrite?.([]);
    return {};
  }

  restoreExperiment(msg: RequestMessage): Record<string, never> {
    const id = msg.requiredString('experiment_id');
    this.syncExperiments();
    const record = this.requireExperiment(id);
    if (record.lifecycle !== 'active') this.experiments.setLifecycle(id, 'active');
    this.options.onDidWrite?.([]);
    return {};
  }

  // ---------------------------------------------------------------- runs

  createRun(msg: RequestMessage): { run: RunJson } {
    const experimentId = msg.string('experiment_id') || DEFAULT_EXPERIMENT_ID;
    const startTime = msg.int64('start_time') ?? this.now();
    if (startTime < 0) throw invalidParameter(`Invalid value ${startTime} for parameter 'start_time' supplied: it must be a nonnegative time in milliseconds.`);
    const userId = msg.string('user_id');
    const tags = new Map<string, string>();
    for (const t of msg.messages('tags')) {
      const key = validateKey('Tag', t.string('key'));
      tags.set(key, validateLength('Tag value', LIMITS.runTagValueLength, t.string('value') ?? ''));
    }
    const requestedName = msg.string('run_name') || undefined;
    const tagName = tags.get(SYSTEM_TAGS.runName);
    if (requestedName && tagName && requestedName !== tagName) {
      throw invalidParameter(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${preview(requestedName)}', mlflow.runName='${preview(tagName)}').`);
    }
    this.syncExperiments();
    const experiment = this.requireExperiment(experimentId);
    if (experiment.lifecycle !== 'active') {
      throw invalidParameter(`Could not create run under non-active experiment with ID ${experimentId}.`);
    }
    const name = requestedName || tagName || randomRunName();
    tags.set(SYSTEM_TAGS.runName, name);
    const runId = newRunId();
    const events: NewRunEvent[] = [
      { type: 'run_start', schema: EVENT_SCHEMA_VERSION, run_id: runId, name, experiment: experiment.name, source: 'mlflow', time: startTime },
      { type: 'capture', capture: captureFromTags(tags, userId), time: startTime },
      ...[...tags].map(([key, value]): NewRunEvent => ({ type: 'tag', key, value, time: startTime })),
    ];
    try {
      fs.mkdirSync(this.tracking.layout.artifactsDir(runId), { recursive: true });
      appendEvents(this.tracking.layout.eventsFile(runId), events);
    } catch (err) {
      fs.rmSync(this.tracking.layout.runDir(runId), { recursive: true, force: true }); // a full disk leaves no empty run behind
      throw err;
    }
    this.tracking.refresh([runId]);
    this.options.onDidWrite?.([runId]);
    return { run: this.runsJson([this.requireRun(runId)])[0] };
  }

  getRun(msg: RequestMessage): { run: RunJson } {
    const row = this.requireRun(this.runIdOf(msg));
    return { run: this.runsJson([row])[0] };
  }

  updateRun(msg: RequestMessage): { run_info: RunInfoJson } {
    const runId = this.runIdOf(msg);
    const status = msg.enumValue('status', RUN_STATUSES, RUN_STATUS_NUMBERS);
    const endTime = msg.int64('end_time');
    if (endTime !== undefined && endTime < 0) throw invalidParameter(`Invalid value ${endTime} for parameter 'end_time' supplied: it must be a nonnegative time in milliseconds.`);
    const runName = msg.string('run_name') || undefined;
    const row = this.requireActiveRun(runId);
    const events: NewRunEvent[] = [];
    if (runName !== undefined && runName !== row.name) {
      events.push({ type: 'rename', name: runName }, { type: 'tag', key: SYSTEM_TAGS.runName, value: runName });
    }
    // SCHEDULED has no place in the event log: such a run is shown RUNNING.
    const next: RunStatus | undefined = status === 'SCHEDULED' ? 'RUNNING' : status;
    if (next === 'RUNNING') {
      if (row.status !== 'RUNNING') events.push({ type: 'status', status: 'RUNNING' });
    } else if (next) {
      events.push({ type: 'run_end', status: next, exit_code: null, time: endTime ?? this.now() });
    } else if (endTime !== undefined && row.status !== 'RUNNING') {
      events.push({ type: 'run_end', status: row.status, exit_code: null, time: endTime });
    }
    this.write(runId, events);
    return { run_info: this.runInfo(this.requireRun(runId)) };
  }

  deleteRun(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const row = this.requireRun(runId);
    if (row.lifecycle !== 'deleted') this.write(runId, [{ type: 'lifecycle', stage: 'deleted' }]);
    return {};
  }

  restoreRun(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const row = this.requireRun(runId);
    if (row.lifecycle !== 'active') this.write(runId, [{ type: 'lifecycle', stage: 'active' }]);
    return {};
  }

  searchRuns(msg: RequestMessage): { runs: RunJson[]; next_page_token?: string } {
    const experimentIds = msg.strings('experiment_ids');
    const filter = parseRunFilter(msg.string('filter'));
    const order = msg.strings('order_by').map((clause) => parseOrderBy(clause));
    const viewType = msg.enumValue('run_view_type', VIEW_TYPES, VIEW_TYPE_NUMBERS) ?? 'ACTIVE_ONLY';
    const maxResults = validateMaxResults(msg.int64('max_results'), LIMITS.searchDefaultMaxResults, LIMITS.searchMaxResults);
    const offset = decodePageToken(msg.string('page_token'));
    this.syncExperiments();
    const names = [...new Set(experimentIds)].map((id) => this.experiments.get(id)?.name).filter((n): n is string => n !== undefined);
    if (names.length === 0) return { runs: [] };
    const where: string[] = [`e.name IN (${placeholders(names.length)})`];
    if (viewType === 'ACTIVE_ONLY') where.push("r.lifecycle = 'active'");
    if (viewType === 'DELETED_ONLY') where.push("r.lifecycle = 'deleted'");
    const rows = this.tracking.query(`${RUN_SELECT} WHERE ${where.join(' AND ')}`, names).map(toRunRow);
    const matched = this.filterAndSort(rows, filter, order);
    const page = matched.slice(offset, offset + maxResults);
    return {
      runs: this.runsJson(page),
      ...(offset + maxResults < matched.length ? { next_page_token: encodePageToken(offset + maxResults) } : {}),
    };
  }

  /** Filters and orders runs, loading only the params, tags and metrics the filter and order_by name. */
  filterAndSort(rows: RunRow[], filter: FilterNode | undefined, order: OrderKey[]): RunRow[] {
    const keys = referencedKeys(filter, order);
    const views = new Map<string, RunView & { params: Record<string, string>; metrics: Record<string, number>; tags: Record<string, string> }>();
    for (const row of rows) {
      const experimentId = this.experimentOfRun(row).id;
      views.set(row.id, {
        params: {}, metrics: {}, tags: {},
        attributes: {
          run_id: row.id, run_name: row.name, status: row.status, start_time: row.startTime ?? 0, end_time: row.endTime,
          user_id: typeof row.capture.user === 'string' ? row.capture.user : '', artifact_uri: artifactUri(experimentId, row.id),
          experiment_id: experimentId,
        },
      });
    }
    const ids = rows.map((r) => r.id);
    const needsDatasets = usesDatasets(filter);
    for (const part of chunks(ids)) {
      const marks = placeholders(part.length);
      if (keys.param.size) {
        for (const r of this.tracking.query(`SELECT run_id, key, value FROM params WHERE run_id IN (${marks}) AND key IN (${placeholders(keys.param.size)})`, [...part, ...keys.param])) {
          views.get(r.run_id as string)!.params[r.key as string] = r.value as string;
        }
      }
      if (keys.tag.size) {
        for (const r of this.tracking.query(`SELECT run_id, key, value FROM tags WHERE run_id IN (${marks}) AND key IN (${placeholders(keys.tag.size)})`, [...part, ...keys.tag])) {
          views.get(r.run_id as string)!.tags[r.key as string] = r.value as string;
        }
      }
      if (keys.metric.size) {
        for (const r of this.tracking.query(`SELECT run_id, ${LATEST_COLUMNS} FROM metrics WHERE run_id IN (${marks}) AND key IN (${placeholders(keys.metric.size)})`, [...part, ...keys.metric])) {
          views.get(r.run_id as string)!.metrics[r.key as string] = storedMetricValue(latestPoint(r).value);
        }
      }
    }
    if (keys.tag.has(SYSTEM_TAGS.runName)) for (const row of rows) views.get(row.id)!.tags[SYSTEM_TAGS.runName] = row.name;
    const viewOf = (row: RunRow): RunView => {
      const v = views.get(row.id)!;
      return needsDatasets ? { ...v, datasets: this.datasetInputsOf(row).map(datasetView) } : v;
    };
    return rows
      .map((row) => ({ row, view: viewOf(row) }))
      .filter(({ view }) => matchRun(filter, view))
      .sort((a, b) => compareRuns(a.view, b.view, order))
      .map(({ row }) => row);
  }

  logMetric(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const { event, line } = this.metric(msg.raw(), 'metric');
    this.requireWritableRun(runId);
    this.writer.append(runId, [event], line, true);
    return {};
  }

  logParam(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const key = validateKey('Param', msg.string('key'));
    const value = validateLength('Param value', LIMITS.paramValueLength, msg.string('value') ?? '');
    this.requireWritableRun(runId);
    this.writer.flush(runId); // the check below reads params that may still be on their way to the index
    const existing = this.tracking.query('SELECT value FROM params WHERE run_id = ? AND key = ?', [runId, key])[0]?.value as string | undefined;
    if (existing !== undefined) {
      if (existing === value) return {};
      throw invalidParameter(`Changing param values is not allowed. Param with key='${key}' was already logged with value='${preview(existing, 250)}' for run ID='${runId}'. Attempted logging new value '${preview(value, 250)}'.`);
    }
    this.write(runId, [{ type: 'param', key, value }], true);
    return {};
  }

  setTag(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const key = validateKey('Tag', msg.string('key'));
    const value = validateLength('Tag value', LIMITS.runTagValueLength, msg.string('value') ?? '');
    const row = this.requireWritableRun(runId);
    const events: NewRunEvent[] = [{ type: 'tag', key, value }];
    if (key === SYSTEM_TAGS.runName && value && value !== row.name) events.push({ type: 'rename', name: value });
    this.write(runId, events, true);
    return {};
  }

  deleteTag(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const key = msg.requiredString('key');
    this.requireWritableRun(runId);
    this.writer.flush(runId);
    const exists = this.tracking.query('SELECT 1 AS x FROM tags WHERE run_id = ? AND key = ?', [runId, key]).length > 0;
    if (!exists) throw doesNotExist(`No tag with name: ${preview(key, 250)} in run with id ${runId}`);
    this.write(runId, [{ type: 'tag_delete', key }]);
    return {};
  }

  /** Params first, then metrics in their order, then tags; checked whole before anything is written. */
  logBatch(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const metrics = msg.rawList('metrics');
    const params = msg.messages('params');
    const tags = msg.messages('tags');
    validateBatchLimits(metrics.length, params.length, tags.length);
    const paramValues = new Map<string, string>();
    const duplicates: string[] = [];
    for (const p of params) {
      const key = validateKey('Param', p.string('key'));
      const value = validateLength('Param value', LIMITS.paramValueLength, p.string('value') ?? '');
      if (paramValues.has(key)) duplicates.push(key);
      paramValues.set(key, value);
    }
    const events: RunEvent[] = [];
    const points: MetricPointJson[] = new Array(metrics.length);
    for (let i = 0; i < metrics.length; i++) points[i] = this.metricPoint(metrics[i], `metrics[${i}]`);
    const time = this.now();
    const tagEvents: RunEvent[] = tags.map((t) => ({
      type: 'tag', time, key: validateKey('Tag', t.string('key')), value: validateLength('Tag value', LIMITS.runTagValueLength, t.string('value') ?? ''),
    }));
    if (duplicates.length) {
      throw invalidParameter(`Duplicate parameter keys have been submitted: [${duplicates.map((k) => `'${preview(k, 250)}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`);
    }
    const row = this.requireWritableRun(runId);
    if (paramValues.size) {
      this.writer.flush(runId); // params logged just before must be in the index for the check
      const keys = [...paramValues.keys()];
      const changed: string[] = [];
      for (const part of chunks(keys)) {
        for (const r of this.tracking.query(`SELECT key, value FROM params WHERE run_id = ? AND key IN (${placeholders(part.length)})`, [runId, ...part])) {
          const key = r.key as string;
          if (paramValues.get(key) === r.value) paramValues.delete(key);
          else changed.push(`${key}: '${preview(r.value, 100)}' → '${preview(paramValues.get(key), 100)}'`);
        }
      }
      if (changed.length) {
        throw invalidParameter(`Changing param values is not allowed. Params were already logged for run ID='${runId}' with different values: ${changed.join('; ')}.`);
      }
      for (const [key, value] of paramValues) events.push({ type: 'param', time, key, value });
    }
    if (points.length) {
      // All the metrics in one `metrics` line (docs/event-log.md).
      events.push({ type: 'metrics', time, points } satisfies MetricsEvent);
    }
    for (const t of tagEvents) {
      events.push(t);
      if (t.type === 'tag' && t.key === SYSTEM_TAGS.runName && t.value && t.value !== row.name) events.push({ type: 'rename', time, name: t.value });
    }
    this.write(runId, events, true);
    return {};
  }

  /**
   * A log-batch of plain metrics only (plainBatch.ts; read on the batch reader thread, or by
   * logBatch): its run is checked here, then it is stored as an `mlflow_metrics` line
   * (docs/event-log.md) of its checked fields (batchAsReceived.ts).
   */
  logPlainBatch(batch: PlainBatch): Record<string, never> {
    const runId = this.runIdOf(new RequestMessage({ run_id: batch.runId, run_uuid: batch.runUuid }));
    this.requireWritableRun(runId);
    this.writer.appendSummarised(runId, batch.summaries, mlflowMetricsLine(this.now(), batch.request));
    return {};
  }

  getMetricHistory(msg: RequestMessage): { metrics: MetricPoint[]; next_page_token?: string } {
    const runId = this.runIdOf(msg);
    const key = msg.requiredString('metric_key');
    // A larger max_results is cut to the largest page, not refused.
    const pageSize = Math.min(validateMaxResults(msg.int64('max_results'), LIMITS.historyPage, Infinity), LIMITS.historyPage);
    const offset = decodePageToken(msg.string('page_token'));
    this.requireRun(runId);
    const row = this.tracking.query('SELECT history, count FROM metrics WHERE run_id = ? AND key = ?', [runId, key])[0];
    if (!row) return { metrics: [] };
    const count = row.count as number;
    const records = readHistoryRange(`${this.tracking.layout.runHistoryDir(runId)}/${row.history as string}`, offset, Math.min(pageSize, count - offset));
    const metrics: MetricPoint[] = [];
    for (let i = 0; i < records.length; i += 3) metrics.push(wireMetric({ key, step: records[i], timestamp: records[i + 1], value: records[i + 2] }));
    return { metrics, ...(offset + pageSize < count ? { next_page_token: encodePageToken(offset + pageSize) } : {}) };
  }

  logInputs(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const datasets = msg.messages('datasets');
    if (datasets.length > LIMITS.datasetsPerRequest) {
      throw invalidParameter(`A batch logging request can contain at most ${LIMITS.datasetsPerRequest} datasets. Got ${datasets.length} datasets.`);
    }
    const time = this.now();
    const lines = datasets.map((input, i) => {
      const d = input.message('dataset');
      if (!d) throw invalidParameter(`Missing value for required parameter 'datasets[${i}].dataset'.`);
      const dataset: DatasetJson = {
        name: validateLength('Dataset name', 500, d.requiredString('name')),
        digest: validateLength('Dataset digest', 36, d.requiredString('digest')),
        source_type: validateLength('Dataset source type', 500, d.requiredString('source_type')),
        source: validateLength('Dataset source', 65_535, d.requiredString('source')),
      };
      const schema = d.string('schema');
      if (schema) dataset.schema = validateLength('Dataset schema', 1_048_575, schema);
      const profile = d.string('profile');
      if (profile) dataset.profile = validateLength('Dataset profile', 16_777_215, profile);
      const tags = input.messages('tags').map((t) => ({
        key: validateLength('Input tag key', 255, t.requiredString('key')),
        value: validateLength('Input tag value', 500, t.string('value') ?? ''),
      }));
      const event: DatasetInputEvent = { type: 'dataset_input', time, dataset, tags };
      return JSON.stringify(event) + '\n';
    });
    const row = this.requireWritableRun(runId);
    if (row.source !== 'mlflow') this.datasetRuns.add(runId);
    // Lines the index does not read: appended, then the log is read as usual (it skips them).
    this.writer.flush(runId);
    try {
      appendRecord(this.tracking.layout.eventsFile(runId), lines.join(''), { create: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw doesNotExist(`Run with id=${runId} not found (its folder was removed)`);
      throw err;
    }
    this.tracking.refresh([runId]);
    this.options.onDidWrite?.([runId]);
    return {};
  }

  /** MLflow 2's log-model: the model's JSON is appended to the run's `mlflow.log-model.history` tag. */
  logModel(msg: RequestMessage): Record<string, never> {
    const runId = this.runIdOf(msg);
    const modelJson = msg.requiredString('model_json');
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch {
      throw invalidParameter(`Invalid value for parameter 'model_json': it is not JSON (${preview(modelJson)}).`);
    }
    if (typeof model !== 'object' || model === null || Array.isArray(model)) throw invalidParameter("Invalid value for parameter 'model_json': expected a JSON object.");
    this.requireWritableRun(runId);
    this.writer.flush(runId);
    const current = this.tracking.query('SELECT value FROM tags WHERE run_id = ? AND key = ?', [runId, SYSTEM_TAGS.logModelHistory])[0]?.value;
    let history: unknown[] = [];
    try {
      const parsed = typeof current === 'string' ? (JSON.parse(current) as unknown) : [];
      if (Array.isArray(parsed)) history = parsed;
    } catch {
      history = [];
    }
    history.push(model);
    this.write(runId, [{ type: 'tag', key: SYSTEM_TAGS.logModelHistory, value: JSON.stringify(history) }]);
    return {};
  }

  // ---------------------------------------------------------------- artifacts

  artifactsOf(runId: string): RunArtifacts {
    return new RunArtifacts(this.tracking.layout.artifactsDir(runId));
  }

  /** GET /mlflow/artifacts/list: paths relative to the run's artifact root. */
  listArtifacts(msg: RequestMessage): { root_uri: string; files: FileInfo[] } {
    const runId = this.runIdOf(msg);
    const rel = msg.string('path') ?? '';
    const segments = artifactSegments(rel);
    const row = this.requireRun(runId);
    const base = segments.join('/');
    try {
      return {
        root_uri: this.runInfo(row).artifact_uri,
        files: this.artifactsOf(runId).list(segments, (name) => (base ? `${base}/${name}` : name)),
      };
    } catch (err) {
      throw fsError(err, rel);
    }
  }

  /**
   * Resolves a proxied artifact path `<experiment>/<run>/artifacts/<path…>` (the layout of the
   * artifact_uri this server hands out). Returns the run and the checked segments below its root.
   */
  resolveProxiedPath(rel: string): { runId: string; segments: string[] } | { virtual: string[] } {
    const all = artifactSegments(rel);
    if (all.length < 3) return { virtual: all };
    const [experimentId, runId, folder, ...segments] = all;
    validateExperimentId(experimentId);
    if (folder !== 'artifacts') throw doesNotExist(`No artifact at '${preview(rel)}': run artifacts live under <experiment>/<run>/artifacts/.`);
    this.requireRun(runId);
    return { runId, segments };
  }

  /** Lists a proxied path; above a run's artifact folder it lists experiments, their runs, and `artifacts`. */
  listProxied(rel: string): { files: FileInfo[] } {
    const resolved = this.resolveProxiedPath(rel);
    if ('virtual' in resolved) {
      const [experimentId, runId] = resolved.virtual;
      this.syncExperiments();
      if (experimentId === undefined) return { files: this.experiments.list().map((e) => ({ path: e.id, is_dir: true })) };
      validateExperimentId(experimentId);
      const experiment = this.experiments.get(experimentId);
      if (!experiment) return { files: [] };
      if (runId === undefined) {
        const runs = this.tracking.query('SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? ORDER BY r.id', [experiment.name]);
        return { files: runs.map((r) => ({ path: r.id as string, is_dir: true })) };
      }
      validateRunId(runId);
      return { files: this.runRow(runId) ? [{ path: 'artifacts', is_dir: true }] : [] };
    }
    try {
      return { files: this.artifactsOf(resolved.runId).list(resolved.segments, (name) => name) };
    } catch (err) {
      throw fsError(err, rel);
    }
  }

  /** Checks a proxied download path; returns the absolute file and its size. */
  proxiedFile(rel: string): { path: string; size: number } {
    const resolved = this.resolveProxiedPath(rel);
    if ('virtual' in resolved) throw invalidParameter(`'${preview(rel)}' is a folder; list it, then download its files.`);
    try {
      return this.artifactsOf(resolved.runId).file(resolved.segments);
    } catch (err) {
      throw fsError(err, rel);
    }
  }

  /** Stores an uploaded file under the run's artifact folder and records it in the run's log. */
  async uploadProxied(rel: string, body: Readable): Promise<Record<string, never>> {
    const resolved = this.resolveProxiedPath(rel);
    if ('virtual' in resolved || resolved.segments.length === 0) {
      throw invalidParameter(`Cannot upload to '${preview(rel)}': uploads go to <experiment>/<run>/artifacts/<path>.`);
    }
    this.requireWritableRun(resolved.runId);
    const { size, sha256 } = await this.artifactsOf(resolved.runId).write(resolved.segments, body, this.maxArtifactBytes);
    // The run may have been deleted from the disk while the bytes were arriving.
    if (!fs.existsSync(this.tracking.layout.eventsFile(resolved.runId))) throw doesNotExist(`Run with id=${resolved.runId} not found`);
    this.write(resolved.runId, [{ type: 'artifact', path: resolved.segments.join('/'), size, sha256 }]);
    return {};
  }

  deleteProxied(rel: string): Record<string, never> {
    const resolved = this.resolveProxiedPath(rel);
    if ('virtual' in resolved || resolved.segments.length === 0) {
      throw invalidParameter(`Cannot delete '${preview(rel)}': only files and folders below a run's artifacts/ folder can be deleted.`);
    }
    this.requireWritableRun(resolved.runId);
    let removed: string[];
    try {
      removed = this.artifactsOf(resolved.runId).remove(resolved.segments);
    } catch (err) {
      throw fsError(err, rel);
    }
    this.write(resolved.runId, removed.map((p): NewRunEvent => ({ type: 'artifact_delete', path: p })));
    return {};
  }
}

function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function byKey(a: KeyValue, b: KeyValue): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The index's summary holds MLflow's latest point of each metric: greatest (step, timestamp, value). */
const LATEST_COLUMNS = 'key, latest, latest_step, latest_time';

/** A row of LATEST_COLUMNS as a point; SQLite has no NaN, the index stores it as NULL. */
function latestPoint(r: Record<string, SqlValue>): MetricPoint {
  return { key: r.key as string, value: (r.latest as number | null) ?? NaN, timestamp: r.latest_time as number, step: r.latest_step as number };
}

/** A metric as it goes on the wire: ±Infinity from other sources clamped like MLflow's own. */
function wireMetric(p: MetricPoint): MetricPoint {
  return { key: p.key, value: storedMetricValue(p.value), timestamp: p.timestamp, step: p.step };
}

function experimentView(e: ExperimentRecord): RunView {
  return {
    params: {}, metrics: {}, tags: Object.fromEntries(e.tags),
    attributes: { name: e.name, creation_time: e.creationTime, last_update_time: e.lastUpdateTime, experiment_id: /^\d{1,15}$/.test(e.id) ? Number(e.id) : e.id },
  };
}

function usesDatasets(node: FilterNode | undefined): boolean {
  if (!node) return false;
  return node.kind === 'compare' ? node.entity === 'dataset' : node.clauses.some(usesDatasets);
}

function datasetView(d: DatasetInputJson): { name: string; digest: string; context?: string } {
  const context = d.tags.find((t) => t.key === 'mlflow.data.context')?.value;
  return { name: d.dataset.name, digest: d.dataset.digest, ...(context !== undefined ? { context } : {}) };
}

