import * as path from 'node:path';
import { noteDeletedJob } from './compute/deletedJobs';
import { startRemoteRun, type RemoteRun, type RemoteRunOptions } from './compute/remoteRun';
import { AuditLog } from './governance/audit';
import { runTrailer } from './registry/runTrailer';
import { ModelRegistry, type ModelVersion, type RegisterRequest } from './registry/registry';
import { Deployments } from './serving/deployments';
import { SnapshotStore, type SnapshotInfo, type SnapshotProgress } from './snapshots';
import { redactUrl } from './snapshots/remote';
import { encodeMetricValue } from './tracking/events';
import { launchTrackedRun, type LaunchOptions, type TrackedProcess } from './tracking/launcher';
import type { RunInput } from './tracking/store';
import { Tracking, type OpenOptions } from './tracking/tracking';
import { ModelValidation } from './validation/modelValidation';
import { PersonalDataError, personalDataInSnapshots } from './validation/pushCheck';
import { readProjectConfig } from './workspace/config';

/** What a registration may add to a version (MLflow's create_model_version does). */
type VersionDetails = Pick<RegisterRequest, 'description' | 'tags'>;

/**
 * One workspace's engine: tracking, snapshots, the model registry and the audit
 * trail, wired so that every state change lands in the audit trail. The CLI and
 * the extension both go through this.
 */
export class Project {
  private constructor(
    readonly tracking: Tracking,
    readonly snapshots: SnapshotStore,
    readonly registry: ModelRegistry,
    readonly audit: AuditLog,
  ) {}

  static async open(root: string, options: OpenOptions = {}): Promise<Project> {
    const tracking = await Tracking.open(root, options);
    const snapshots = await SnapshotStore.open(tracking.layout);
    const audit = new AuditLog(tracking.layout);
    return new Project(tracking, snapshots, new ModelRegistry(tracking.layout, snapshots, audit), audit);
  }

  get layout() {
    return this.tracking.layout;
  }

  /** Evaluation, gates and gated promotion of model versions. */
  get validation(): ModelValidation {
    return new ModelValidation(this.tracking, this.snapshots, this.registry, this.audit);
  }

  private deploymentsOnce: Deployments | undefined;
  /** Deploy, switch, split, shadow and stop model servers (src/core/serving). */
  get deployments(): Deployments {
    return (this.deploymentsOnce ??= new Deployments(this.layout, this.registry, this.snapshots, this.audit));
  }

  close(): void {
    this.tracking.close();
  }

  async snapshot(paths: string[], options: { message: string; onProgress?: (p: SnapshotProgress) => void; signal?: AbortSignal; reuseUnchanged?: boolean }): Promise<SnapshotInfo> {
    const run = process.env.MLOPS_RUN_ID;
    // A snapshot taken inside a tracked run is that run's output: the trailer carries lineage.
    const message = run && /^[0-9a-f]{32}$/.test(run) ? `${options.message}\n\n${runTrailer(run)}` : options.message;
    const info = await this.snapshots.snapshot(paths, { ...options, message });
    if (!info.reused) this.audit.append('snapshot', [info.id], { paths: info.paths, files: info.fileCount, bytes: info.totalBytes, message: options.message });
    return info;
  }

  async restore(ref: string, options: { to?: string; overwrite?: boolean; signal?: AbortSignal }) {
    const result = await this.snapshots.restore(ref, options);
    if (result.written.length) {
      const id = await this.snapshots.resolve(ref);
      this.audit.append('restore', [id], { to: options.to ?? '(workspace)', files: result.written.length, overwrite: !!options.overwrite });
    }
    return result;
  }

  async tag(ref: string, name: string): Promise<void> {
    const id = await this.snapshots.resolve(ref);
    await this.snapshots.tag(id, name);
    this.audit.append('tag', [id], { tag: name });
  }

