import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { captureGit } from '../tracking/capture';
import { EVENT_SCHEMA_VERSION, type NewRunEvent, type RunSource, type RunStatus } from '../tracking/events';
import { appendEvents, eventLine, newRunId } from '../tracking/eventWriter';
import type { RunOutcome } from '../tracking/launcher';
import { nextRunName, runNameBase } from '../tracking/runNaming';
import { appendRecord } from '../workspace/appendLog';
import { writeFileAtomic } from '../workspace/atomicFile';
import { fileDigest } from '../workspace/digest';
import { GPU_SAMPLE_ENV, gpuSampleSeconds } from '../tracking/gpuSampler';
import type { MlopsLayout } from '../workspace/layout';
import type { RunInput } from '../tracking/store';
import { jobFiles, runnerFiles } from './jobFiles';
import {
  cancelKubernetesJob, followKubernetesJob, kubernetesArtifacts, kubernetesJobEnded, releaseKubernetesJob, submitKubernetesJob,
  type JobExit, type KubernetesJobRef,
} from './kubernetesRun';
import { runOnTarget, shellOf, shQuote, spawnOnTarget, targetFailure, workdirWord } from './shell';
import type { TarEntry } from './tarStream';
import { shipManifest } from './shipManifest';
import { MATERIALIZE, shipJob, type Shipped } from './shipJob';
import { LineFeed } from './lineFeed';
import { untar, type Untar } from './untar';
import { K8S_JOB_DIR } from './kubernetesJob';
import { findTarget, type KubernetesTarget, type SlurmTarget, type SshTarget } from './targets';
import { claimFollower, releaseFollower, resumePoint, writeOffsets, WrittenLines, type Offsets } from './followState';

/** A target whose runs go through a job folder on another host or a scheduler. */
export type JobTarget = SshTarget | SlurmTarget | KubernetesTarget;

export interface RemoteRunOptions {
  layout: MlopsLayout;
  target: JobTarget;
  command: string;
  args: string[];
  name?: string;
  experiment?: string;
  /** What started the run (default: a command). */
  source?: RunSource;
  /** Workspace paths shipped besides what git lists, even where git ignores them (a pipeline stage's deps). */
  files?: string[];
  /** Tags and params recorded at start (a sweep's trial: its sweep, its number, the values it was given). */
  tags?: Record<string, string>;
  params?: Record<string, string>;
  /** Called with the job's stdout and stderr as they stream back (and why a start is waiting). */
  onOutput?: (text: string) => void;
  /** Data snapshots the run reads (taken by the caller just before): their files go with the code to an ssh or Slurm target. */
  inputs?: RunInput[];
}

/**
 * Where a run's job lives on its target: `remote.json` in the local run folder, read by cancel.
 * `pid` is the detached job's process group on an ssh host; `slurmJob` the job id on a Slurm target;
 * `k8sJob` and `pod` the Job and its pod on a Kubernetes target.
 */
export interface RemoteJob {
  target: string; host: string; dir: string; pid?: number; slurmJob?: string; k8sJob?: string; pod?: string;
  /** The run's artifacts as they came home, path → bytes (before anything here used and removed one): what cleaning up the host checks. */
  artifacts?: Record<string, number>;
}

const REMOTE_JOB_FILE = 'remote.json';
const OUTPUT_LOG = 'output.log';
const DIFF_FILE = 'git-diff.patch';
const REATTACH_MS = 1000;

/** sbatch options from the target's settings. */
function sbatchOptions(t: SlurmTarget, runId: string): string[] {
  return [
    `--job-name=mlops-${runId.slice(0, 8)}`, '--chdir="$J"', '--output="$J/slurm.out"',
    ...[['partition', t.partition], ['gpus', t.gpus], ['time', t.time], ['cpus-per-task', t.cpus], ['mem', t.memory]]
      .filter(([, v]) => v !== undefined).map(([k, v]) => `--${k}=${shQuote(String(v))}`),
  ];
}

/**
 * A tracked run whose command runs on a target (ssh host, Slurm, Kubernetes). Nothing but sh, tar and python3 is
 * needed there: the project, the Python client and runner.py go over as one tar stream;
 * the runner detaches the job; its event log and output stream back into an ordinary
 * local run, reattaching when the connection drops.
 */
