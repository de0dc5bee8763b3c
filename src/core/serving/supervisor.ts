import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicFile';
import type { RemotePlacement } from './deploymentLog';
import type { ServerConfig } from './server';

/** The server process's entry, beside the bundle that starts it (esbuild.mjs), or beside this file when run from out/. */
export const SERVER_SCRIPT = path.join(__dirname, 'modelServer.js');

/**
 * Node options of a deployment's server process (also in an exported image's CMD): the young
 * generation capped at 4 MB a half. Under load V8 grows it to 16 MB, and the buffers its dead
 * objects hold wait longer for a collection; the cap keeps about 20 MB of resident memory off
 * a busy server for a collection every few hundred requests (bench/serving.mjs, section 4).
 */
export const SERVER_NODE_OPTIONS = ['--max-semi-space-size=4'];

/** The command that runs a deployment's server process: this runtime, the server script and its config.json. */
export function serverCommand(script: string, configFile: string): [string, string[]] {
  return [process.execPath, [...SERVER_NODE_OPTIONS, script, configFile]];
}

export type DeploymentState = 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';

/** `.mlops/serving/<deployment>/status.json`: what the supervisor sees now (mode 600: it holds the admin token). */
export interface DeploymentStatus {
  state: DeploymentState;
  url?: string;
  port?: number;
  /** The server process. */
  pid?: number;
  /** The process supervising it (the CLI, a detached `mlops serve`, or the editor). */
  supervisor: number;
  restarts: number;
  /** Why the server last stopped or failed to start. */
  lastError?: string;
  since: number;
  adminToken: string;
  token?: string;
  /** A remote deployment: where its server runs (then `url` is the forward here, `pid` absent, `forward` the ssh process carrying it). */
  remote?: RemotePlacement;
  forward?: number;
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];
/** A server that stayed up this long has its backoff reset. */
const STABLE_MS = 60_000;
/** Restarts in a row that never reached ready before giving up. */
const MAX_FAILED_STARTS = 5;

/**
 * Starts one deployment's server process and keeps it running: a crash restarts it after a
 * growing delay (the reason lands in status.json and the log); a server that cannot start
 * at all gives up after a few tries. The server stops when its supervisor does.
 */
export class Supervisor {
  private child: ChildProcess | undefined;
  private status: DeploymentStatus;
  private stopped = false;
  private failedStarts = 0;
  private backoff = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readyWaiters: { resolve(s: DeploymentStatus): void; reject(e: Error): void }[] = [];

  private port = 0;

  /** `makeConfig` is asked before every start: a restart serves what the deployment log says now. */
  constructor(
    private readonly dir: string,
    private readonly makeConfig: (port: number) => Promise<ServerConfig>,
    private readonly onChange: (s: DeploymentStatus) => void = () => {},
  ) {
    this.status = { state: 'starting', supervisor: process.pid, restarts: 0, since: Date.now(), adminToken: '' };
  }

  get logFile(): string {
    return path.join(this.dir, 'server.log');
  }

  /** Starts the server; resolves when it serves, rejects with its reason when it cannot start. */
  start(port: number): Promise<DeploymentStatus> {
    fs.mkdirSync(this.dir, { recursive: true });
    this.port = port;
    const ready = new Promise<DeploymentStatus>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    void this.spawn();
    return ready;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    }
    this.set({ state: 'stopped', pid: undefined });
  }

  private async spawn(): Promise<void> {
    let config: ServerConfig;
    try {
      config = await this.makeConfig(this.port);
    } catch (err) {
      this.set({ state: 'failed', lastError: (err as Error).message, pid: undefined });
      for (const w of this.readyWaiters.splice(0)) w.reject(err as Error);
      return;
    }
    if (this.stopped) return;
    const configFile = path.join(this.dir, 'config.json');
    writeFileAtomic(configFile, JSON.stringify(config, null, 2));
    fs.chmodSync(configFile, 0o600);
    this.status = { ...this.status, adminToken: config.adminToken, token: config.token };
    const out = fs.openSync(this.logFile, 'a');
    const started = Date.now();
    const [command, args] = serverCommand(SERVER_SCRIPT, configFile);
    const child = spawn(command, args, { stdio: ['ignore', out, out, 'ipc'] });
    fs.closeSync(out);
    this.child = child;
    let failure: string | undefined;
    child.on('message', (m: { type: string; port?: number; url?: string; message?: string }) => {
      if (m.type === 'ready') {
        this.failedStarts = 0;
        // Restarts come back on the same port, so clients and scrapers keep working.
        if (m.port) this.port = m.port;
        this.set({ state: 'running', url: m.url, port: m.port, pid: child.pid, lastError: undefined });
        for (const w of this.readyWaiters.splice(0)) w.resolve(this.status);
      } else if (m.type === 'failed') failure = m.message;
    });
    child.on('error', (err) => { failure = err.message; });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopped) return;
      const reason = failure ?? `the server exited (${signal ?? `code ${code}`}); see ${this.logFile}`;
      const neverReady = this.status.state !== 'running';
      if (neverReady) this.failedStarts++;
      if (Date.now() - started > STABLE_MS) this.backoff = 0;
      if (this.readyWaiters.length && failure) {
        // A first start that fails on its own model (bad file, port taken) is the caller's error, not a crash.
        this.set({ state: 'failed', lastError: reason, pid: undefined });
        for (const w of this.readyWaiters.splice(0)) w.reject(new Error(reason));
        return;
      }
      if (this.failedStarts >= MAX_FAILED_STARTS) {
        this.set({ state: 'failed', lastError: `${reason} (gave up after ${this.failedStarts} failed starts)`, pid: undefined });
        for (const w of this.readyWaiters.splice(0)) w.reject(new Error(reason));
        return;
      }
      const delay = BACKOFF_MS[Math.min(this.backoff++, BACKOFF_MS.length - 1)];
      this.set({ state: 'restarting', lastError: `${reason}; restarting in ${delay} ms`, pid: undefined, restarts: this.status.restarts + 1 });
      this.restartTimer = setTimeout(() => void this.spawn(), delay);
    });
  }

  private set(patch: Partial<DeploymentStatus>): void {
    this.status = { ...this.status, ...patch, since: Date.now() };
    writeStatus(this.dir, this.status);
    this.onChange(this.status);
  }
}

/** Writes status.json (mode 600: it holds the admin token). */
export function writeStatus(dir: string, status: DeploymentStatus): void {
  const file = path.join(dir, 'status.json');
  writeFileAtomic(file, JSON.stringify(status, null, 2));
  fs.chmodSync(file, 0o600);
}

/** A deployment's status as its supervisor last wrote it, or undefined. */
export function readStatus(dir: string): DeploymentStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as DeploymentStatus;
  } catch {
    return undefined;
  }
}