  /** Pushes all snapshots; refused when their tables look like they hold personal data, unless allowed (then audited). */
  async push(url: string, headers?: Record<string, string>, options: { allowPersonalData?: boolean } = {}): Promise<void> {
    const personal = await personalDataInSnapshots(this.layout, this.snapshots);
    if (personal.length && !options.allowPersonalData) throw new PersonalDataError(personal);
    await this.snapshots.push(url, { headers });
    this.audit.append('push', [], { remote: redactUrl(url), ...(personal.length ? { personalData: personal.map((p) => `${p.file}:${p.column} (${p.kind})`) } : {}) });
  }

  async fetch(url: string, headers?: Record<string, string>): Promise<string[]> {
    const ids = await this.snapshots.fetch(url, { headers });
    this.audit.append('fetch', ids, { remote: redactUrl(url), snapshots: ids.length });
    return ids;
  }

  /**
   * Registers a file or folder as the next version of a model, linked to a run and its metrics;
   * without `runId`, a file inside a run's artifacts belongs to that run.
   */
  async registerModel(model: string, file: string, runId?: string, details: VersionDetails = {}): Promise<ModelVersion> {
    runId ??= this.artifactRun(path.resolve(this.layout.root, file));
    let metrics: Record<string, number | string> = {};
    if (runId) {
      this.tracking.refresh([runId]);
      const run = this.tracking.getRun(runId);
      if (!run) throw new Error(`No run has the id "${runId}".`);
      metrics = Object.fromEntries(run.metrics.map((m) => [m.key, encodeMetricValue(m.latest)]));
    }
    return this.registry.register({ model, path: file, runId, metrics, ...details });
  }

  /** The run whose artifacts (`runs/<id>/artifacts/`) hold `abs`, if any. */
  private artifactRun(abs: string): string | undefined {
    const [id, folder] = path.relative(this.layout.runsDir, abs).split(path.sep);
    return /^[0-9a-f]{32}$/.test(id) && folder === 'artifacts' ? id : undefined;
  }

  /** Registers an artifact a run logged (`runs/<id>/artifacts/<artifact>`). */
  registerArtifact(model: string, runId: string, artifact: string, details: VersionDetails = {}): Promise<ModelVersion> {
    const file = path.join(this.layout.artifactsDir(runId), artifact);
    return this.registerModel(model, file, runId, details);
  }

  /**
   * Removes a run here (its folder: log and artifacts; its rows), audited. A job folder it left on a
   * target is noted first, so that the target's clean-up still knows it as this workspace's.
   */
  deleteRun(runId: string): void {
    const run = this.tracking.getRun(runId);
    if (!run) throw new Error(`No run has the id "${runId}".`);
    noteDeletedJob(this.layout, runId);
    this.tracking.deleteRun(runId);
    this.audit.append('delete', [runId], { run: run.name, experiment: run.experiment });
  }

  /** Snapshots the `data:` paths of mlops.yaml; unchanged data costs only the stat walk. */
  async snapshotInputs(): Promise<RunInput[]> {
    const { data } = readProjectConfig(this.layout.root);
    if (!data.length) return [];
    const info = await this.snapshot(data, { message: `Data for a run: ${data.join(', ')}`, reuseUnchanged: true });
    return [{ snapshot: info.id, paths: info.paths }];
  }

  /** Starts a tracked run whose inputs are snapshotted first. */
  async launch(options: Omit<LaunchOptions, 'layout'>): Promise<TrackedProcess> {
    const inputs = options.inputs ?? (await this.snapshotInputs());
    return launchTrackedRun({ ...options, inputs, layout: this.layout });
  }

  /** Starts a tracked run on a target, its inputs snapshotted first (their files go with the code). */
  async launchRemote(options: Omit<RemoteRunOptions, 'layout'>): Promise<RemoteRun> {
    const inputs = options.inputs ?? (await this.snapshotInputs());
    return startRemoteRun({ ...options, inputs, layout: this.layout });
  }
}