export class RemoteRun {
  readonly runDir: string;
  readonly finished: Promise<RunOutcome>;
  private readonly events: string;
  private follower: ChildProcess | undefined;
  private detached = false;
  private saveQueued = false;
  /** Whether the connection that saw the job end also brought its artifacts (runner.py launch does). */
  private artifactsHome = false;

  /**
   * `live`: the connection that started the job and goes on streaming it, read before any new one is opened.
   * `written`: event lines already in the local log that the host may send again (resumePoint).
   */
  private constructor(private readonly o: RemoteRunOptions, readonly runId: string, readonly job: RemoteJob, offsets: Offsets, private live?: LineFeed, private readonly written = new WrittenLines()) {
    this.runDir = o.layout.runDir(runId);
    this.events = o.layout.eventsFile(runId);
    this.finished = this.follow(offsets).finally(() => releaseFollower(this.runDir));
  }

  /**
   * Follows a run started earlier whose follower (an `mlops run` process, an editor window) ended
   * while the job went on: from the offsets that follower saved. Undefined when a live process
   * follows it already.
   */
  static resume(o: Pick<RemoteRunOptions, 'layout' | 'onOutput'>, runId: string): RemoteRun | undefined {
    const job = readRemoteJob(o.layout, runId);
    if (!job) return undefined;
    const target = findTarget(o.layout.root, job.target);
    if (target.type === 'local') return undefined;
    const runDir = o.layout.runDir(runId);
    if (!claimFollower(runDir)) return undefined;
    const { offsets, written } = resumePoint(runDir, o.layout.eventsFile(runId), path.join(o.layout.artifactsDir(runId), OUTPUT_LOG));
    return new RemoteRun({ ...o, target, command: '', args: [] }, runId, job, offsets, undefined, written);
  }

  /** Stops following (the job goes on; a later follower resumes it); `finished` settles as RUNNING. */
  detach(): Promise<RunOutcome> {
    this.detached = true;
    this.follower?.kill();
    return this.finished;
  }

  /** Ships and starts the job; a failed start throws why and leaves no local run behind. */
  static async start(o: RemoteRunOptions): Promise<RemoteRun> {
    const root = o.layout.root;
    const runId = newRunId();
    const inputs = o.target.type === 'kubernetes' ? [] : o.inputs ?? [];
    const runDir = o.layout.runDir(runId);
    const artifacts = o.layout.artifactsDir(runId);
    fs.mkdirSync(artifacts, { recursive: true });
    const capturing = captureGit(root, path.join(artifacts, DIFF_FILE)); // while the job ships
    let started: Awaited<ReturnType<typeof startOverShell>>;
    try {
      started = o.target.type === 'kubernetes'
        ? { job: await startKubernetes(o.target, runId, [o.command, ...o.args], await jobFiles(o.layout, o.files), o.onOutput), shipped: undefined }
        : await startOverShell(o.layout, o.target, runId, [o.command, ...o.args], inputs, o.files);
    } catch (err) {
      await capturing;
      fs.rmSync(runDir, { recursive: true, force: true });
      throw err;
    }
    const { job, shipped, live } = started;
    fs.writeFileSync(path.join(runDir, REMOTE_JOB_FILE), JSON.stringify(job, null, 2) + '\n');
    claimFollower(runDir);
    const git = await capturing;
    const where = job.pid ? { pid: job.pid } : job.slurmJob ? { slurm_job: job.slurmJob } : { k8s_job: job.k8sJob, pod: job.pod };
    appendEvents(o.layout.eventsFile(runId), [
      {
        type: 'run_start', schema: EVENT_SCHEMA_VERSION, run_id: runId, name: o.name || nextRunName(o.layout.runsDir, runNameBase(o.command, o.args)),
        experiment: o.experiment || 'Default', source: o.source ?? 'command',
      },
      { type: 'tag', key: 'mlops.target', value: job.target },
      { type: 'tag', key: 'mlops.host', value: job.host },
      ...inputs.map((i) => ({ type: 'input' as const, snapshot: i.snapshot, paths: i.paths })),
      {
        type: 'capture',
        capture: {
          argv: [o.command, ...o.args], cwd: `${job.dir}/code`, host: job.host, target: job.target, ...where, ...(git ? { git } : {}),
          ...(shipped ? { shipped: { files: shipped.files, sent: shipped.sent.length, bytes: shipped.bytes } } : {}),
        },
      },
      ...Object.entries(o.tags ?? {}).map(([key, value]) => ({ type: 'tag' as const, key, value })),
      ...Object.entries(o.params ?? {}).map(([key, value]) => ({ type: 'param' as const, key, value })),
    ]);
    return new RemoteRun(o, runId, job, { events: 0, output: 0 }, live);
  }

