import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { PassThrough } from 'node:stream';
import type { MlopsLayout } from '../workspace/layout';
import { LineFeed } from './lineFeed';
import { spawnOnTarget, type ShellResult, type ShellTarget } from './shell';
import { manifestText, type ShipRow } from './shipManifest';
import { ShipRecord } from './shipRecord';
import { tarStream, type TarEntry } from './tarStream';

/** runner.py materialize's exit code when the host's cache lacks objects this side took it to hold. */
const MISSING_EXIT = 75;

/** The shell line that builds the job's code/ folder from the manifest and the host's cache. */
export const MATERIALIZE = 'python3 runner.py materialize "$J"';

export interface Shipment {
  layout: MlopsLayout;
  /** The target's name (its ship record) and the shell its commands run in. */
  target: string;
  shell: ShellTarget;
  /** The target's workdir as a shell word; the job folder is `<workdir>/<runId>`, the host's cache `<workdir>/.cache`. */
  workdir: string;
  runId: string;
  /** The job's files; still being listed while the connection opens. */
  rows: Promise<ShipRow[]>;
  /** Files sent every time beside the manifest (the runner, the client, a batch script). */
  extra: TarEntry[];
  /** Shell lines run in the job folder (`$J`) once its files are unpacked: MATERIALIZE (or runner.py launch), then start the job. */
  then: string[];
  /** A line of `then`'s that says the job started, after which the connection goes on (streaming the job): it is handed over live. */
  until?: RegExp;
}

/** How much went over: files in the job, objects sent (ids) and their bytes. */
export interface Shipped { files: number; sent: string[]; bytes: number }

/** How a shipment ended, or (`live`) the connection still going after the `until` line, whose lines from there on it holds. */
export interface ShipResult extends ShellResult { shipped: Shipped; live?: LineFeed }

/**
 * Ships a job over one ssh connection and runs `then` there: a tar stream of the runner, the
 * manifest and only the objects the target's record says its host lacks; runner.py materialize
 * builds code/ from the host's cache. A host whose cache lost objects names them, and they go in
 * a second connection. Needs nothing but sh, tar and python3 on the host.
 */
export async function shipJob(s: Shipment): Promise<ShipResult> {
  const record = ShipRecord.load(s.layout, s.target, s.shell, s.workdir);
  const script = shipScript(s);
  // The connection opens (on a loaded machine ssh takes longer than listing 10,000 files) while the files are listed.
  const input = new PassThrough();
  const first = connect(s.shell, script, input, s.until);
  let rows: ShipRow[];
  try {
    rows = await s.rows;
  } catch (err) {
    first.child.kill();
    input.end();
    await first.done;
    throw err;
  }
  const files = new Map(rows.map((r) => [r.oid, r.file]));
  const sent: string[] = [];
  let bytes = 0;
  const objects = (oids: string[]): TarEntry[] => {
    sent.push(...oids);
    return oids.map((oid) => {
      bytes += fs.statSync(files.get(oid)!, { throwIfNoEntry: false })?.size ?? 0; // deleted since listed: goes empty (tarStream)
      return { name: `ship/objects/${oid}`, file: files.get(oid)! };
    });
  };
  tarStream([...s.extra, { name: 'ship/manifest', text: manifestText(rows) }, ...objects([...files.keys()].filter((oid) => !record.has(oid)))]).pipe(input);
  let result = await first.done;
  if (result.code === MISSING_EXIT) {
    const missing = [...result.stdout.matchAll(/^missing ([0-9a-f]{40})$/gm)].map((m) => m[1]).filter((oid) => files.has(oid));
    result = await connect(s.shell, script, tarStream(objects(missing)), s.until).done;
    if (result.code === MISSING_EXIT) throw new Error(`Shipping the job to target "${s.target}" failed: the host still lacks files after they were sent again; check free space in ${s.workdir}/.cache on the host.`);
  }
  if (/^materialized$/m.test(result.stdout)) record.save(files.keys()); // even when `then` failed: the host holds them
  return { ...result, shipped: { files: rows.length, sent, bytes } };
}

/**
 * The script of each connection: make the job folder, unpack, then `then` (which materializes).
 * Running it again (the second round) is harmless: mkdir -p, and the manifest is still there.
 */
function shipScript(s: Shipment): string {
  return [
    'set -e',
    `command -v python3 >/dev/null 2>&1 || { echo "python3 is not on the PATH of a non-interactive shell on $(uname -n); install Python 3 or add it to PATH" >&2; exit 3; }`,
    `mkdir -p ${s.workdir}/${s.runId}/run/artifacts`,
    `cd ${s.workdir}/${s.runId}`,
    'J=$(pwd)',
    'tar -xf -',
    ...s.then,
  ].join('\n');
}

/**
 * Runs `script` with `input` on its stdin; `done` settles when it ends, or live at the first
 * stdout line matching `until` (with the output so far).
 */
function connect(shell: ShellTarget, script: string, input: NodeJS.ReadableStream, until?: RegExp): { child: ChildProcess; done: Promise<ShellResult & { live?: LineFeed }> } {
  const child = spawnOnTarget(shell, script);
  const feed = new LineFeed(child);
  const out: string[] = [];
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  child.stdin!.on('error', () => undefined); // the far side may exit before reading everything
  input.pipe(child.stdin!);
  const done = new Promise<ShellResult & { live?: LineFeed }>((resolve) => {
    let code: number | null = null;
    let failed: string | undefined;
    child.on('error', (e) => (failed = e.message));
    child.on('close', (c) => (code = c));
    feed.read((line) => {
      out.push(line);
      if (until?.test(line)) resolve({ code: 0, stdout: out.join('\n') + '\n', stderr: err, live: feed });
    });
    void feed.closed.then(() => resolve({ code, stdout: out.join('\n') + (out.length ? '\n' : ''), stderr: failed ?? err }));
  });
  return { child, done };
}
