import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { isProcessAlive } from './processes';

/** What the lock file holds: who took it, and a token so only its taker removes it. */
interface LockOwner {
  pid: number;
  host: string;
  /** Date.now() when taken. */
  since: number;
  token: string;
  /** The process's start time in clock ticks after boot (Linux), to tell a reused pid from its owner. */
  start?: string;
}

/** A lock file that nobody could hold legitimately this long is taken over, whoever wrote it. */
const ABANDONED_MS = 60_000;
/** A lock file without a readable owner is taken over once it is this old (its writer is not mid-write). */
const UNREADABLE_STALE_MS = 5_000;

/**
 * A short-lived cross-process lock around "read the log's tail, append one line":
 * a file created with O_EXCL holding the owner's pid, host and a token. A lock
 * left by a process that died on this host (or whose pid now belongs to another
 * process) is taken over; so is any lock older than a minute, since the append
 * it guards takes milliseconds. Taking over goes through a second O_EXCL file
 * (`<lock>.break`) so that two waiters that both saw the dead owner cannot
 * remove each other's fresh lock.
 *
 * Synchronous on purpose: the sections it guards (an audit or registry append) are, and the wait loop
 * sleeps with `Atomics.wait` (a few milliseconds at a time).
 */
export class FileLock {
  private released = false;

  private constructor(readonly file: string, private readonly token: string) {}

  /**
   * Takes the lock, waiting up to `timeoutMs`; throws a message naming the holder when it cannot.
   * Returns undefined when the folder is read-only (or gone), so readers can go on without it.
   */
  static acquire(file: string, timeoutMs: number, options: { forReading?: boolean } = {}): FileLock | undefined {
    const token = randomUUID();
    const start = processStart(process.pid);
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    for (;;) {
      const owner: LockOwner = { pid: process.pid, host: os.hostname(), since: Date.now(), token, ...(start ? { start } : {}) };
      let fd: number | undefined;
      try {
        fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (options.forReading && (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'ENOENT')) return undefined;
        if (code !== 'EEXIST') throw err;
      }
      if (fd !== undefined) {
        try {
          fs.writeSync(fd, JSON.stringify(owner));
        } finally {
          fs.closeSync(fd);
        }
        return new FileLock(file, token);
      }
      const raw = readRaw(file);
      if (raw === undefined) continue; // released between our open and our read
      if (isStale(file, raw)) {
        breakStale(file, raw);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new Error(`${file} is held by ${describeOwner(raw)}. If no MLOps process is running, delete that file and try again.`);
      }
      sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 4);
    }
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const owner = parseOwner(readRaw(this.file));
    if (owner?.token === this.token) fs.rmSync(this.file, { force: true });
  }
}

function isStale(file: string, raw: string): boolean {
  const owner = parseOwner(raw);
  if (!owner) return ageMs(file) > UNREADABLE_STALE_MS;
  if (Date.now() - owner.since > ABANDONED_MS && ageMs(file) > ABANDONED_MS) return true;
  if (owner.host !== os.hostname()) return false;
  if (!isProcessAlive(owner.pid)) return true;
  // Same pid, different process (pids are reused, e.g. pid 1 in every container).
  const start = processStart(owner.pid);
  return owner.start !== undefined && start !== undefined && start !== owner.start;
}

/** Removes a stale lock, but only if it is still the one judged stale (see FileLock). */
function breakStale(file: string, staleRaw: string): void {
  const breaker = `${file}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breaker, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another waiter is breaking it right now; one left by a crash mid-break is removed once old.
    if (ageMs(breaker) > UNREADABLE_STALE_MS) fs.rmSync(breaker, { force: true });
    else sleep(1);
    return;
  }
  try {
    fs.writeSync(fd, String(process.pid));
    fs.closeSync(fd);
    if (readRaw(file) === staleRaw) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

function describeOwner(raw: string): string {
  const owner = parseOwner(raw);
  if (!owner) return 'another process (the lock file holds no readable owner)';
  return `process ${owner.pid} on ${owner.host} since ${new Date(owner.since).toISOString()}`;
}

function parseOwner(raw: string | undefined): LockOwner | undefined {
  if (!raw) return undefined;
  try {
    const o = JSON.parse(raw) as LockOwner;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.since === 'number' && typeof o.token === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

function readRaw(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); undefined without /proc. */
function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Runs `fn` while holding `<file>.lock` (a short read-then-append section shared with other processes). */
export function withFileLockSync<T>(file: string, fn: () => T, timeoutMs = 10_000): T {
  const lock = FileLock.acquire(`${file}.lock`, timeoutMs)!;
  try {
    return fn();
  } finally {
    lock.release();
  }
}
