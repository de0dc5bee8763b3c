import * as fs from 'node:fs';
import type { MlopsLayout } from '../workspace/layout';
import { runOnTarget, type ShellResult, type ShellTarget } from './shell';
import { manifestText, type ShipRow } from './shipManifest';
import { ShipRecord } from './shipRecord';
import { tarStream, type TarEntry } from './tarStream';

/** runner.py materialize's exit code when the host's cache lacks objects this side took it to hold. */
const MISSING_EXIT = 75;

export interface Shipment {
  layout: MlopsLayout;
  /** The target's name (its ship record) and the shell its commands run in. */
  target: string;
  shell: ShellTarget;
  /** The target's workdir as a shell word; the job folder is `<workdir>/<runId>`, the host's cache `<workdir>/.cache`. */
  workdir: string;
  runId: string;
  rows: ShipRow[];
  /** Files sent every time beside the manifest (the runner, the client, a batch script). */
  extra: TarEntry[];
  /** Shell lines run in the job folder (`$J`) once its files are in place: start the job. */
  then: string[];
}

/** How much went over: files in the job, objects sent (ids) and their bytes. */
export interface Shipped { files: number; sent: string[]; bytes: number }

/**
 * Ships a job over one ssh connection and runs `then` there: a tar stream of the runner, the
 * manifest and only the objects the target's record says its host lacks; runner.py materialize
 * builds code/ from the host's cache. A host whose cache lost objects names them, and they go in
 * a second connection. Needs nothing but sh, tar and python3 on the host.
 */
export async function shipJob(s: Shipment): Promise<ShellResult & { shipped: Shipped }> {
  const record = ShipRecord.load(s.layout, s.target, `${s.shell.type === 'ssh' ? s.shell.host : 'local'} ${s.workdir}`);
  const files = new Map(s.rows.map((r) => [r.oid, r.file]));
  const script = shipScript(s);
  const sent: string[] = [];
  let bytes = 0;
  const send = (oids: string[], first: boolean): Promise<ShellResult> => {
    sent.push(...oids);
    const objects = oids.map((oid) => ({ name: `ship/objects/${oid}`, file: files.get(oid)! }));
    for (const o of objects) bytes += fs.statSync(o.file).size;
    const entries = first ? [...s.extra, { name: 'ship/manifest', text: manifestText(s.rows) }, ...objects] : objects;
    return runOnTarget(s.shell, script, tarStream(entries));
  };
  let result = await send([...files.keys()].filter((oid) => !record.has(oid)), true);
  if (result.code === MISSING_EXIT) {
    const missing = [...result.stdout.matchAll(/^missing ([0-9a-f]{40})$/gm)].map((m) => m[1]).filter((oid) => files.has(oid));
    result = await send(missing, false);
    if (result.code === MISSING_EXIT) throw new Error(`Shipping the job to target "${s.target}" failed: the host still lacks files after they were sent again; check free space in ${s.workdir}/.cache on the host.`);
  }
  if (/^materialized$/m.test(result.stdout)) record.save(files.keys()); // even when `then` failed: the host holds them
  return { ...result, shipped: { files: s.rows.length, sent, bytes } };
}

/**
 * The script of each connection: make the job folder, unpack, materialize, then `then`.
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
    'python3 runner.py materialize "$J"',
    ...s.then,
  ].join('\n');
}
