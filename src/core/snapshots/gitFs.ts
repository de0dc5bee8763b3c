import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PromiseFsClient } from 'isomorphic-git';

/**
 * The file system isomorphic-git writes through: node's fs.promises, except that every
 * `writeFile` goes to a temp file that is renamed into place. isomorphic-git writes objects,
 * refs and config with plain `writeFile`; through this client a crash leaves either the old
 * file or the complete new one, never a half-written ref or tree object.
 */
export function atomicGitFs(): PromiseFsClient {
  const p = fs.promises;
  return {
    promises: {
      // isomorphic-git probes every client with readFile() (no path) on each call; answer that
      // without building a Node error each time.
      readFile: (file: string, options?: unknown) => (file === undefined ? NO_PATH : p.readFile(file, options as never)),
      writeFile: writeFileViaRename,
      mkdir: p.mkdir.bind(p),
      rmdir: p.rmdir.bind(p),
      unlink: p.unlink.bind(p),
      stat: p.stat.bind(p),
      lstat: p.lstat.bind(p),
      readdir: p.readdir.bind(p),
      readlink: p.readlink.bind(p),
      symlink: p.symlink.bind(p),
      chmod: p.chmod.bind(p),
    },
  };
}

const NO_PATH = Promise.reject(new TypeError('no path'));
NO_PATH.catch(() => undefined);

/** A temp file name beside `file` (same folder, so renaming it into place is atomic). */
export function tempBeside(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

async function writeFileViaRename(file: string, data: string | Uint8Array, options?: unknown): Promise<void> {
  const tmp = tempBeside(file);
  try {
    await fs.promises.writeFile(tmp, data, options as fs.WriteFileOptions);
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

/** Paths inside a bare repository. */
export class RepoPaths {
  constructor(readonly gitdir: string) {}

  get objects(): string { return path.join(this.gitdir, 'objects'); }
  get packDir(): string { return path.join(this.objects, 'pack'); }
  get lockFile(): string { return path.join(this.gitdir, 'mlops-write.lock'); }

  loose(oid: string): string {
    return path.join(this.objects, oid.slice(0, 2), oid.slice(2));
  }

  /** A fresh temp file name inside objects/ (same file system as the final place, so rename is atomic). */
  tmpObject(): string {
    return path.join(this.objects, `tmp_obj_${process.pid}_${randomBytes(6).toString('hex')}`);
  }
}
