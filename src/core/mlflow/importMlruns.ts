import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { encodeMetricValue, EVENT_SCHEMA_VERSION, type NewRunEvent } from '../tracking/events';
import { eventLine } from '../tracking/eventWriter';
import type { Tracking } from '../tracking/tracking';
import { captureFromTags, RUN_STATUS_NUMBERS, RUN_STATUSES, SYSTEM_TAGS } from './backend';
import type { ExperimentLog } from './experiments';
import { storedMetricValue } from './validation';

/**
 * Imports an MLflow file store (`mlruns/`) into the workspace, idempotently: each MLflow run
 * becomes an ordinary run (its own event log, source `mlflow`, artifacts copied) with the same
 * id, so importing the same folder again skips the runs already there. Layout read:
 *
 *   mlruns/<experiment id>/meta.yaml                      name, lifecycle_stage, creation_time
 *   mlruns/<experiment id>/tags/<key>                     experiment tags
 *   mlruns/<experiment id>/<run id>/meta.yaml             run_name, status, start/end time, user_id, lifecycle_stage
 *   mlruns/<experiment id>/<run id>/params/<key>          value (keys with '/' are nested folders)
 *   mlruns/<experiment id>/<run id>/metrics/<key>         lines "timestamp value step" ("timestamp value" in old stores)
 *   mlruns/<experiment id>/<run id>/tags/<key>            value
 *   mlruns/<experiment id>/<run id>/artifacts/…           files
 *
 * `.trash/` (deleted experiments) and `models/` (the model registry) are not imported.
 */
export interface ImportProgress { done: number; total: number; run?: string }

export interface ImportResult {
  experiments: number;
  imported: string[];
  skipped: string[];
  warnings: string[];
}

export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

const WRITE_CHUNK = 4 * 1024 * 1024;

interface ExperimentDir { dir: string; id: string; name: string; lifecycle: string; creationTime?: number; tags: Map<string, string>; runs: string[] }

