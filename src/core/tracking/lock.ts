import * as fs from 'node:fs';
import * as os from 'node:os';
import { isHolderGone, readLockHolder, thisHolder } from '../workspace/fileLock';

/**
 * One process at a time owns tracking.db: the lock file holds its pid, host and start time.
 * A lock left by a process that died on this host (or whose pid now belongs to another
 * process) is taken over; unlike a FileLock, never for its age, since the owner keeps it for hours.
 */
export class TrackingLock {
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(readonly file: string) {
    process.once('exit', this.onExit);
  }

  static tryAcquire(file: string): TrackingLock | undefined {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(file, 'wx');
        fs.writeSync(fd, JSON.stringify(thisHolder()));
        fs.closeSync(fd);
        return new TrackingLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!isHolderGone(file, readLockHolder(file))) return undefined;
        fs.rmSync(file, { force: true });
      }
    }
    return undefined;
  }

  /** Waits up to `waitMs` for the lock; undefined when another live process keeps it. */
  static async acquire(file: string, waitMs: number): Promise<TrackingLock | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lock = TrackingLock.tryAcquire(file);
      if (lock || Date.now() >= deadline) return lock;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Who holds the lock now, for messages. */
  static holder(file: string): string | undefined {
    const owner = readLockHolder(file);
    return owner ? `process ${owner.pid} on ${owner.host}` : undefined;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const owner = readLockHolder(this.file);
    if (owner?.pid === process.pid && owner.host === os.hostname()) fs.rmSync(this.file, { force: true });
  }
}