  /** Ends the job's whole process group on the host; `finished` then settles as KILLED. */
  async stop(): Promise<RunOutcome> {
    try {
      await cancelJob(this.o.target, this.job);
    } catch (err) {
      this.o.onOutput?.(`mlops: ${(err as Error).message}\n`); // the follower keeps trying to reattach
    }
    return this.finished;
  }

  private async follow(offsets: Offsets): Promise<RunOutcome> {
    let exit: JobExit | undefined;
    const target = this.o.target;
    while (!this.detached && !(exit = await this.followOnce(offsets))) {
      if (this.detached) break;
      if (target.type === 'kubernetes' && (exit = await kubernetesJobEnded(target, k8sRef(this.job)))) break;
      this.o.onOutput?.(`mlops: lost the connection to target ${target.name}; reattaching…\n`);
      await new Promise((r) => setTimeout(r, REATTACH_MS));
    }
    if (!exit) {
      writeOffsets(this.runDir, offsets, this.events);
      return { status: 'RUNNING', exitCode: null };
    }
    if (!this.artifactsHome) await this.pullArtifacts();
    const artifacts = this.o.layout.artifactsDir(this.runId);
    writeFileAtomic(path.join(this.runDir, REMOTE_JOB_FILE), JSON.stringify({ ...this.job, artifacts: fileSizes(artifacts) }, null, 2) + '\n');
    const files = [OUTPUT_LOG, DIFF_FILE].filter((f) => fs.existsSync(path.join(artifacts, f)));
    const digests = await Promise.all(files.map((f) => fileDigest(path.join(artifacts, f))));
    const status: RunStatus = exit.code === 0 ? 'FINISHED' : exit.signal ? 'KILLED' : 'FAILED';
    const exitCode = exit.code ?? (exit.signal ? 128 + exit.signal : null);
    appendEvents(this.events, [
      ...files.map((f, i) => ({ type: 'artifact' as const, path: f, ...digests[i] })),
      { type: 'run_end', status, exit_code: exitCode },
    ]);
    return { status, exitCode, error: exit.error };
  }

  /** The job's framed lines: runner.py follow from the offsets, or a Kubernetes container's whole log. */
  private spawnFollower(offsets: Offsets): ChildProcess {
    const target = this.o.target;
    if (target.type === 'kubernetes') return followKubernetesJob(target, k8sRef(this.job));
    const { dir } = this.job;
    return spawnOnTarget(shellOf(target), `exec python3 ${shQuote(dir)}/runner.py follow ${shQuote(dir)} ${offsets.events} ${offsets.output}${this.job.slurmJob ? ` ${shQuote(this.job.slurmJob)}` : ''}`);
  }

  /**
   * One connection's worth of streaming; the job's exit, or undefined when the connection ended
   * first. Frames up to the offsets already had are skipped (a container's log starts over).
   */
  private followOnce(offsets: Offsets): Promise<JobExit | undefined> {
    const feed = this.live ?? new LineFeed(this.spawnFollower(offsets));
    if (!this.live) feed.child.stdin!.end();
    this.live = undefined;
    const child = feed.child;
    this.follower = child;
    const output = path.join(this.o.layout.artifactsDir(this.runId), OUTPUT_LOG);
    let exit: JobExit | undefined;
    let unpacking: Untar | undefined;
    let unpacked: Promise<boolean> | undefined;
    feed.read((line) => {
      const [kind, at = ''] = line.split(' ', 2);
      const body = line.slice(kind.length + at.length + 2);
      if (kind === 'E') {
        if (Number(at) <= offsets.events) return;
        try {
          const event = eventLine(JSON.parse(body) as NewRunEvent);
          // Those the last follower wrote but had not saved come first, in order; past them, nothing repeats.
          if (!this.written.take(event)) appendRecord(this.events, event);
        } catch {
          // Not an event line (the client writes only JSON): skipped, as ingest would.
        }
        offsets.events = Number(at);
      } else if (kind === 'O') {
        if (Number(at) <= offsets.output) return;
        const all = Buffer.from(body, 'base64');
        const data = all.subarray(Math.max(0, offsets.output - (Number(at) - all.length)));
        fs.appendFileSync(output, data);
        this.o.onOutput?.(data.toString('utf8'));
        offsets.output = Number(at);
      } else if (kind === 'X') {
        exit = JSON.parse(line.slice(2)) as JobExit;
        if (this.o.target.type === 'kubernetes') child.kill(); // a container's log stays open until the container ends
      } else if (kind === 'A') {
        (unpacking ??= untar(this.runDir)).input.write(Buffer.from(at, 'base64'));
      } else if (kind === 'Z' && unpacking) {
        unpacked = unpacking.done;
        unpacking.input.end();
      }
      this.saveOffsets(offsets);
    });
    child.stderr!.resume();
    return feed.closed.then(async () => {
      if (unpacking && !unpacked) unpacking.input.end(); // cut off: pullArtifacts fetches them again
      this.artifactsHome = (await unpacked) ?? false;
      return exit;
    });
  }

