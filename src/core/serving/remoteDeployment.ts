import * as fs from 'node:fs';
import * as path from 'node:path';
import { runOnTarget, shQuote, targetFailure, workdirWord } from '../compute/shell';
import { tarStream, type TarEntry } from '../compute/tarStream';
import type { SshTarget } from '../compute/targets';
import { findBundle } from '../tracking/bundledFiles';
import type { RemotePlacement } from './deploymentLog';
import { DEPLOYMENT_FILE, PREDICTIONS_DIR, ROUTES_FILE, type HostStart } from './hostFiles';
import { DeploymentError } from './errors';
import { freePort, PortForward } from './portForward';
import { pullPredictions } from './remotePredictions';
import type { RoutesSpec } from './routes';
import type { ServerConfig } from './server';
import { writeStatus, type DeploymentStatus } from './supervisor';

const MIN_NODE_MAJOR = 20;
/** How often a remote deployment's prediction log is brought home (and once more on stop). */
const PULL_MS = 10_000;

/** The host has no node (or one too old): the deployment cannot run there, but a container can. */
export class NodeMissingError extends DeploymentError {
  constructor(message: string, readonly exportCommands: string[]) {
    super(message);
  }
}

/** What the host said about itself before anything was written there. */
interface HostFacts { node: string; platform: string; arch: string; host: string; base: string; runtime: string; haveRuntime: boolean }

