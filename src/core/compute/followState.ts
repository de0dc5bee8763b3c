import * as fs from 'node:fs';
import * as path from 'node:path';
import { isProcessAlive } from '../workspace/processes';

/**
 * Where the next read of a remote job's event log and output starts (runner.py's byte offsets),
 * and `logged`: the local event log's size when they were saved.
 */
export interface Offsets { events: number; output: number; logged?: number }

const OFFSETS_FILE = 'follow.json';
const FOLLOWER_FILE = 'follower.pid';

/** The offsets the last follower of the run got to (0, 0 before any). */
export function readOffsets(runDir: string): Offsets {
  try {
    const o = JSON.parse(fs.readFileSync(path.join(runDir, OFFSETS_FILE), 'utf8')) as Offsets;
    return { events: Number(o.events) || 0, output: Number(o.output) || 0, logged: Number(o.logged) || 0 };
  } catch {
    return { events: 0, output: 0 };
  }
}

/** Saves the offsets whole (temp file, rename), so a follower that restarts goes on where this one was. */
export function writeOffsets(runDir: string, offsets: Offsets, eventsFile: string): void {
  const file = path.join(runDir, OFFSETS_FILE);
  try {
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ events: offsets.events, output: offsets.output, logged: sizeOf(eventsFile) }));
    fs.renameSync(`${file}.tmp`, file);
  } catch {
    // A full disk: a later follower repeats what came since the last save; the run goes on.
  }
}

/**
 * Where a new follower starts. A follower killed after appending what came but before saving
 * so left offsets behind what it had written: the output log's own size says where its output
 * ended, and the event lines written since the save are returned, to be matched against the
 * events the host sends again rather than appended twice.
 */
export function resumePoint(runDir: string, eventsFile: string, outputFile: string): { offsets: Offsets; written: WrittenLines } {
  const offsets = readOffsets(runDir);
  offsets.output = sizeOf(outputFile) ?? offsets.output;
  let since = '';
  try {
    const fd = fs.openSync(eventsFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.min(offsets.logged ?? 0, size);
      const tail = Buffer.alloc(size - start);
      fs.readSync(fd, tail, 0, tail.length, start);
      since = tail.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // No log yet: nothing written to repeat.
  }
  return { offsets, written: new WrittenLines(since.split('\n').filter(Boolean).map((l) => `${l}\n`)) };
}

/** The event lines written since the last save, in order; the host sends those the follower wrote again, first. */
export class WrittenLines {
  private next = 0;
  constructor(private lines: string[] = []) {}

  /** Whether `line` is the next of them (lines other writers added between are passed over); the first miss ends the matching. */
  take(line: string): boolean {
    const at = this.lines.indexOf(line, this.next);
    if (at < 0) this.lines = [];
    else this.next = at + 1;
    return at >= 0;
  }
}

function sizeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
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
