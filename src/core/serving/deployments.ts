import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findTarget, type SshTarget } from '../compute/targets';
import { AuditLog } from '../governance/audit';
import { pathDigest } from '../registry/pathDigest';
import { ModelRegistry, type ModelVersion } from '../registry/registry';
import { SnapshotStore } from '../snapshots';
import { writeFileAtomic } from '../workspace/atomicFile';
import { MlopsLayout } from '../workspace/layout';
import { isProcessAlive } from '../workspace/processes';
import { DeploymentError } from './errors';
import { DeploymentLog, type Deployment, type DeploymentOwner, type DeploymentSpec, type SplitSpec } from './deploymentLog';
import { loadTest, type CapacityReport, type LoadTestOptions } from './loadTest';
import type { TensorMetadata } from './modelSession';
import { DEFAULT_PREDICTION_LOG } from './predictionLog';
import type { RoutesSpec, VariantSpec } from './routes';
import { newAdminToken } from './adminToken';
import type { ServerConfig } from './server';
import { RemoteServer, shipRoutes, stopOnHost } from './remoteDeployment';
import { readStatus, Supervisor, type DeploymentStatus } from './supervisor';

export { DeploymentError };

/**
 * onnxruntime intra-op threads per session. 1 measured best here (bench/serving.mjs): the
 * HTTP and JSON work shares the cores, and a pool per session over-subscribes small hosts.
 */
export const DEFAULT_THREADS = 1;