/** The folder of a package this workspace serves with (onnxruntime-common as onnxruntime-node finds it): the host gets the same. */
function ortDir(pkg: 'onnxruntime-node' | 'onnxruntime-common'): string {
  const from = pkg === 'onnxruntime-common' ? { paths: [ortDir('onnxruntime-node')] } : undefined;
  let dir = path.dirname(require.resolve(pkg, from));
  const named = (d: string) => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { name?: string }).name === pkg;
    } catch {
      return false;
    }
  };
  while (!named(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/**
 * Asks the host for its node, platform and whether it has this onnxruntime already, writing
 * nothing. No node, or one older than 20, fails here naming the host and the way out (a container).
 */
async function probeHost(target: SshTarget, deployment: string, model: string): Promise<HostFacts> {
  const version = (JSON.parse(fs.readFileSync(path.join(ortDir('onnxruntime-node'), 'package.json'), 'utf8')) as { version: string }).version;
  const js = 'var fs=require("fs"),path=require("path"),os=require("os");var base=path.resolve(process.argv[1]);'
    + 'var runtime=path.join(base,process.argv[2]+"-"+process.platform+"-"+process.arch);'
    + 'console.log(JSON.stringify({node:process.versions.node,platform:process.platform,arch:process.arch,host:os.hostname(),base:base,runtime:runtime,haveRuntime:fs.existsSync(path.join(runtime,".complete"))}))';
  const script = `command -v node >/dev/null 2>&1 || { echo no-node; exit 0; }\nexec node -e ${shQuote(js)} ${workdirWord(target)} ${shQuote(`onnxruntime-node-${version}`)}`;
  const result = await runOnTarget(target, script);
  if (result.code !== 0) throw targetFailure(target, result, 'Checking for node');
  const exportCommands = [`mlops export docker ${deployment} --model ${model}`, `mlops export k8s ${deployment} --model ${model}`];
  const instead = `or run it in a container instead: ${exportCommands.join(' (Docker), or ')} (Kubernetes).`;
  if (result.stdout.trim() === 'no-node') {
    throw new NodeMissingError(`Target "${target.name}" (${target.host}) has no "node" on the PATH of a non-interactive ssh shell; a remote deployment runs its server with Node.js ${MIN_NODE_MAJOR} or later there. Install Node.js ${MIN_NODE_MAJOR}+ on the host (or put it on that PATH), ${instead}`, exportCommands);
  }
  const facts = JSON.parse(result.stdout.trim().split('\n').pop()!) as HostFacts;
  if (Number(facts.node.split('.')[0]) < MIN_NODE_MAJOR) {
    throw new NodeMissingError(`Target "${target.name}" (${target.host}) has Node.js ${facts.node}; a remote deployment needs ${MIN_NODE_MAJOR} or later there. Upgrade node on the host, ${instead}`, exportCommands);
  }
  return facts;
}

/** The files of a package under `name/` in the archive; `keep` picks them by their path in the package. */
function packageEntries(pkg: 'onnxruntime-node' | 'onnxruntime-common', into: string, keep: (rel: string) => boolean): TarEntry[] {
  const dir = ortDir(pkg);
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((rel) => rel.split(path.sep).join('/'))
    .filter((rel) => keep(rel) && fs.statSync(path.join(dir, rel)).isFile())
    .map((rel) => ({ name: `${into}/node_modules/${pkg}/${rel}`, file: path.join(dir, rel) }));
}

/** onnxruntime for the host: the JavaScript and only the native binding of the host's platform; `.complete` last, so a cut transfer is sent again. */
function runtimeEntries(facts: HostFacts, target: SshTarget): TarEntry[] {
  const into = path.posix.basename(facts.runtime);
  const binding = `bin/napi-v6/${facts.platform}/${facts.arch}/`;
  const node = packageEntries('onnxruntime-node', into, (rel) => rel === 'package.json' || (rel.startsWith('dist/') && rel.endsWith('.js')) || rel.startsWith(binding));
  if (!node.some((e) => e.name.includes(binding))) {
    // A packaged extension carries its own platform's binding and Linux x64's (scripts/package.mjs); a checkout carries them all.
    const here = path.join(ortDir('onnxruntime-node'), 'bin', 'napi-v6');
    const carried = fs.readdirSync(here).flatMap((p) => fs.readdirSync(path.join(here, p)).map((a) => `${p}/${a}`));
    throw new DeploymentError(`onnxruntime-node here has no native binding for ${facts.platform}/${facts.arch}, the platform of target "${target.name}" (${facts.host}); it has ${carried.join(', ')}. Deploy to a host of one of those, or export a container (mlops export docker).`);
  }
  // dist/cjs/package.json says "commonjs": without it node reads the .js files as ES modules.
  const common = packageEntries('onnxruntime-common', into, (rel) => rel === 'package.json' || (rel.startsWith('dist/cjs/') && /\.js$|package\.json$/.test(rel)));
  return [...node, ...common, { name: `${into}/.complete`, text: '' }];
}

/** The config as the host runs it: models under models/, the prediction log under predictions/, all relative to its folder. */
function hostRoutes(routes: RoutesSpec): { routes: RoutesSpec; models: TarEntry[] } {
  const models = new Map<string, TarEntry>();
  const there = (file: string) => {
    const name = `models/${path.basename(file)}`;
    models.set(name, { name, file });
    return name;
  };
  return {
    routes: {
      ...routes,
      variants: routes.variants.map((v) => ({ ...v, file: there(v.file) })),
      ...(routes.shadow ? { shadow: { ...routes.shadow, file: there(routes.shadow.file) } } : {}),
    },
    models: [...models.values()],
  };
}

/** Ends a remote deployment's processes on its host (quiet when they are gone already). */
export async function stopOnHost(target: SshTarget, dir: string): Promise<void> {
  const result = await runOnTarget(target, `cd ${shQuote(dir)} 2>/dev/null || exit 0\nexec node deploymentHost.js stop`);
  if (result.code !== 0) throw targetFailure(target, result, 'Stopping the deployment');
}

/**
 * Puts new routes (a switch, split or shadow) on the host: their model files under models/ and
 * routes.json, which a restart of the server there serves too. Returns the routes as the host names the files.
 */
export async function shipRoutes(target: SshTarget, dir: string, routes: RoutesSpec): Promise<RoutesSpec> {
  const mapped = hostRoutes(routes);
  const result = await runOnTarget(target, `cd ${shQuote(dir)} && exec tar -xf -`, tarStream([...mapped.models, { name: ROUTES_FILE, text: JSON.stringify(mapped.routes) }]));
  if (result.code !== 0) throw targetFailure(target, result, 'Shipping the model');
  return mapped.routes;
}

/**
 * A deployment whose server runs on an ssh host: it plays the local Supervisor's part. Start
 * checks the host's node, ships the server bundle, the host's onnxruntime (once per host and
 * version) and the models as one tar stream, starts the server there detached under the same
 * Supervisor (which restarts it on a crash), and forwards 127.0.0.1:<port> here to it; the
 * forward comes back by itself when the connection drops. The prediction log is brought home
 * on a timer and on stop. status.json here says what the Deployments view shows.
 */
export class RemoteServer {
  private status: DeploymentStatus;
  private forward: PortForward | undefined;
  private pullTimer: NodeJS.Timeout | undefined;
  private pulling: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly target: SshTarget,
    private readonly names: { deployment: string; model: string },
    private readonly makeConfig: (port: number) => Promise<ServerConfig>,
    private readonly onChange: (s: DeploymentStatus) => void = () => {},
  ) {
    this.status = { state: 'starting', supervisor: process.pid, restarts: 0, since: Date.now(), adminToken: '' };
  }

  /** Starts it on the host and forwards `localPort` (0: a free one) here; resolves once it answers through the forward. */
  async start(localPort: number): Promise<DeploymentStatus> {
    const facts = await probeHost(this.target, this.names.deployment, this.names.model);
    fs.mkdirSync(this.dir, { recursive: true });
    const config = await this.makeConfig(0);
    const { routes, models } = hostRoutes(config.routes);
    const folder = `deployment-${this.names.deployment}`;
    const port = localPort || (await freePort());
    // Requests arrive through the forward naming this side's port; the server serves only the Host names it knows.
    const allowedHosts = ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port}`);
    const hostConfig: ServerConfig = { ...config, host: '127.0.0.1', port: 0, allowedHosts, routes, predictionLog: { ...config.predictionLog, dir: PREDICTIONS_DIR } };
    const entries: TarEntry[] = [
      ...(facts.haveRuntime ? [] : runtimeEntries(facts, this.target)),
      ...['modelServer.js', 'deploymentHost.js'].map((b) => ({ name: `${folder}/${b}`, file: findBundle(b) })),
      ...models.map((m) => ({ ...m, name: `${folder}/${m.name}` })),
      { name: `${folder}/${DEPLOYMENT_FILE}`, text: JSON.stringify(hostConfig) },
    ];
    const dir = path.posix.join(facts.base, folder);
    const script = `set -e\nmkdir -p ${shQuote(facts.base)}\ncd ${shQuote(facts.base)}\ntar -xf -\ncd ${shQuote(folder)}\nexec node deploymentHost.js start ${shQuote(facts.runtime)}`;
    const result = await runOnTarget(this.target, script, tarStream(entries));
    let started: HostStart | undefined;
    try {
      started = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as HostStart;
    } catch {
      throw targetFailure(this.target, result, 'Starting the deployment');
    }
    if (!started.ok || !started.port || !started.group || !started.pid) {
      throw new DeploymentError(`Deployment "${this.names.deployment}" could not start on target "${this.target.name}" (${facts.host}): ${started.error ?? 'no reason given'}. Its logs are in ${dir} there.`);
    }
    const placement: RemotePlacement = { target: this.target.name, host: facts.host, dir, group: started.group, pid: started.pid, port: started.port };
    this.status = { ...this.status, adminToken: config.adminToken, token: config.token, remote: placement };
    const url = `http://127.0.0.1:${port}`;
    const forward = new PortForward(this.target, port, started.port, (e) => {
      if (e.up) this.set({ state: 'running', forward: forward.pid, lastError: undefined });
      else this.set({ state: 'restarting', forward: undefined, restarts: this.status.restarts + 1, lastError: `the ssh forward to ${this.target.name} dropped (${e.reason}); reconnecting in ${e.retryMs} ms` });
    }, () => fetch(`${url}/v2/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false));
    this.forward = forward;
    try {
      await forward.start();
    } catch (err) {
      await forward.stop();
      await stopOnHost(this.target, dir).catch(() => {});
      throw new DeploymentError(`Deployment "${this.names.deployment}" started on target "${this.target.name}" but cannot be forwarded to 127.0.0.1:${port} here: ${(err as Error).message}`);
    }
    this.set({ state: 'running', url, port, forward: forward.pid });
    this.pullTimer = setInterval(() => void this.pull().catch(() => {}), PULL_MS);
    this.pullTimer.unref();
    return this.status;
  }

  /** Brings the prediction log home now (what the timer does). */
  pull(): Promise<number> {
    const placement = this.status.remote;
    if (!placement) return Promise.resolve(0);
    const next = this.pulling.catch(() => {}).then(() => pullPredictions(this.target, placement.dir, this.dir));
    this.pulling = next;
    return next;
  }

  /** Brings the last predictions home, ends the server on the host and the forward here. */
  async stop(): Promise<void> {
    clearInterval(this.pullTimer);
    const placement = this.status.remote;
    try {
      if (placement) {
        await this.pull().catch(() => {});
        await stopOnHost(this.target, placement.dir);
      }
    } finally {
      await this.forward?.stop();
      this.set({ state: 'stopped', forward: undefined });
    }
  }

  private set(patch: Partial<DeploymentStatus>): void {
    this.status = { ...this.status, ...patch, since: Date.now() };
    writeStatus(this.dir, this.status);
    this.onChange(this.status);
  }
}