  /** Saves the offsets once per burst of lines, for a follower that takes over after this one. */
  private saveOffsets(offsets: Offsets): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    setImmediate(() => {
      this.saveQueued = false;
      writeOffsets(this.runDir, offsets, this.events);
    });
  }

  /** Brings the job's artifacts folder home as one tar stream, read by the local tar. */
  private async pullArtifacts(): Promise<void> {
    const target = this.o.target;
    const remote = target.type === 'kubernetes' ? kubernetesArtifacts(target, k8sRef(this.job))
      : spawnOnTarget(shellOf(target), `cd ${shQuote(this.job.dir)}/run && exec tar -cf - artifacts`);
    remote.stdin!.end();
    const local = untar(this.runDir);
    remote.stdout!.pipe(local.input);
    await Promise.all([new Promise((r) => { remote.on('close', r); remote.on('error', r); }), local.done]);
    if (target.type === 'kubernetes') await releaseKubernetesJob(target, k8sRef(this.job));
  }
}

export function startRemoteRun(options: RemoteRunOptions): Promise<RemoteRun> {
  return RemoteRun.start(options);
}

/**
 * Picks up the workspace's remote runs that are still going but have no live follower (the
 * editor or `mlops run` that followed them ended): each is followed to its end from where its
 * last follower was. A target that is gone from mlops.yaml is reported through `onProblem`.
 */
export function resumeRemoteRuns(o: Pick<RemoteRunOptions, 'layout' | 'onOutput'>, onProblem?: (message: string) => void): RemoteRun[] {
  const runs = fs.existsSync(o.layout.runsDir) ? fs.readdirSync(o.layout.runsDir) : [];
  const resumed: RemoteRun[] = [];
  for (const runId of runs) {
    if (!fs.existsSync(path.join(o.layout.runDir(runId), REMOTE_JOB_FILE)) || hasEnded(o.layout.eventsFile(runId))) continue;
    try {
      const run = RemoteRun.resume(o, runId);
      if (run) resumed.push(run);
    } catch (err) {
      onProblem?.(`Cannot resume run ${runId}: ${(err as Error).message}`);
    }
  }
  return resumed;
}

/** Whether the run's log ends with its end (a run without a log has nothing to resume). */
function hasEnded(eventsFile: string): boolean {
  const tail = logTail(eventsFile);
  return tail === undefined || tail.includes('"type":"run_end"');
}

/** When the run ended (its run_end's time, ms; the log's mtime where that line is damaged); undefined while it has not. */
export function runEndTime(eventsFile: string): number | undefined {
  const line = logTail(eventsFile)?.toString('utf8').split('\n').reverse().find((l) => l.includes('"type":"run_end"'));
  if (line === undefined) return undefined;
  try {
    return (JSON.parse(line) as { time: number }).time;
  } catch {
    return fs.statSync(eventsFile).mtimeMs;
  }
}

/** The last 4 KB of a run's log (logs can be long; the end is what is asked about), or undefined when it cannot be read. */
function logTail(eventsFile: string): Buffer | undefined {
  try {
    const fd = fs.openSync(eventsFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const tail = Buffer.alloc(Math.min(size, 4096));
      fs.readSync(fd, tail, 0, tail.length, size - tail.length);
      return tail;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Every file under `dir` (path from it, with /, → bytes). */
function fileSizes(dir: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const rel of fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) : []) {
    const st = fs.lstatSync(path.join(dir, rel));
    if (st.isFile()) sizes[rel.split(path.sep).join('/')] = st.size; // as the host names them
  }
  return sizes;
}

/** The remote job behind a local run, or undefined for a run that ran here. */
export function readRemoteJob(layout: MlopsLayout, runId: string): RemoteJob | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(layout.runDir(runId), REMOTE_JOB_FILE), 'utf8')) as RemoteJob;
  } catch {
    return undefined;
  }
}

