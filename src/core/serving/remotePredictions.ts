import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectBytes, shQuote, spawnOnTarget, targetFailure } from '../compute/shell';
import type { SshTarget } from '../compute/targets';
import { writeFileAtomic } from '../workspace/atomicFile';
import { appendRecord } from '../workspace/appendLog';
import type { PulledFile } from './hostFiles';

/** `.mlops/serving/<deployment>/mirror.json`: each remote log file (by inode) → its name and the bytes already here. */
const STATE_FILE = 'mirror.json';
type MirrorState = Record<string, { name: string; bytes: number }>;

function readState(localDir: string): MirrorState {
  try {
    return JSON.parse(fs.readFileSync(path.join(localDir, STATE_FILE), 'utf8')) as MirrorState;
  } catch {
    return {};
  }
}

/** Runs `script` on the host and returns its stdout as bytes (the frames carry byte counts). */
async function runForBytes(target: SshTarget, script: string): Promise<Buffer> {
  const r = await collectBytes(spawnOnTarget(target, script));
  if (r.code !== 0) throw targetFailure(target, { ...r, stdout: '' }, 'Pulling the prediction log');
  return r.stdout;
}

/**
 * Brings a remote deployment's prediction log home into `localDir`, where drift monitoring
 * reads a local one: the whole lines written since the last pull, each file followed by inode so
 * a rotation on the host renames the file here too, and files the host pruned are pruned here.
 * Lines go through the workspace's append primitive. Returns the bytes brought.
 */
export async function pullPredictions(target: SshTarget, remoteDir: string, localDir: string): Promise<number> {
  const state = readState(localDir);
  const had = Object.fromEntries(Object.entries(state).map(([ino, f]) => [ino, f.bytes]));
  const out = await runForBytes(target, `cd ${shQuote(remoteDir)} && exec node deploymentHost.js pull ${shQuote(JSON.stringify(had))}`);
  const newline = out.indexOf(0x0a);
  const files = JSON.parse(out.subarray(0, newline).toString('utf8')) as PulledFile[];
  fs.mkdirSync(localDir, { recursive: true });
  const local = (name: string) => path.join(localDir, path.basename(name));
  // Renames first: after a rotation the current file's old lines become the rotated file's.
  for (const f of files) {
    const known = state[f.ino];
    if (known && known.name !== f.name && fs.existsSync(local(known.name))) fs.renameSync(local(known.name), local(f.name));
  }
  let at = newline + 1;
  let brought = 0;
  const next: MirrorState = {};
  for (const f of files) {
    const data = out.subarray(at, at + f.bytes);
    at += f.bytes;
    if (data.length) appendRecord(local(f.name), data);
    brought += data.length;
    next[f.ino] = { name: f.name, bytes: f.from + data.length };
  }
  for (const [ino, f] of Object.entries(state)) {
    if (!next[ino] && !files.some((x) => x.name === f.name)) fs.rmSync(local(f.name), { force: true });
  }
  writeFileAtomic(path.join(localDir, STATE_FILE), JSON.stringify(next));
  return brought;
}