function readYaml(file: string): Record<string, unknown> | undefined {
  try {
    const value = parseYaml(fs.readFileSync(file, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Files under `dir` as key → absolute path; keys are relative paths with '/' (MLflow keys may hold '/'). */
function keyFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (abs: string, rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const key = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(path.join(abs, d.name), key);
      else if (d.isFile()) out.set(key, path.join(abs, d.name));
    }
  };
  walk(dir, '');
  return out;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function parseMetricValue(text: string): number | undefined {
  if (/^[+-]?nan$/i.test(text)) return NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  const n = Number(text);
  return text !== '' && !Number.isNaN(n) ? n : undefined;
}

/** The id the run gets here: MLflow's own when it is 32 lowercase hex (uuid4 hex, the usual case), else one derived from it. */
export function importedRunId(mlflowRunId: string): string {
  if (/^[0-9a-f]{32}$/.test(mlflowRunId)) return mlflowRunId;
  return createHash('sha256').update(`mlflow-run:${mlflowRunId}`).digest('hex').slice(0, 32);
}

function scan(mlruns: string, warnings: string[]): ExperimentDir[] {
  const out: ExperimentDir[] = [];
  for (const d of fs.readdirSync(mlruns, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name.startsWith('.') || d.name === 'models') continue;
    const dir = path.join(mlruns, d.name);
    const meta = readYaml(path.join(dir, 'meta.yaml'));
    if (!meta) {
      warnings.push(`${dir}: no readable meta.yaml; not an MLflow experiment folder, skipped.`);
      continue;
    }
    const name = typeof meta.name === 'string' && meta.name ? meta.name : undefined;
    if (!name) {
      warnings.push(`${dir}/meta.yaml has no experiment name; skipped.`);
      continue;
    }
    const tags = new Map<string, string>();
    for (const [key, file] of keyFiles(path.join(dir, 'tags'))) tags.set(key, fs.readFileSync(file, 'utf8'));
    const runs = fs.readdirSync(dir, { withFileTypes: true })
      .filter((r) => r.isDirectory() && !['tags', 'datasets'].includes(r.name) && fs.existsSync(path.join(dir, r.name, 'meta.yaml')))
      .map((r) => r.name)
      .sort();
    out.push({
      dir, id: String(meta.experiment_id ?? d.name), name, lifecycle: String(meta.lifecycle_stage ?? 'active'),
      creationTime: num(meta.creation_time), tags, runs,
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Imports `mlruns` into the tracking store of `tracking`, giving experiments ids through `experiments`. */
export async function importMlruns(tracking: Tracking, experiments: ExperimentLog, mlruns: string, options: ImportOptions = {}): Promise<ImportResult> {
  const result: ImportResult = { experiments: 0, imported: [], skipped: [], warnings: [] };
  const root = path.resolve(mlruns);
  if (!isDir(root)) throw new Error(`${root} is not a folder; pass the mlruns/ folder of an MLflow file store.`);
  const found = scan(root, result.warnings);
  if (found.length === 0) {
    throw new Error(`${root} holds no MLflow experiments (no <id>/meta.yaml); pass the mlruns/ folder of an MLflow file store.`);
  }
  const trash = path.join(root, '.trash');
  if (isDir(trash)) {
    const n = fs.readdirSync(trash).length;
    if (n) result.warnings.push(`${n} deleted experiment${n === 1 ? '' : 's'} in .trash/ not imported.`);
  }
  const total = found.reduce((n, e) => n + e.runs.length, 0);
  let done = 0;
  options.onProgress?.({ done, total });
  const layout = tracking.layout;
  const tmpRoot = path.join(layout.dir, 'tmp', 'mlflow-import');
  for (const exp of found) {
    let record = experiments.byName(exp.name);
    if (!record) {
      record = experiments.create(exp.name, { time: exp.creationTime ?? Date.now(), preferredId: exp.id });
      result.experiments++;
    }
    for (const [key, value] of exp.tags) if (record.tags.get(key) !== value) experiments.setTag(record.id, key, value);
    if (exp.lifecycle === 'deleted' && record.lifecycle !== 'deleted') experiments.setLifecycle(record.id, 'deleted');

    for (const runDirName of exp.runs) {
      if (options.signal?.aborted) throw new Error('The import was cancelled; the runs imported so far are kept.');
      const runDir = path.join(exp.dir, runDirName);
      const meta = readYaml(path.join(runDir, 'meta.yaml'));
      const mlflowId = typeof meta?.run_id === 'string' && meta.run_id ? meta.run_id : typeof meta?.run_uuid === 'string' && meta.run_uuid ? meta.run_uuid : runDirName;
      const id = importedRunId(mlflowId);
      const label = typeof meta?.run_name === 'string' && meta.run_name ? meta.run_name : mlflowId;
      options.onProgress?.({ done, total, run: label });
      if (!meta) {
        result.warnings.push(`${runDir}/meta.yaml is not readable YAML; run skipped.`);
      } else if (fs.existsSync(layout.eventsFile(id))) {
        result.skipped.push(id);
      } else {
        try {
          await importRun(runDir, meta, id, mlflowId, exp.name, tmpRoot, layout.runDir(id), result.warnings);
          result.imported.push(id);
        } catch (err) {
          result.warnings.push(`Run ${mlflowId} (${runDir}) not imported: ${(err as Error).message}`);
        }
      }
      done++;
      options.onProgress?.({ done, total, run: label });
      await new Promise((resolve) => setImmediate(resolve)); // keep a host responsive during a long import
    }
  }
  fs.rmSync(tmpRoot, { recursive: true, force: true });
  if (result.imported.length) tracking.refresh(result.imported);
  return result;
}

async function importRun(
  runDir: string, meta: Record<string, unknown>, id: string, mlflowId: string, experiment: string,
  tmpRoot: string, target: string, warnings: string[],
): Promise<void> {
  const tags = new Map<string, string>();
  for (const [key, file] of keyFiles(path.join(runDir, 'tags'))) tags.set(key, fs.readFileSync(file, 'utf8'));
  const params = keyFiles(path.join(runDir, 'params'));
  const startTime = num(meta.start_time) ?? num(meta.end_time) ?? 0;
  const endTime = num(meta.end_time);
  const rawStatus = String(meta.status ?? '');
  const status = RUN_STATUS_NUMBERS[rawStatus] ?? RUN_STATUSES.find((s) => s === rawStatus) ?? 'FINISHED';
  const name = (typeof meta.run_name === 'string' && meta.run_name) || tags.get(SYSTEM_TAGS.runName) || mlflowId.slice(0, 8);
  const userId = typeof meta.user_id === 'string' ? meta.user_id : undefined;

  fs.mkdirSync(tmpRoot, { recursive: true });
  const work = path.join(tmpRoot, `import-${id}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(path.join(work, 'artifacts'), { recursive: true });
  const eventsFile = path.join(work, 'events.jsonl');
  const fd = fs.openSync(eventsFile, 'w');
  let pending = '';
  const emit = (event: NewRunEvent): void => {
    pending += eventLine(event);
    if (pending.length >= WRITE_CHUNK) {
      fs.writeSync(fd, pending);
      pending = '';
    }
  };
  try {
    const capture = captureFromTags(tags, userId);
    capture.mlflow = { ...(capture.mlflow as object | undefined), imported_from: runDir, run_id: mlflowId };
    emit({ type: 'run_start', schema: EVENT_SCHEMA_VERSION, run_id: id, name, experiment, source: 'mlflow', time: startTime });
    emit({ type: 'capture', capture, time: startTime });
    for (const [key, file] of params) emit({ type: 'param', key, value: fs.readFileSync(file, 'utf8'), time: startTime });
    for (const [key, file] of keyFiles(path.join(runDir, 'metrics'))) {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        const parts = line.trim().split(/\s+/);
        if (parts.length === 1 && parts[0] === '') return;
        const time = Number(parts[0]);
        const value = parseMetricValue(parts[1] ?? '');
        const step = parts.length > 2 ? Number(parts[2]) : 0;
        if (!Number.isFinite(time) || value === undefined || !Number.isSafeInteger(step)) {
          warnings.push(`${file}:${i + 1}: not "timestamp value step"; point skipped.`);
          return;
        }
        emit({ type: 'metric', key, value: encodeMetricValue(storedMetricValue(value)), step, time });
      });
    }
    for (const [key, value] of tags) emit({ type: 'tag', key, value, time: startTime });
    if (!tags.has(SYSTEM_TAGS.runName)) emit({ type: 'tag', key: SYSTEM_TAGS.runName, value: name, time: startTime });
    const artifacts = artifactSource(runDir, meta.artifact_uri);
    if (artifacts) {
      for (const a of await copyTree(artifacts, path.join(work, 'artifacts'), warnings)) emit({ type: 'artifact', ...a, time: endTime ?? startTime });
    }
    if (status === 'FINISHED' || status === 'FAILED' || status === 'KILLED') {
      emit({ type: 'run_end', status, exit_code: null, time: endTime ?? startTime });
    }
    if (meta.lifecycle_stage === 'deleted') emit({ type: 'lifecycle', stage: 'deleted', time: endTime ?? startTime });
    fs.writeSync(fd, pending);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
  fs.closeSync(fd);
  // The run appears whole or not at all: its folder is moved into place in one rename.
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    fs.renameSync(work, target);
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/** The run's local artifact folder: `<run>/artifacts`, else the file: path of its artifact_uri. */
function artifactSource(runDir: string, uri: unknown): string | undefined {
  const local = path.join(runDir, 'artifacts');
  if (isDir(local)) return local;
  if (typeof uri === 'string' && uri.startsWith('file:')) {
    try {
      const p = fileURLToPath(uri);
      if (isDir(p)) return p;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Copies regular files (symbolic links are skipped), hashing them on the way. */
async function copyTree(from: string, to: string, warnings: string[]): Promise<{ path: string; size: number; sha256: string }[]> {
  const out: { path: string; size: number; sha256: string }[] = [];
  const walk = async (src: string, dst: string, rel: string): Promise<void> => {
    for (const d of fs.readdirSync(src, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const s = path.join(src, d.name);
      const t = path.join(dst, d.name);
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isSymbolicLink()) {
        warnings.push(`${s}: a symbolic link; not copied.`);
      } else if (d.isDirectory()) {
        fs.mkdirSync(t, { recursive: true });
        await walk(s, t, r);
      } else if (d.isFile()) {
        out.push({ path: r, ...(await copyFile(s, t)) });
      }
    }
  };
  await walk(from, to, '');
  return out;
}

function copyFile(src: string, dst: string): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    const input = fs.createReadStream(src);
    const output = fs.createWriteStream(dst, { flags: 'wx' });
    input.on('data', (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      hash.update(b);
    });
    input.on('error', reject);
    output.on('error', reject);
    output.on('finish', () => resolve({ size, sha256: hash.digest('hex') }));
    input.pipe(output);
  });
}
