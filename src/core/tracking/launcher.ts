import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { finished as streamFinished } from 'node:stream/promises';
import { isDiskFull } from '../workspace/diskFull';
import { fileDigest } from '../workspace/digest';
import type { MlopsLayout } from '../workspace/layout';
import { captureEnvironment, isPythonCommand } from './capture';
import { EVENT_SCHEMA_VERSION, type NewRunEvent, type RunSource, type RunStatus } from './events';
import { appendEvents, newRunId } from './eventWriter';
import { findCli, pythonPathWithClient } from './bundledFiles';
import { gpuSampleSeconds, startGpuSampler } from './gpuSampler';
import { nextRunName, runNameBase } from './runNaming';
import type { RunInput } from './store';

export interface LaunchOptions {
  layout: MlopsLayout;
  command: string;
  args: string[];
  cwd: string;
  /** The user's name for the run, kept as given; without one the run is named `<nameBase>-<n>`. */
  name?: string;
  /** What a default name starts with (default: the script's name, `train` for `python train.py`). */
  nameBase?: string;
  experiment?: string;
  source: RunSource;
  /** Extra environment for the child (on top of this process's). */
  env?: NodeJS.ProcessEnv;
  capturePackages?: boolean;
  /** Data snapshots the run reads (taken by the caller just before launching). */
  inputs?: RunInput[];
  /** Tags to set at start, e.g. `reproduces`. */
  tags?: Record<string, string>;
  /** Params to record at start (a sweep's trial: the values it was given). */
  params?: Record<string, string>;
  /** Called with the child's stdout and stderr as they arrive. */
  onOutput?: (text: string) => void;
  /** Problems the run goes on despite (a full disk), once each. */
  onWarning?: (message: string) => void;
}

export interface RunOutcome { status: RunStatus; exitCode: number | null; error?: string }

const STOP_GRACE_MS = 3000;
/** How long the end of a run waits for space on a full disk before giving up (the orphan clean-up ends it later). */
const END_RETRY_MS = 60_000;
const END_RETRY_EVERY_MS = 1000;
const OUTPUT_LOG = 'output.log';
const DIFF_FILE = 'git-diff.patch';

/**
 * A command running as a tracked run. The launcher owns the run's start and end
 * events; the Python client inside the child appends params and metrics.
 */
export class TrackedProcess {
  readonly runId: string;
  readonly runDir: string;
  readonly finished: Promise<RunOutcome>;
  private child: ChildProcess | undefined;
  private stopping = false;

  constructor(private readonly options: LaunchOptions) {
    const { layout } = options;
    this.runId = newRunId();
    this.runDir = layout.runDir(this.runId);
    this.finished = this.start();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the whole process tree (its process group): SIGTERM, then SIGKILL after a grace period. */
  async stop(): Promise<RunOutcome> {
    this.stopping = true;
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null) {
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
      await this.finished.finally(() => clearTimeout(timer));
    }
    return this.finished;
  }

