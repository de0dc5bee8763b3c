import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { isDiskFull } from './diskFull';
import { isProcessAlive } from './processes';

/** Who holds a lock file: a process on a host, since when. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Date.now() when taken. */
  since: number;
  /** The process's start time in clock ticks after boot (Linux), to tell a reused pid from its owner. */
  start?: string;
}

/** What FileLock's file holds: the holder, and a token so only its taker removes it. */
interface LockOwner extends LockHolder {
  token: string;
}

/** Thrown when the lock stayed held by a live owner for the whole wait. */
export class LockBusyError extends Error {}

/** A lock file that nobody could hold legitimately this long is taken over, whoever wrote it. */
const ABANDONED_MS = 60_000;
/** A lock file without a readable owner is taken over once it is this old (its writer is not mid-write). */
const UNREADABLE_STALE_MS = 5_000;

/**
 * A short-lived cross-process lock around "read the log's tail, append one line" (or move
 * the snapshot refs): a file created with O_EXCL holding the owner's pid, host and a token.
 * A lock left by a process that died on this host (or whose pid now belongs to another
 * process) is taken over; so is any lock older than a minute, since the sections it guards
 * take milliseconds to seconds. Taking over goes through a second O_EXCL file
 * (`<lock>.break`) so that two waiters that both saw the dead owner cannot
 * remove each other's fresh lock.
 *
 * `acquire` is synchronous on purpose: the sections it guards (an audit or registry append)
 * are, and its wait loop sleeps with `Atomics.wait` (a few milliseconds at a time).
 */
export class FileLock {
  private released = false;

  private constructor(readonly file: string, private readonly token: string) {}

  /**
   * Takes the lock, waiting up to `timeoutMs`; throws a LockBusyError naming the holder when it cannot.
   * Returns undefined when the folder is read-only (or gone), so readers can go on without it.
   */
  static acquire(file: string, timeoutMs: number, options: { forReading?: boolean } = {}): FileLock | undefined {
    const attempt = FileLock.attempts(file, timeoutMs, 4, options.forReading);
    for (;;) {
      const result = attempt();
      if (typeof result !== 'number') return result;
      if (result > 0) sleep(result);
    }
  }

  /**
   * The same, waiting with timers: for locks taken in the extension host, whose event loop a
   * synchronous wait would stop, and held for longer (so it polls less often).
   */
  static async acquireAsync(file: string, timeoutMs: number): Promise<FileLock> {
    const attempt = FileLock.attempts(file, timeoutMs, 25, false);
    for (;;) {
      const result = attempt();
      if (typeof result !== 'number') return result!;
      if (result > 0) await new Promise((r) => setTimeout(r, result));
    }
  }

  /**
   * One try at the lock per call: the lock (undefined: a read-only folder, for readers), or how
   * many milliseconds to wait before the next try; throws once the deadline has passed.
   */
  private static attempts(file: string, timeoutMs: number, maxDelayMs: number, forReading = false): () => FileLock | undefined | number {
    const token = randomUUID();
    const me = thisHolder();
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    return () => {
      const owner: LockOwner = { ...me, since: Date.now(), token };
      let fd: number | undefined;
      try {
        fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (forReading && (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'ENOENT')) return undefined;
        if (isDiskFull(err)) throw diskFull(file, err as NodeJS.ErrnoException);
        if (code !== 'EEXIST') throw err;
      }
      if (fd !== undefined) {
        try {
          fs.writeSync(fd, JSON.stringify(owner));
        } catch (err) {
          fs.rmSync(file, { force: true }); // a full disk: no ownerless lock file left behind
          throw isDiskFull(err) ? diskFull(file, err as NodeJS.ErrnoException) : err;
        } finally {
          fs.closeSync(fd);
        }
        return new FileLock(file, token);
      }
      const raw = readRaw(file);
      if (raw === undefined) return 0; // released between our open and our read
      if (isStale(file, raw)) return breakStale(file, raw);
      if (Date.now() >= deadline) {
        throw new LockBusyError(`${file} is held by ${describeOwner(raw)}. If no MLOps process is running, delete that file and try again.`);
      }
      const wait = delay + Math.random() * delay;
      delay = Math.min(delay * 2, maxDelayMs);
      return wait;
    };
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const owner = parseOwner(readRaw(this.file));
    if (owner?.token === this.token) fs.rmSync(this.file, { force: true });
  }
}

function diskFull(file: string, err: NodeJS.ErrnoException): Error {
  return Object.assign(new Error(`Cannot take the lock ${file}: the disk is full (${err.code}). Free some space and try again; nothing was changed.`), { code: err.code });
}

function isStale(file: string, raw: string): boolean {
  const owner = parseOwner(raw);
  if (owner && Date.now() - owner.since > ABANDONED_MS && ageMs(file) > ABANDONED_MS) return true;
  return isHolderGone(file, owner);
}

/**
 * Whether a lock's holder is gone: the file names none and is old enough not to be mid-write,
 * or it names a process on this host that died or whose pid now belongs to another process.
 * A holder on another host is never judged gone.
 */
export function isHolderGone(file: string, holder: LockHolder | undefined): boolean {
  if (!holder) return ageMs(file) > UNREADABLE_STALE_MS;
  if (holder.host !== os.hostname()) return false;
  if (!isProcessAlive(holder.pid)) return true;
  // Same pid, different process (pids are reused, e.g. pid 1 in every container).
  const start = processStart(holder.pid);
  return holder.start !== undefined && start !== undefined && start !== holder.start;
}

/** This process as a lock's holder, from now. */
export function thisHolder(): LockHolder {
  const start = processStart(process.pid);
  return { pid: process.pid, host: os.hostname(), since: Date.now(), ...(start ? { start } : {}) };
}

/** The holder a lock file names; undefined when it is missing, unreadable or half-written. */
export function readLockHolder(file: string): LockHolder | undefined {
  try {
    return parseHolder(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Removes a stale lock, but only if it is still the one judged stale (see FileLock); returns how long to wait before the next try. */
function breakStale(file: string, staleRaw: string): number {
  const breaker = `${file}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breaker, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another waiter is breaking it right now; one left by a crash mid-break is removed once old.
    if (ageMs(breaker) <= UNREADABLE_STALE_MS) return 1;
    fs.rmSync(breaker, { force: true });
    return 0;
  }
  try {
    fs.writeSync(fd, String(process.pid));
    fs.closeSync(fd);
    if (readRaw(file) === staleRaw) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
  return 0;
}

function describeOwner(raw: string): string {
  const owner = parseOwner(raw);
  if (!owner) return 'another process (the lock file holds no readable owner)';
  return `process ${owner.pid} on ${owner.host} since ${new Date(owner.since).toISOString()}`;
}

function parseOwner(raw: string | undefined): LockOwner | undefined {
  const o = parseHolder(raw) as LockOwner | undefined;
  return typeof o?.token === 'string' ? o : undefined;
}

function parseHolder(raw: string | undefined): LockHolder | undefined {
  if (!raw) return undefined;
  try {
    const o = JSON.parse(raw) as LockHolder;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.since === 'number' ? o : undefined;
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
/** Blocks this thread for `ms` (for short waits in synchronous sections). */
export function sleep(ms: number): void {
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
