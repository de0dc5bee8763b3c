import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileDigest } from '../workspace/digest';
import type { MlopsLayout } from '../workspace/layout';
import { captureEnvironment, isPythonCommand } from './capture';
import { EVENT_SCHEMA_VERSION, type RunSource, type RunStatus } from './events';
import { appendEvents, newRunId } from './eventWriter';
import { findCli, findPythonClient } from './bundledFiles';
import type { RunInput } from './store';

export interface LaunchOptions {
  layout: MlopsLayout;
  command: string;
  args: string[];
  cwd: string;
  name?: string;
  experiment?: string;
  source: RunSource;
  /** Extra environment for the child (on top of this process's). */
  env?: NodeJS.ProcessEnv;
  capturePackages?: boolean;
  /** Data snapshots the run reads (taken by the caller just before launching). */
  inputs?: RunInput[];
  /** Tags to set at start, e.g. `reproduces`. */
  tags?: Record<string, string>;
  /** Called with the child's stdout and stderr as they arrive. */
  onOutput?: (text: string) => void;
}

export interface RunOutcome { status: RunStatus; exitCode: number | null; error?: string }

const STOP_GRACE_MS = 3000;
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

  private async start(): Promise<RunOutcome> {
    const o = this.options;
    const events = o.layout.eventsFile(this.runId);
    const artifacts = o.layout.artifactsDir(this.runId);
    fs.mkdirSync(artifacts, { recursive: true });
    const name = o.name || defaultRunName(o.command, o.args);
    appendEvents(events, [{
      type: 'run_start', schema: EVENT_SCHEMA_VERSION, run_id: this.runId, name,
      experiment: o.experiment || 'Default', source: o.source,
    },
    ...(o.inputs ?? []).map((i) => ({ type: 'input' as const, snapshot: i.snapshot, paths: i.paths })),
    ...Object.entries(o.tags ?? {}).map(([key, value]) => ({ type: 'tag' as const, key, value })),
    ]);

    const log = fs.createWriteStream(path.join(artifacts, OUTPUT_LOG));
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
        log.write(chunk);
        o.onOutput?.(chunk.toString('utf8'));
      };
      child.stdout?.on('data', forward);
      child.stderr?.on('data', forward);
      child.on('error', (err: NodeJS.ErrnoException) => {
        spawnError = err.code === 'ENOENT'
          ? `Cannot start "${o.command}": it was not found. Check the interpreter setting (mlops.pythonPath) or your PATH.`
          : `Cannot start "${o.command}": ${err.message}`;
        log.write(spawnError + '\n');
        o.onOutput?.(spawnError + '\n');
        resolve({ code: null, signal: null });
      });
      child.on('close', (code, signal) => resolve({ code, signal }));
    });

    const captured = captureEnvironment({
      argv: [o.command, ...o.args],
      cwd: o.cwd,
      pid: this.child?.pid,
      python: isPythonCommand(o.command) ? o.command : undefined,
      packages: o.capturePackages ?? true,
      diffFile: path.join(artifacts, DIFF_FILE),
    }).then((capture) => appendEvents(events, [{ type: 'capture', capture }]));

    const { code, signal } = await exited;
    await captured.catch(() => undefined);
    await new Promise<void>((resolve) => log.end(resolve));

    const status: RunStatus = spawnError ? 'FAILED'
      : this.stopping || signal === 'SIGTERM' || signal === 'SIGKILL' || signal === 'SIGINT' ? 'KILLED'
      : code === 0 ? 'FINISHED' : 'FAILED';
    const exitCode = code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : null);
    const files = [OUTPUT_LOG, DIFF_FILE].filter((f) => fs.existsSync(path.join(artifacts, f)));
    const digests = await Promise.all(files.map((f) => fileDigest(path.join(artifacts, f))));
    appendEvents(events, [
      ...files.map((f, i) => ({ type: 'artifact' as const, path: f, ...digests[i] })),
      { type: 'run_end', status, exit_code: spawnError ? null : exitCode },
    ]);
    return { status, exitCode: spawnError ? null : exitCode, error: spawnError };
  }

  private childEnv(): NodeJS.ProcessEnv {
    const o = this.options;
    const client = findPythonClient();
    const pythonPath = [client, process.env.PYTHONPATH, o.env?.PYTHONPATH].filter(Boolean).join(path.delimiter);
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

/** "train" for `python train.py`, else the command's own name. */
export function defaultRunName(command: string, args: string[]): string {
  const script = isPythonCommand(command) ? args.find((a) => !a.startsWith('-')) : undefined;
  return path.basename(script ?? command).replace(/\.py$/, '');
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