  /**
   * On a full disk the child is kept running: its work is the user's, the Python client holds
   * the events it cannot write and writes them once space is freed, and its output still
   * reaches onOutput; only output.log stops. The run's end waits for space (END_RETRY_MS).
   */
  private async start(): Promise<RunOutcome> {
    const o = this.options;
    const events = o.layout.eventsFile(this.runId);
    const artifacts = o.layout.artifactsDir(this.runId);
    try {
      fs.mkdirSync(artifacts, { recursive: true });
      const name = o.name || nextRunName(o.layout.runsDir, o.nameBase || runNameBase(o.command, o.args));
      appendEvents(events, [{
        type: 'run_start', schema: EVENT_SCHEMA_VERSION, run_id: this.runId, name,
        experiment: o.experiment || 'Default', source: o.source,
      },
      ...(o.inputs ?? []).map((i) => ({ type: 'input' as const, snapshot: i.snapshot, paths: i.paths })),
      ...Object.entries(o.tags ?? {}).map(([key, value]) => ({ type: 'tag' as const, key, value })),
      ...Object.entries(o.params ?? {}).map(([key, value]) => ({ type: 'param' as const, key, value })),
      ]);
    } catch (err) {
      // Nothing started: no run is left behind.
      fs.rmSync(this.runDir, { recursive: true, force: true });
      throw isDiskFull(err) ? new Error(`Disk full: cannot start a tracked run in ${o.layout.dir} (${(err as Error).message}). Free some space and run it again.`) : err;
    }

    const warned = new Set<string>();
    const warn = (message: string): void => {
      if (warned.has(message)) return;
      warned.add(message);
      o.onWarning?.(message);
    };
    const logFile = path.join(artifacts, OUTPUT_LOG);
    const log = fs.createWriteStream(logFile);
    let logFailed = false;
    log.on('error', (err: NodeJS.ErrnoException) => {
      logFailed = true;
      warn(isDiskFull(err)
        ? `Disk full: ${logFile} stops here; the run goes on (its output still shows here, the client keeps its events until space is freed).`
        : `Cannot write ${logFile} (${err.message}); the run goes on without it.`);
    });
    const record = (text: string | Buffer): void => {
      if (!logFailed) log.write(text);
    };
    let spawnError: string | undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      const child = spawn(o.command, o.args, {
        cwd: o.cwd,
        env: this.childEnv(),
        detached: true, // its own process group, so stop() ends the whole tree
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      const forward = (chunk: Buffer): void => {
        record(chunk);
        o.onOutput?.(chunk.toString('utf8'));
      };
      child.stdout?.on('data', forward);
      child.stderr?.on('data', forward);
      child.on('error', (err: NodeJS.ErrnoException) => {
        spawnError = err.code === 'ENOENT'
          ? `Cannot start "${o.command}": it was not found. Check the interpreter setting (mlops.pythonPath) or your PATH.`
          : `Cannot start "${o.command}": ${err.message}`;
        record(spawnError + '\n');
        o.onOutput?.(spawnError + '\n');
        resolve({ code: null, signal: null });
      });
      child.on('close', (code, signal) => resolve({ code, signal }));
    });

    // GPU usage while the run is active, as system metrics beside the script's own.
    const sampler = startGpuSampler(events, this.child?.pid ? gpuSampleSeconds({ ...process.env, ...o.env }) : 0);

    const captured = captureEnvironment({
      argv: [o.command, ...o.args],
      cwd: o.cwd,
      pid: this.child?.pid,
      python: isPythonCommand(o.command) ? o.command : undefined,
      packages: o.capturePackages ?? true,
      diffFile: path.join(artifacts, DIFF_FILE),
    }).then((capture) => appendEvents(events, [{ type: 'capture', capture }])).catch((err: unknown) => {
      // Handled at once: the capture may fail (a full disk) long before the script ends.
      if (isDiskFull(err)) warn(`Disk full: the run's environment (interpreter, packages, git state) was not recorded.`);
    });

    const { code, signal } = await exited;
    await sampler.stop();
    await captured;
    log.end();
    await streamFinished(log).catch(() => undefined);

    const status: RunStatus = spawnError ? 'FAILED'
      : this.stopping || signal === 'SIGTERM' || signal === 'SIGKILL' || signal === 'SIGINT' ? 'KILLED'
      : code === 0 ? 'FINISHED' : 'FAILED';
    const exitCode = code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : null);
    const files = [OUTPUT_LOG, DIFF_FILE].filter((f) => fs.existsSync(path.join(artifacts, f)));
    const digests = await Promise.all(files.map((f) => fileDigest(path.join(artifacts, f))));
    const ended = await this.appendEnd(events, [
      ...files.map((f, i) => ({ type: 'artifact' as const, path: f, ...digests[i] })),
      { type: 'run_end', status, exit_code: spawnError ? null : exitCode },
    ], warn);
    const error = spawnError ?? (ended ? undefined
      : `Disk full: the end of run ${this.runId} (${status}) could not be recorded in its log. Once space is freed, the next look at the runs (mlops runs list) marks it KILLED.`);
    return { status, exitCode: spawnError ? null : exitCode, error };
  }

  /** Appends the run's end; on a full disk waits for space (up to END_RETRY_MS). Returns whether it was written. */
  private async appendEnd(file: string, end: NewRunEvent[], warn: (message: string) => void): Promise<boolean> {
    const deadline = Date.now() + END_RETRY_MS;
    const stoppedBefore = this.stopping;
    for (;;) {
      try {
        appendEvents(file, end);
        return true;
      } catch (err) {
        if (!isDiskFull(err) || Date.now() >= deadline || (this.stopping && !stoppedBefore)) {
          if (!isDiskFull(err)) warn(`Cannot record the end of run ${this.runId}: ${(err as Error).message}`);
          return false;
        }
        warn(`Disk full: waiting up to ${END_RETRY_MS / 1000} s for free space to record the end of run ${this.runId} (free some space, or press Ctrl-C to leave it unended).`);
        await new Promise((r) => setTimeout(r, END_RETRY_EVERY_MS));
      }
    }
  }

  private childEnv(): NodeJS.ProcessEnv {
    const o = this.options;
    const pythonPath = pythonPathWithClient(process.env.PYTHONPATH, o.env?.PYTHONPATH);
    return {
      ...process.env,
      ...o.env,
      MLOPS_RUN_ID: this.runId,
      MLOPS_RUN_DIR: this.runDir,
      MLOPS_DIR: o.layout.dir,
      // With the MLflow endpoint in the environment, mlflow.start_run() logs into this same run.
      ...(o.env?.MLFLOW_TRACKING_URI ? { MLFLOW_RUN_ID: this.runId } : {}),
      PYTHONPATH: pythonPath,
      // For the client's log_model, which registers through the CLI. Under desktop
      // VS Code execPath is Electron, which the client runs with ELECTRON_RUN_AS_NODE.
      MLOPS_NODE: process.execPath,
      MLOPS_CLI: cliPathOrEmpty(),
      PYTHONUNBUFFERED: '1', // so output streams live instead of arriving at exit
    };
  }
}

export function launchTrackedRun(options: LaunchOptions): TrackedProcess {
  return new TrackedProcess(options);
}

function cliPathOrEmpty(): string {
  try {
    return findCli();
  } catch {
    return '';
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return os.constants.signals[signal];
}