/** A deployment spec with everything not given at its default. */
export function deploymentSpec(name: string, target: string, patch: Partial<DeploymentSpec> = {}): DeploymentSpec {
  return {
    name, target, host: '127.0.0.1', port: 0, batching: { maxBatch: 1, maxDelayMs: 0 }, sampleRate: 1, processing: {},
    threads: DEFAULT_THREADS, maxBodyBytes: 32 * 1024 * 1024, token: false, ...patch,
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** How often a supervising process checks whether an alias it follows has moved. */
const FOLLOW_MS = 2000;

/** A deployment and what its supervisor last reported. */
export interface DeploymentView {
  deployment: Deployment;
  status?: DeploymentStatus;
  /** Whether a supervisor is alive and its server answering. */
  live: boolean;
}

/** The registered model a deployment's target names (`model`, `model:3`, `model@champion`); undefined for an .onnx file. */
export function servedModel(target: string): string | undefined {
  return target.endsWith('.onnx') ? undefined : target.split(/[:@]/)[0];
}

/** The state a user sees: running, restarting, down (should run but does not), stopped. */
export function deploymentState(v: DeploymentView): 'running' | 'restarting' | 'down' | 'stopped' {
  if (v.live) return 'running';
  if (v.deployment.state === 'stopped') return 'stopped';
  return v.status?.state === 'restarting' ? 'restarting' : 'down';
}

/** What resume() did with a deployment that should be running. */
export interface ResumedDeployment {
  name: string;
  /** restarted here · attached (another live process supervises it) · left (another owner's, down) · failed (with the reason). */
  action: 'restarted' | 'attached' | 'left' | 'failed';
  url?: string;
  error?: string;
}

/** What a deployment serves, in words: "cancer:1", or "cancer:1 50% · cancer:2 50%" under a split. */
export function servingText(d: Deployment): string {
  return d.split ? `${d.target} ${Math.round((1 - d.split.weight) * 100)}% · ${d.split.target} ${Math.round(d.split.weight * 100)}%` : d.target;
}

/** A deployment supervised by this process; stop() stops it here without recording a stop. */
export interface RunningDeployment {
  name: string;
  status: DeploymentStatus;
  stop(): Promise<void>;
}

/**
 * Deployments of one workspace: deploy a model version (or an .onnx file) as its own server
 * process, switch it blue/green, split traffic A/B, mirror it to a shadow, stop it. Every
 * change goes to `.mlops/deployments.jsonl` and the audit trail; a restart rebuilds the
 * server from that log.
 */
export class Deployments {
  readonly log: DeploymentLog;
  private readonly local = new Map<string, { supervisor: Supervisor | RemoteServer; follow: NodeJS.Timeout }>();

  constructor(
    readonly layout: MlopsLayout,
    private readonly registry: ModelRegistry,
    private readonly snapshots: SnapshotStore,
    private readonly audit: AuditLog,
  ) {
    this.log = new DeploymentLog(layout);
  }

  /** Deployments without the tracking index: a long-running server must not hold its lock. */
  static async open(root: string): Promise<Deployments> {
    const layout = new MlopsLayout(root);
    const snapshots = await SnapshotStore.open(layout);
    const audit = new AuditLog(layout);
    return new Deployments(layout, new ModelRegistry(layout, snapshots, audit), snapshots, audit);
  }

  dir(name: string): string {
    return path.join(this.layout.dir, 'serving', name);
  }

  list(): DeploymentView[] {
    return [...this.log.fold().values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name)).map((d) => this.view(d));
  }

  get(name: string): DeploymentView {
    const d = this.log.fold().get(name);
    if (!d) throw new DeploymentError(`No deployment is named "${name}". List them with: mlops deployments list`);
    return this.view(d);
  }

  private view(deployment: Deployment): DeploymentView {
    const status = readStatus(this.dir(deployment.spec.name));
    // A remote server's process is on its host: the forward's owner here being alive stands for it.
    const live = !!status && status.state === 'running' && isProcessAlive(status.supervisor) && (status.remote ? !!status.url : !!status.pid && isProcessAlive(status.pid));
    return { deployment, status, live };
  }

  /**
   * Starts a deployment's server, supervised by this process; resolves once it serves. A model
   * that cannot load fails here with the reason, and nothing is recorded.
   */
  async deploy(spec: DeploymentSpec, options: { token?: string; owner?: DeploymentOwner; onStatus?: (s: DeploymentStatus) => void } = {}): Promise<RunningDeployment> {
    if (!NAME.test(spec.name)) throw new DeploymentError(`"${spec.name}" is not a valid deployment name: letters, digits, ".", "_" or "-" (up to 63), starting with a letter or digit.`);
    const existing = this.log.fold().get(spec.name);
    if (existing && this.view(existing).live) {
      throw new DeploymentError(`Deployment "${spec.name}" is already running at ${this.view(existing).status?.url}; switch it (mlops deployments switch ${spec.name} <model:version>) or stop it first.`);
    }
    const primary = await this.resolve(spec.target, 'primary');
    const deployment: Deployment = { spec, target: spec.target, state: 'running', created: Date.now(), updated: Date.now() };
    const token = options.token ?? (spec.token ? randomBytes(16).toString('hex') : undefined);
    const running = await this.supervise(deployment, spec.port, { token, onStatus: options.onStatus, primary });
    this.log.append({ type: 'deploy', spec, ...(options.owner ? { owner: options.owner } : {}), ...this.log.stamp(spec.name) });
    this.recordPlacement(spec.name, running.status);
    this.audit.append('deploy', [`deployment:${spec.name}`, ...this.subject(primary)], {
      target: spec.target, url: running.status.url, batching: spec.batching, sampleRate: spec.sampleRate, ...this.where(running.status),
    });
    return running;
  }

  /**
   * Starts `deployment`'s server under a supervisor in this process. Restarts rebuild it from
   * the log (what serves after switches and splits), on the port first served.
   */
  private async supervise(deployment: Deployment, port: number, options: { token?: string; onStatus?: (s: DeploymentStatus) => void; primary?: VariantSpec }): Promise<RunningDeployment> {
    const name = deployment.spec.name;
    const tokens = { adminToken: newAdminToken(), token: options.token };
    let started = false;
    const makeConfig = async (p: number): Promise<ServerConfig> => {
      if (started) deployment = this.log.fold().get(name) ?? deployment;
      return this.serverConfig(deployment, p, tokens, started ? undefined : options.primary);
    };
    const remote = deployment.spec.remote;
    const supervisor = remote
      ? new RemoteServer(this.dir(name), this.sshTarget(remote), { deployment: name, model: deployment.target }, makeConfig, options.onStatus)
      : new Supervisor(this.dir(name), makeConfig, options.onStatus);
    const status = await supervisor.start(port);
    started = true;
    const follow = setInterval(() => void this.followAlias(name).catch(() => {}), FOLLOW_MS);
    follow.unref();
    this.local.set(name, { supervisor, follow });
    return { name, status, stop: () => this.stopLocal(name) };
  }

  /**
   * When an owner comes back (the editor reopening): its deployments that should be running
   * but are not start again as the log left them (version, split, shadow), on their last port
   * and with their token when those are still free; ones another live process supervises (a
   * detached `mlops serve`, another window) are attached to as they are. Others' dead
   * deployments are left down: a CLI's ended with its terminal.
   */
  async resume(owner: DeploymentOwner, options: { onStatus?: (name: string) => (s: DeploymentStatus) => void } = {}): Promise<ResumedDeployment[]> {
    const out: ResumedDeployment[] = [];
    for (const deployment of this.log.fold().values()) {
      const name = deployment.spec.name;
      if (deployment.state !== 'running' || this.local.has(name)) continue;
      const { live, status } = this.view(deployment);
      if (live) {
        out.push({ name, action: 'attached', url: status?.url });
        continue;
      }
      if (deployment.owner !== owner) {
        out.push({ name, action: 'left' });
        continue;
      }
      const token = deployment.spec.token ? (status?.token ?? randomBytes(16).toString('hex')) : undefined;
      const start = (port: number) => this.supervise(deployment, port, { token, onStatus: options.onStatus?.(name) });
      try {
        // The last port keeps clients and scrapers working; taken meanwhile, any free one.
        const running = await start(status?.port ?? deployment.spec.port).catch((err) => {
          if (!status?.port || status.port === deployment.spec.port) throw err;
          return start(deployment.spec.port);
        });
        this.recordPlacement(name, running.status);
        this.audit.append('resume', [`deployment:${name}`], { target: deployment.target, url: running.status.url, owner, ...this.where(running.status) });
        out.push({ name, action: 'restarted', url: running.status.url });
      } catch (err) {
        out.push({ name, action: 'failed', error: (err as Error).message });
      }
    }
    return out;
  }

  /**
   * Blue/green: the running server loads and warms `target`, then flips to it; requests in
   * flight finish on the old version. A model that fails to load or run fails the switch
   * with the server's reason and the old version keeps serving.
   */
  async switch(name: string, target: string, reason?: string): Promise<VariantSpec> {
    const { deployment } = this.get(name);
    const primary = await this.resolve(target, 'primary');
    await this.apply(name, { ...deployment, target, split: undefined });
    this.log.append({ type: 'switch', target, ...(reason ? { reason } : {}), ...this.log.stamp(name) });
    this.audit.append('switch', [`deployment:${name}`, ...this.subject(primary)], { from: deployment.target, to: target, ...(reason ? { reason } : {}) });
    return primary;
  }

  /** Sends `weight` (0–1) of traffic to `target`, the rest to the current version; sticky by a header or field when given. null ends the split. */
  async split(name: string, split: SplitSpec | null): Promise<void> {
    const { deployment } = this.get(name);
    if (split && !(split.weight > 0 && split.weight < 1)) throw new DeploymentError(`The split weight must be between 0 and 1 (the share of traffic for ${split.target}), not ${split.weight}.`);
    const b = split ? await this.resolve(split.target, 'b') : undefined;
    await this.apply(name, { ...deployment, split: split ?? undefined });
    this.log.append({ type: 'split', split, ...this.log.stamp(name) });
    this.audit.append('split', [`deployment:${name}`, ...(b ? this.subject(b) : [])], split ? { ...split } : { ended: true });
  }

  /** Mirrors every request to `target` (answers logged, never returned); null ends it. */
  async shadow(name: string, target: string | null): Promise<void> {
    const { deployment } = this.get(name);
    const s = target ? await this.resolve(target, 'shadow') : undefined;
    await this.apply(name, { ...deployment, shadow: target ?? undefined });
    this.log.append({ type: 'shadow', target, ...this.log.stamp(name) });
    this.audit.append('shadow', [`deployment:${name}`, ...(s ? this.subject(s) : [])], target ? { target } : { ended: true });
  }

  /** Stops a deployment, whichever process supervises it, and records it. */
  async stop(name: string): Promise<void> {
    const { deployment, status } = this.get(name);
    if (deployment.state !== 'stopped') {
      this.log.append({ type: 'stop', ...this.log.stamp(name) });
      this.audit.append('stop', [`deployment:${name}`], { target: deployment.target });
    }
    if (this.local.has(name)) return this.stopLocal(name);
    if (status && status.state !== 'stopped' && status.supervisor !== process.pid && isProcessAlive(status.supervisor)) {
      process.kill(status.supervisor, 'SIGTERM');
      const deadline = Date.now() + 15_000;
      while (isProcessAlive(status.supervisor) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
    // A remote server outlives a process here that died without stopping it: end it on its host by where the log placed it.
    const placement = deployment.placement;
    if (placement && !(status && isProcessAlive(status.supervisor) && status.supervisor !== process.pid)) {
      if (status?.forward && isProcessAlive(status.forward)) process.kill(status.forward); // an ssh -L its dead owner left behind
      await stopOnHost(this.sshTarget(placement.target), placement.dir);
    }
  }

  /** The ssh target a remote deployment runs on, from mlops.yaml. */
  private sshTarget(name: string): SshTarget {
    const target = findTarget(this.layout.root, name);
    if (target.type !== 'ssh') {
      throw new DeploymentError(`Target "${name}" is ${target.type}; a deployment runs on this machine or an ssh target. For ${target.type === 'kubernetes' ? 'Kubernetes, use: mlops export k8s <deployment>' : 'it, pick an ssh target or export a container: mlops export docker <deployment>'}.`);
    }
    return target;
  }

  /** Records where a remote deployment's server now runs (what stopping it needs when this process is gone). */
  private recordPlacement(name: string, status: DeploymentStatus): void {
    if (status.remote) this.log.append({ type: 'placed', placement: status.remote, ...this.log.stamp(name) });
  }

  /** For the audit trail: the target and host a remote deployment runs on. */
  private where(status: DeploymentStatus): Record<string, string> {
    return status.remote ? { remote: status.remote.target, host: status.remote.host } : {};
  }

  /**
   * Capacity and cost estimate: a bounded loopback load at increasing rates against the running
   * deployment; the report is saved beside it (capacity.json) and audited.
   */
  async loadTest(name: string, options: Omit<LoadTestOptions, 'url' | 'token' | 'pid'> = {}): Promise<CapacityReport> {
    const { status, live } = this.get(name);
    if (!live || !status?.url) throw new DeploymentError(`Deployment "${name}" is not running; start it (mlops serve … --name ${name}) before a load test.`);
    const res = await fetch(`${status.url}/v2/models/${encodeURIComponent(name)}`, { headers: status.token ? { Authorization: `Bearer ${status.token}` } : {} });
    const meta = (await res.json()) as { name: string; inputs: TensorMetadata[] };
    const served = (await this.adminRoutes(status)).variants.map(({ model, version, variant, registered }) => ({ model, version, variant, ...(registered ? { registered } : {}) }));
    const report = { deployment: name, served, ...(await loadTest({ ...options, url: status.url, token: status.token, pid: status.pid }, meta.name, meta.inputs)) };
    writeFileAtomic(path.join(this.dir(name), 'capacity.json'), JSON.stringify(report, null, 2));
    this.audit.append('loadtest', [`deployment:${name}`], { maxRps: Math.round(report.maxRps), p99Ms: report.p99Ms, p99TargetMs: report.p99TargetMs, rpsPerCore: report.rpsPerCore });
    return report;
  }

  /** The last load test's report, if any. */
  capacity(name: string): CapacityReport | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(name), 'capacity.json'), 'utf8')) as CapacityReport;
    } catch {
      return undefined;
    }
  }

  /** Stops every deployment this process supervises (the editor closing, the CLI exiting). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.local.keys()].map((n) => this.stopLocal(n)));
  }

  private async stopLocal(name: string): Promise<void> {
    const mine = this.local.get(name);
    if (!mine) return;
    this.local.delete(name);
    clearInterval(mine.follow);
    await mine.supervisor.stop();
  }

  /** When the deployment follows an alias that moved, switches to where it points now. */
  private async followAlias(name: string): Promise<void> {
    const { deployment, status, live } = this.get(name);
    if (!live || !status?.url || !deployment.target.includes('@')) return;
    const wanted = await this.resolve(deployment.target, 'primary');
    const serving = await this.adminRoutes(status);
    if (serving.variants[0] && serving.variants[0].version !== wanted.version && !deployment.split) await this.switch(name, deployment.target, 'alias moved');
  }

  /** Puts the routes of `next` on the running server (if it runs): what a switch, split or shadow changes. */
  private async apply(name: string, next: Deployment): Promise<void> {
    const { status, live } = this.get(name);
    let routes = await this.routesOf(next);
    if (!live || !status?.url) return; // a stopped deployment starts with the new routes
    // A remote server loads what its host has: the models go there first.
    if (status.remote) routes = await shipRoutes(this.sshTarget(status.remote.target), status.remote.dir, routes);
    const res = await fetch(`${status.url}/admin/routes`, {
      method: 'PUT', body: JSON.stringify(routes), headers: { Authorization: `Bearer ${status.adminToken}`, 'Content-Type': 'application/json' },
    });
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    if (!res.ok) throw new DeploymentError(`Deployment "${name}" keeps serving ${this.get(name).deployment.target}: ${body.error ?? `the server answered ${res.status}`}`);
  }

  private async adminRoutes(status: DeploymentStatus): Promise<RoutesSpec> {
    const res = await fetch(`${status.url}/admin/routes`, { headers: { Authorization: `Bearer ${status.adminToken}` } });
    return (await res.json()) as RoutesSpec;
  }

  /** What the deployment serves now, as the server's routes (files resolved); with `model`, what one not made yet would serve. */
  routes(name: string, model?: string): Promise<RoutesSpec> {
    return this.routesOf(model ? { spec: deploymentSpec(name, model), target: model, state: 'stopped', created: 0, updated: 0 } : this.get(name).deployment);
  }

  private async routesOf(d: Deployment, primary?: VariantSpec): Promise<RoutesSpec> {
    const a = primary ?? (await this.resolve(d.target, 'primary'));
    if (!d.split) return { variants: [a], ...(d.shadow ? { shadow: await this.resolve(d.shadow, 'shadow') } : {}) };
    const b = await this.resolve(d.split.target, 'b');
    return {
      variants: [{ ...a, variant: 'a', weight: 1 - d.split.weight }, { ...b, weight: d.split.weight }],
      ...(d.split.stickyKey ? { stickyKey: d.split.stickyKey } : {}),
      ...(d.shadow ? { shadow: await this.resolve(d.shadow, 'shadow') } : {}),
    };
  }

  private async serverConfig(d: Deployment, port: number, tokens: { adminToken: string; token?: string }, primary?: VariantSpec): Promise<ServerConfig> {
    const { spec } = d;
    return {
      deployment: spec.name, host: spec.host, port, ...tokens, maxBodyBytes: spec.maxBodyBytes, threads: spec.threads,
      batching: spec.batching, processing: spec.processing,
      predictionLog: { ...DEFAULT_PREDICTION_LOG, sampleRate: spec.sampleRate, dir: this.dir(spec.name) },
      routes: await this.routesOf(d, primary),
    };
  }

  private subject(v: VariantSpec): string[] {
    return v.registered ? [`model:${v.model}/${v.version}`] : [];
  }

  /**
   * What a target names, as a file the server can load: `model:3`, `model@champion`, `model`
   * (its latest version), or a path to an .onnx file. Files are copied into
   * `.mlops/serving/models/`, so later edits of the original never change a deployment.
   */
  async resolve(target: string, variant: string): Promise<VariantSpec> {
    const file = path.resolve(this.layout.root, target);
    if (target.endsWith('.onnx') || (fs.existsSync(file) && fs.statSync(file).isFile())) {
      if (!fs.existsSync(file)) throw new DeploymentError(`No model file ${target}.`);
      const { sha256 } = await pathDigest(file);
      const model = path.basename(file, '.onnx').replace(/[^A-Za-z0-9._-]/g, '-') || 'model';
      const cached = this.cacheFile(`${model}-${sha256.slice(0, 12)}.onnx`, () => fs.readFileSync(file));
      return { variant, model, version: sha256.slice(0, 12), file: await cached, weight: 1 };
    }
    const m = /^([^:@]+)(?:([:@])(.+))?$/.exec(target);
    if (!m) throw new DeploymentError(`"${target}" names no model: use model:version, model@alias, model, or a path to an .onnx file.`);
    const [, model, sep, ref] = m;
    if (sep === ':' && !/^\d+$/.test(ref)) throw new DeploymentError(`"${target}": after ":" comes a version number; use ${model}@${ref} for an alias.`);
    const v: ModelVersion = ref ? this.registry.version(model, ref) : this.registry.model(model).versions.reduce((a, b) => (b.version > a.version ? b : a));
    if (v.format.framework !== 'onnx' || v.path.endsWith('/')) {
      throw new DeploymentError(`${model} version ${v.version} is ${v.format.framework} (${v.path}); only ONNX models can be deployed. Export it to ONNX and register that file.`);
    }
    const cached = await this.cacheFile(`${model}-${v.version}-${v.sha256.slice(0, 12)}.onnx`, async () => {
      try {
        return await this.snapshots.readFile(v.snapshot, v.path);
      } catch (err) {
        throw new DeploymentError(`${model} version ${v.version} is a folder or missing from its snapshot (${(err as Error).message}); register the .onnx file itself.`);
      }
    });
    return { variant, model, version: String(v.version), file: cached, weight: 1, registered: true };
  }

  private async cacheFile(name: string, read: () => Uint8Array | Promise<Uint8Array>): Promise<string> {
    const file = path.join(this.layout.dir, 'serving', 'models', name);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, await read());
    }
    return file;
  }
}
