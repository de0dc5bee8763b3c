import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A small real file system that a test can fill: a tmpfs mounted on a fresh folder
 * (root only). `skip` says why there is none, for `it(name, { skip })`.
 */
export interface SmallDisk {
  dir: string;
  /** Fills the disk, leaving about `leaveBytes` free (default: none); returns the filler file. */
  fill(leaveBytes?: number): string;
  /** Frees what fill() took. */
  free(): void;
  unmount(): void;
}

export function mountSmallDisk(sizeBytes: number): SmallDisk | { skip: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    return { skip: `mounting a small tmpfs is not permitted here (${why}); the full-disk sequences need one` };
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    fill(leaveBytes = 0) {
      const free = () => { const s = fs.statfsSync(dir); return s.bavail * s.bsize; };
      const fd = fs.openSync(filler, 'a');
      try {
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        for (;;) {
          const room = free() - leaveBytes;
          if (room <= 0) break;
          try {
            fs.writeSync(fd, chunk, 0, Math.min(chunk.length, room));
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      } finally {
        fs.closeSync(fd);
      }
      return filler;
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
