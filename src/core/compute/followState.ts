import * as fs from 'node:fs';
import * as path from 'node:path';
import { isProcessAlive } from '../workspace/processes';

/** Where the next read of a remote job's event log and output starts (runner.py's byte offsets). */
export interface Offsets { events: number; output: number }

const OFFSETS_FILE = 'follow.json';
const FOLLOWER_FILE = 'follower.pid';

/** The offsets the last follower of the run got to (0, 0 before any). */
export function readOffsets(runDir: string): Offsets {
  try {
    const o = JSON.parse(fs.readFileSync(path.join(runDir, OFFSETS_FILE), 'utf8')) as Offsets;
    return { events: Number(o.events) || 0, output: Number(o.output) || 0 };
  } catch {
    return { events: 0, output: 0 };
  }
}

/** Saves the offsets whole (temp file, rename), so a follower that restarts goes on where this one was. */
export function writeOffsets(runDir: string, offsets: Offsets): void {
  const file = path.join(runDir, OFFSETS_FILE);
  try {
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(offsets));
    fs.renameSync(`${file}.tmp`, file);
  } catch {
    // A full disk: a later follower repeats what came since the last save; the run goes on.
  }
}

/**
 * Makes this process the run's one follower, unless a live process already is one (two
 * followers would append every event twice). A follower that died leaves its claim to be taken.
 */
export function claimFollower(runDir: string): boolean {
  const file = path.join(runDir, FOLLOWER_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (pid === process.pid) return false; // followed in this process already
      if (pid > 0 && isProcessAlive(pid)) return false;
      fs.rmSync(file, { force: true }); // its follower died: take over
    }
  }
  return false;
}

export function releaseFollower(runDir: string): void {
  const file = path.join(runDir, FOLLOWER_FILE);
  try {
    if (Number(fs.readFileSync(file, 'utf8')) === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // Not ours, or gone already.
  }
}
