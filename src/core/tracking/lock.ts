import * as fs from 'node:fs';
import * as os from 'node:os';
import { isProcessAlive } from '../workspace/processes';

interface Owner { pid: number; host: string; since: number }

/**
 * One process at a time owns tracking.db: the lock file holds its pid and host.
 * A lock left by a process that died on this host is taken over.
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
        const owner: Owner = { pid: process.pid, host: os.hostname(), since: Date.now() };
        fs.writeSync(fd, JSON.stringify(owner));
        fs.closeSync(fd);
        return new TrackingLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!TrackingLock.isStale(file)) return undefined;
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
    const owner = readOwner(file);
    return owner ? `process ${owner.pid} on ${owner.host}` : undefined;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const owner = readOwner(this.file);
    if (owner?.pid === process.pid && owner.host === os.hostname()) fs.rmSync(this.file, { force: true });
  }

  private static isStale(file: string): boolean {
    const owner = readOwner(file);
    if (!owner) {
      // Unreadable or half-written: stale only once it is old enough not to be a writer mid-write.
      try {
        return Date.now() - fs.statSync(file).mtimeMs > 5000;
      } catch {
        return true;
      }
    }
    return owner.host === os.hostname() && !isProcessAlive(owner.pid);
  }
}

function readOwner(file: string): Owner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as Owner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}
