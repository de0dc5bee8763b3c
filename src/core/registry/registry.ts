import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditLog } from '../governance/audit';
import type { SnapshotStore } from '../snapshots';
import { appendRecord, isSettled, reportDamagedLine, undoAppend } from '../workspace/appendLog';
import { withFileLockSync } from '../workspace/fileLock';
import type { MlopsLayout } from '../workspace/layout';
import { currentUser } from '../workspace/user';
import { runTrailer } from './runTrailer';
import { detectModelFormat, type ModelFormat } from './modelFormat';
import { pathDigest } from './pathDigest';

/** One registered version of a model: what it is, where it came from, how good it was. */
export interface ModelVersion {
  model: string;
  version: number;
  /** The run that produced it, when known. */
  run_id: string | null;
  /** The snapshot holding its file(s). */
  snapshot: string;
  /** Path of the file or folder inside that snapshot. */
  path: string;
  /** Where it was registered from: workspace-relative, or absolute when outside the workspace's own files. */
  source: string;
  sha256: string;
  size: number;
  format: ModelFormat;
  /** The run's latest metrics at registration (NaN/±Infinity as strings). */
  metrics: Record<string, number | string>;
  created: number;
  user: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface Model {
  name: string;
  versions: ModelVersion[];
  /** Alias → version number. */
  aliases: Record<string, number>;
  description?: string;
  tags: Record<string, string>;
  /** When it was created (explicitly, or by its first version) and last changed. */
  created: number;
  updated: number;
}

interface Change { model: string; time: number; user: string }

type RegistryEvent =
  | ({ type: 'version' } & ModelVersion)
  | ({ type: 'alias'; alias: string; version: number | null } & Change)
  | ({ type: 'delete'; version: number } & Change)
  /** A model created before any version (MLflow's create_registered_model). */
  | ({ type: 'model'; description?: string; tags?: Record<string, string> } & Change)
  /** A description of the model (version null) or of one version. */
  | ({ type: 'describe'; version: number | null; description: string } & Change)
  /** A tag set (value null: removed) on the model (version null) or on one version. */
  | ({ type: 'tag'; version: number | null; key: string; value: string | null } & Change)
  | ({ type: 'rename'; to: string } & Change)
  /** The model and all its versions removed. */
  | ({ type: 'delete_model' } & Change);

/** `missing`: no such model, version or alias; `exists`: the name is taken; `invalid`: a bad name or request. */
export type RegistryProblem = 'missing' | 'exists' | 'invalid';

export class RegistryError extends Error {
  constructor(message: string, readonly problem: RegistryProblem = 'invalid') {
    super(message);
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkModelName(name: string): void {
  if (!NAME.test(name)) throw new RegistryError(`"${name}" is not a valid model name: use letters, digits, ".", "_" or "-" (up to 100), starting with a letter or digit.`);
}

function checkAliasName(alias: string): void {
  if (!NAME.test(alias) || /^\d+$/.test(alias)) {
    throw new RegistryError(`"${alias}" is not a valid alias: use letters, digits, ".", "_" or "-", not only digits (those are version numbers).`);
  }
}


export interface RegisterRequest {
  model: string;
  /** File or folder to register (absolute, or relative to the workspace). */
  path: string;
  runId?: string | null;
  /** The run's latest metrics, recorded with the version. */
  metrics?: Record<string, number | string>;
  description?: string;
  tags?: Record<string, string>;
}

/**
 * The model registry: `.mlops/registry.jsonl`, an append-only log of versions,
 * alias moves and deletions (the truth), folded into models on read. Every change
 * is also recorded in the audit trail.
 */
export class ModelRegistry {
  private cache: { key: string; models: Map<string, Model>; highest: Map<string, number> } | undefined;

  constructor(
    private readonly layout: MlopsLayout,
    private readonly snapshots: SnapshotStore,
    private readonly audit: AuditLog,
  ) {}

  get file(): string {
    return path.join(this.layout.dir, 'registry.jsonl');
  }

  models(): Model[] {
    return [...this.state().values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  model(name: string): Model {
    const model = this.state().get(name);
    if (!model) throw new RegistryError(`No model is named "${name}". List them with: mlops models list`, 'missing');
    return model;
  }

  /** A version by number or alias ("3", "champion"). */
  version(name: string, ref: string | number): ModelVersion {
    const model = this.model(name);
    const number = typeof ref === 'number' ? ref : /^\d+$/.test(ref) ? Number(ref) : model.aliases[ref];
    if (number === undefined) throw new RegistryError(`Model "${name}" has no alias "${ref}"; its aliases: ${Object.keys(model.aliases).join(', ') || 'none'}.`, 'missing');
    const found = model.versions.find((v) => v.version === number);
    if (!found) throw new RegistryError(`Model "${name}" has no version ${number}; it has ${model.versions.map((v) => v.version).join(', ') || 'none'}.`, 'missing');
    return found;
  }

  /** Versions produced by a run. */
  versionsOfRun(runId: string): ModelVersion[] {
    return this.models().flatMap((m) => m.versions.filter((v) => v.run_id === runId));
  }

  /** Snapshots the file or folder and records it as the next version of the model. */
  async register(req: RegisterRequest): Promise<ModelVersion> {
    checkModelName(req.model);
    const abs = path.resolve(this.layout.root, req.path);
    if (!fs.existsSync(abs)) throw new RegistryError(`Cannot register ${req.path}: no such file or folder.`);
    const rel = path.relative(this.layout.root, abs).split(path.sep).join('/');
    // A run's artifact (under .mlops) or a file elsewhere is snapshotted from its own folder.
    const inWorkspace = !rel.startsWith('..') && !path.isAbsolute(rel) && rel !== '.mlops' && !rel.startsWith('.mlops/');
    const [format, digest] = await Promise.all([detectModelFormat(abs), pathDigest(abs)]);
    const trailer = req.runId ? `\n\n${runTrailer(req.runId)}` : '';
    const inside = inWorkspace ? rel : path.basename(abs);
    const snapshot = await this.snapshots.snapshot([inside], {
      message: `Model ${req.model}: ${inside}${req.runId ? ` of run ${req.runId.slice(0, 8)}` : ''}${trailer}`,
      ...(inWorkspace ? {} : { from: path.dirname(abs) }),
    });
    const entry = withFileLockSync(this.file, () => {
      // Numbers are never reused, even after a deletion.
      const version = (this.fold().highest.get(req.model) ?? 0) + 1;
      const v: ModelVersion = {
        model: req.model, version, run_id: req.runId ?? null, snapshot: snapshot.id, path: inside, source: inWorkspace ? rel : abs,
        sha256: digest.sha256, size: digest.size, format, metrics: req.metrics ?? {}, created: Date.now(), user: currentUser(),
        ...(req.description ? { description: req.description } : {}), ...(req.tags && Object.keys(req.tags).length ? { tags: req.tags } : {}),
      };
      this.append({ type: 'version', ...v }, () => this.audit.append('register', [`model:${v.model}/${v.version}`, snapshot.id, ...(v.run_id ? [v.run_id] : [])], {
        path: v.source, sha256: v.sha256, size: v.size, framework: format.framework,
      }));
      return v;
    });
    return entry;
  }

  /** Points an alias at a version (or removes it with version null); the move is recorded. */
  setAlias(name: string, alias: string, version: number | null): void {
    checkAliasName(alias);
    withFileLockSync(this.file, () => {
      const model = this.state().get(name);
      if (!model) throw new RegistryError(`No model is named "${name}".`, 'missing');
      if (version !== null && !model.versions.some((v) => v.version === version)) {
        throw new RegistryError(`Model "${name}" has no version ${version}.`, 'missing');
      }
      const previous = model.aliases[alias] ?? null;
      this.append({ type: 'alias', model: name, alias, version, time: Date.now(), user: currentUser() },
        () => this.audit.append('alias', [`model:${name}`], { alias, from: previous, to: version }));
    });
  }

  /** Deletes a version; refused while an alias points at it. */
  deleteVersion(name: string, version: number): void {
    withFileLockSync(this.file, () => {
      const model = this.state().get(name);
      if (!model?.versions.some((v) => v.version === version)) throw new RegistryError(`Model "${name}" has no version ${version}.`, 'missing');
      const aliases = Object.entries(model.aliases).filter(([, v]) => v === version).map(([a]) => a);
      if (aliases.length) {
        throw new RegistryError(`Version ${version} of "${name}" is ${aliases.map((a) => `"${a}"`).join(' and ')}; move ${aliases.length > 1 ? 'those aliases' : 'that alias'} to another version first.`);
      }
      this.append({ type: 'delete', model: name, version, time: Date.now(), user: currentUser() }, () => this.audit.append('delete', [`model:${name}/${version}`]));
    });
  }

  /** Creates a model with no version yet (versions are otherwise created by their first register). */
  createModel(name: string, details: { description?: string; tags?: Record<string, string> } = {}): Model {
    checkModelName(name);
    withFileLockSync(this.file, () => {
      if (this.state().has(name)) throw new RegistryError(`A model named "${name}" already exists.`, 'exists');
      this.append({ type: 'model', model: name, ...details, time: Date.now(), user: currentUser() }, () => this.audit.append('model.create', [`model:${name}`], details.description ? { description: details.description } : {}));
    });
    return this.model(name);
  }

  /** Renames a model with its versions, aliases and tags; numbers stay. */
  renameModel(name: string, to: string): Model {
    checkModelName(to);
    withFileLockSync(this.file, () => {
      this.model(name);
      if (this.state().has(to)) throw new RegistryError(`A model named "${to}" already exists.`, 'exists');
      this.append({ type: 'rename', model: name, to, time: Date.now(), user: currentUser() }, () => this.audit.append('model.rename', [`model:${name}`, `model:${to}`], { from: name, to }));
    });
    return this.model(to);
  }

  /** Removes a model and every version of it (their snapshots stay, as after deleteVersion). */
  deleteModel(name: string): void {
    withFileLockSync(this.file, () => {
      this.model(name);
      this.append({ type: 'delete_model', model: name, time: Date.now(), user: currentUser() }, () => this.audit.append('model.delete', [`model:${name}`]));
    });
  }

  /** Sets the description of a model (version null) or of one of its versions. */
  describe(name: string, version: number | null, description: string): void {
    withFileLockSync(this.file, () => {
      if (version === null) this.model(name);
      else this.version(name, version);
      this.append({ type: 'describe', model: name, version, description, time: Date.now(), user: currentUser() }, () => this.audit.append('describe', [version === null ? `model:${name}` : `model:${name}/${version}`]));
    });
  }

  /** Sets (value null: removes) a tag of a model (version null) or of one of its versions. */
  setTag(name: string, version: number | null, key: string, value: string | null): void {
    if (!key) throw new RegistryError('A tag needs a key.');
    withFileLockSync(this.file, () => {
      const tags = version === null ? this.model(name).tags : this.version(name, version).tags ?? {};
      if (value === null && !(key in tags)) throw new RegistryError(`${version === null ? `Model "${name}"` : `Version ${version} of "${name}"`} has no tag "${key}".`, 'missing');
      this.append({ type: 'tag', model: name, version, key, value, time: Date.now(), user: currentUser() }, () => this.audit.append('tag', [version === null ? `model:${name}` : `model:${name}/${version}`], { key, value }));
    });
  }

  /**
   * Records a change and its audit entry, both or neither (under the registry's lock): when the
   * audit append fails (a full disk), the change is taken back out of the registry.
   */
  private append(event: RegistryEvent, audit: () => void): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.cache = undefined;
    const appended = appendRecord(this.file, JSON.stringify(event) + '\n', { sync: true });
    try {
      audit();
    } catch (err) {
      undoAppend(this.file, appended);
      this.cache = undefined;
      throw err;
    }
  }

  private state(): Map<string, Model> {
    return this.fold().models;
  }

  private events(): RegistryEvent[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const events: RegistryEvent[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      if (i === lines.length - 1) {
        // No newline after it: a write cut off (or still under way); the entries before it stand.
        if (isSettled(this.file)) reportDamagedLine(this.file, i + 1, 'the last line is cut off (no newline); it is ignored, and the next change moves it to registry.jsonl.damaged');
        return;
      }
      try {
        events.push(JSON.parse(line) as RegistryEvent);
      } catch {
        reportDamagedLine(this.file, i + 1, 'not valid JSON; line skipped');
      }
    });
    return events;
  }

  /** Folds the log into models; cached until the file changes. */
  private fold(): { models: Map<string, Model>; highest: Map<string, number> } {
    // Events of a model as it was named when they were written (renames move everything).
    let key = '';
    try {
      const st = fs.statSync(this.file);
      key = `${st.size}:${st.mtimeMs}`;
    } catch {
      key = 'none';
    }
    if (this.cache?.key === key) return this.cache;
    const models = new Map<string, Model>();
    const highest = new Map<string, number>();
    /** Models created explicitly: kept while they have no version. */
    const explicit = new Set<string>();
    const get = (name: string, time: number) => {
      let m = models.get(name);
      if (!m) models.set(name, (m = { name, versions: [], aliases: {}, tags: {}, created: time, updated: time }));
      m.updated = Math.max(m.updated, time);
      return m;
    };
    for (const e of this.events()) {
      const m = get(e.model, e.type === 'version' ? e.created : e.time);
      const target = (version: number | null) => (version === null ? m : m.versions.find((v) => v.version === version));
      if (e.type === 'version') {
        const { type: _type, ...version } = e;
        m.versions.push(version);
        highest.set(e.model, Math.max(highest.get(e.model) ?? 0, e.version));
      } else if (e.type === 'alias') {
        if (e.version === null) delete m.aliases[e.alias];
        else m.aliases[e.alias] = e.version;
      } else if (e.type === 'delete') {
        m.versions = m.versions.filter((v) => v.version !== e.version);
      } else if (e.type === 'model') {
        explicit.add(e.model);
        if (e.description) m.description = e.description;
        Object.assign(m.tags, e.tags ?? {});
      } else if (e.type === 'describe') {
        const t = target(e.version);
        if (t) t.description = e.description;
      } else if (e.type === 'tag') {
        const t = target(e.version);
        if (t) {
          const tags = (t.tags ??= {});
          if (e.value === null) delete tags[e.key];
          else tags[e.key] = e.value;
        }
      } else if (e.type === 'rename' && !models.has(e.to)) {
        models.delete(e.model);
        m.name = e.to;
        for (const v of m.versions) v.model = e.to;
        models.set(e.to, m);
        highest.set(e.to, Math.max(highest.get(e.model) ?? 0, highest.get(e.to) ?? 0));
        if (explicit.delete(e.model)) explicit.add(e.to);
      } else if (e.type === 'delete_model') {
        models.delete(e.model);
        explicit.delete(e.model);
      }
    }
    for (const [name, m] of models) if (!m.versions.length && !Object.keys(m.aliases).length && !explicit.has(name)) models.delete(name);
    this.cache = { key, models, highest };
    return this.cache;
  }
}
