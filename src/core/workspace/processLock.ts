import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isHolderGone, readLockHolder, thisHolder, type LockHolder } from './fileLock';
import { isReadOnlyError } from './layout';

/** Besides a read-only folder: errors that mean no lock file can be made here now (no .mlops/ yet, a full disk). */
const CANNOT_CREATE = new Set(['ENOENT', 'ENOSPC', 'EDQUOT']);

/** Why a lock was not taken: `held` when a live process has it (`holder`: which, when its file is readable); else no lock file can be made there. */
export interface LockRefusal { why: string; held: boolean; holder?: LockHolder }

/** "process 123 on host", for messages. */
export function describeHolder(holder: LockHolder | undefined): string {
  return holder ? `process ${holder.pid} on ${holder.host}` : 'another process';
}

/**
 * Something one process at a time owns for as long as it runs (tracking.db, a pipeline run):
 * the lock file holds its pid, host and start time. A lock left by a process that died on this
 * host (or whose pid now belongs to another process) is taken over; unlike a FileLock, never
 * for its age, since the owner keeps it for minutes or hours.
 */
export class ProcessLock {
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(readonly file: string) {
    process.once('exit', this.onExit);
  }

  /** The lock, or why this process cannot take it now (held by another process, a read-only folder, a full disk). */
  static tryAcquire(file: string): ProcessLock | LockRefusal {
    const held = (): LockRefusal | undefined => {
      const holder = readLockHolder(file);
      return isHolderGone(file, holder) ? undefined : { why: `it is in use by ${describeHolder(holder)}`, held: true, holder };
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = fs.openSync(file, 'wx');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (isReadOnlyError(err) || CANNOT_CREATE.has(code ?? '')) return { why: `${path.dirname(file)} cannot be written (${code})`, held: false };
        if (code !== 'EEXIST') throw err;
        const refusal = held();
        if (refusal) return refusal;
        try {
          fs.rmSync(file, { force: true });
        } catch (rmErr) {
          return { why: `a stale ${path.basename(file)} cannot be removed (${(rmErr as NodeJS.ErrnoException).code})`, held: false };
        }
        continue;
      }
      try {
        fs.writeSync(fd, JSON.stringify(thisHolder()));
      } catch (err) {
        // A full disk: leave no empty lock file behind for others to wait on.
        fs.closeSync(fd);
        fs.rmSync(file, { force: true });
        return { why: `${path.basename(file)} cannot be written (${(err as NodeJS.ErrnoException).code})`, held: false };
      }
      fs.closeSync(fd);
      return new ProcessLock(file);
    }
    // Another process took it between our removing a stale file and creating ours, twice.
    return held() ?? { why: `it is in use by ${describeHolder(undefined)}`, held: true };
  }

  /** Waits up to `waitMs` for the lock; else says why another process or the folder keeps it from this one. */
  static async acquire(file: string, waitMs: number): Promise<ProcessLock | string> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lock = ProcessLock.tryAcquire(file);
      if (lock instanceof ProcessLock) return lock;
      if (Date.now() >= deadline) return lock.why;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Whether a live process holds the lock (false: free, or its holder is gone). */
  static isHeld(file: string): boolean {
    return fs.existsSync(file) && !isHolderGone(file, readLockHolder(file));
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const owner = readLockHolder(this.file);
    if (owner?.pid === process.pid && owner.host === os.hostname()) fs.rmSync(this.file, { force: true });
  }
}