/**
 * Ends a job: its process group on an ssh host or in a Kubernetes pod (TERM, then KILL after a
 * grace period), or scancel on Slurm; a job Slurm never started gets its `exit` written here so its follower ends.
 */
export async function cancelJob(target: JobTarget, job: RemoteJob): Promise<void> {
  if (target.type === 'kubernetes') return cancelKubernetesJob(target, k8sRef(job));
  const dir = shQuote(job.dir);
  const script = job.slurmJob
    ? `scancel ${shQuote(job.slurmJob)} && i=0 && while [ ! -e ${dir}/exit ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; `
      + `[ -e ${dir}/exit ] || echo '{"code": null, "signal": 15}' > ${dir}/exit`
    : `exec python3 ${dir}/runner.py cancel ${dir}`;
  const shell = shellOf(target);
  const result = await runOnTarget(shell, script);
  if (result.code !== 0) throw targetFailure(shell, result, job.slurmJob ? 'scancel' : 'Cancel');
}

/**
 * Ships the job to an ssh host (started detached by runner.py) or a Slurm submit host (sbatch):
 * only the files its host lacks go over (see shipJob).
 */
async function startOverShell(
  layout: MlopsLayout, target: SshTarget | SlurmTarget, runId: string, argv: string[], inputs: RunInput[], files?: string[],
): Promise<{ job: RemoteJob; shipped?: Shipped; live?: LineFeed }> {
  const command = argv.map(shQuote).join(' ');
  const slurm = target.type === 'slurm' ? target : undefined;
  const extra: TarEntry[] = runnerFiles();
  // A Slurm job runs the runner in the foreground: Slurm itself detaches it and owns its processes.
  if (slurm) extra.push({ name: 'job.sh', text: `#!/bin/sh\nexec python3 runner.py run . -- ${command}\n`, executable: true });
  const env = { MLOPS_RUN_ID: runId, PYTHONUNBUFFERED: '1', ...jobEnv() };
  const then = [
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    'export MLOPS_RUN_DIR="$J/run" MLOPS_DIR="$J/.mlops"',
    `echo "dir $J"`,
    // On an ssh host one interpreter materializes, starts and streams the job, on the connection that shipped it.
    ...(slurm ? [MATERIALIZE, `id=$(sbatch --parsable ${sbatchOptions(slurm, runId).join(' ')} job.sh) && echo "started \${id%%;*} $(uname -n)"`]
      : [`exec python3 runner.py launch "$J" -- ${command}`]),
  ];
  const shell = shellOf(target);
  const rows = shipManifest(layout, inputs, files);
  const workdir = workdirWord(target);
  const result = await shipJob({ layout, target: target.name, shell, workdir, runId, rows, extra, then, until: slurm ? undefined : /^started \d+ / });
  const dir = /^dir (.+)$/m.exec(result.stdout)?.[1];
  const started = /^started (\d+) (\S+)$/m.exec(result.stdout);
  if (result.code !== 0 || !dir || !started) {
    result.live?.child.kill();
    throw targetFailure(shell, result, slurm ? 'sbatch' : 'Starting the run');
  }
  const job = { target: target.name, host: started[2], dir, ...(slurm ? { slurmJob: started[1] } : { pid: Number(started[1]) }) };
  return { job, shipped: result.shipped, live: result.live };
}

async function startKubernetes(target: KubernetesTarget, runId: string, argv: string[], files: TarEntry[], progress?: (line: string) => void): Promise<RemoteJob> {
  const ref = await submitKubernetesJob(target, runId, argv, files, jobEnv(), progress);
  return { target: target.name, host: ref.node, dir: K8S_JOB_DIR, k8sJob: ref.name, pod: ref.pod };
}

/** What the runner on the host reads from its environment: how often to sample the GPUs. */
export function jobEnv(): Record<string, string> {
  return { [GPU_SAMPLE_ENV]: String(gpuSampleSeconds(process.env)) };
}

function k8sRef(job: RemoteJob): KubernetesJobRef {
  return { name: job.k8sJob!, pod: job.pod!, node: job.host };
}
