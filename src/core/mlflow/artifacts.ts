import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { invalidParameter, MlflowError } from './errors';
import { preview } from '../format';

/**
 * A run's artifact folder (`.mlops/runs/<id>/artifacts/`) as the MLflow artifact APIs see it.
 * Every path a client sends is checked here before it touches the disk: no `..`, `.`, empty
 * or absolute segments, no NUL or backslash, and no symbolic link on the way, so nothing is
 * ever read or written outside the run's artifact folder.
 */
export const UPLOAD_PREFIX = '.mlops-upload-';
const MAX_PATH_CHARS = 4096;
const MAX_SEGMENT_BYTES = 255;

export interface FileInfo { path: string; is_dir: boolean; file_size?: number }

/** Splits a relative artifact path into checked segments ('' → none: the root). */
export function artifactSegments(rel: string): string[] {
  if (rel.length > MAX_PATH_CHARS) throw invalidParameter(`Artifact path is ${rel.length} characters long; at most ${MAX_PATH_CHARS} are accepted.`);
  if (rel === '' || rel === '/') return [];
  const trimmed = rel.endsWith('/') ? rel.slice(0, -1) : rel;
  if (trimmed.startsWith('/') || /^[a-zA-Z]:/.test(trimmed)) throw invalidParameter(`Invalid artifact path '${preview(rel)}': it must be relative to the run's artifact root.`);
  const segments = trimmed.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw invalidParameter(`Invalid artifact path '${preview(rel)}': it may not contain empty, '.' or '..' parts.`);
    if (/[\0\\]/.test(s)) throw invalidParameter(`Invalid artifact path '${preview(rel)}': it may not contain NUL or backslash characters.`);
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) throw invalidParameter(`Invalid artifact path '${preview(rel)}': a name is longer than ${MAX_SEGMENT_BYTES} bytes.`);
    if (s.startsWith(UPLOAD_PREFIX)) throw invalidParameter(`Invalid artifact path '${preview(rel)}': names starting with ${UPLOAD_PREFIX} are reserved.`);
  }
  return segments;
}

function conflict(message: string): MlflowError {
  return new MlflowError('RESOURCE_CONFLICT', message);
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Turns a file-system failure caused by the request into an MLflow error; anything else stays an internal error. */
export function fsError(err: unknown, rel: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (err instanceof MlflowError) return err;
  if (code === 'ENOENT') return new MlflowError('RESOURCE_DOES_NOT_EXIST', `No artifact at '${preview(rel)}'.`);
  if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') return conflict(`Artifact path '${preview(rel)}' clashes with an existing file or folder.`);
  if (code === 'ENAMETOOLONG' || code === 'EINVAL' || code === 'EILSEQ') return invalidParameter(`Invalid artifact path '${preview(rel)}' (${code}).`);
  return err as Error;
}

export class RunArtifacts {
  constructor(readonly root: string) {}

  /** The absolute path of `segments`, after checking that no existing part of it is a symbolic link or a file in the way. */
  private existingPath(segments: string[]): string | undefined {
    let p = this.root;
    const rootStat = lstat(p);
    if (!rootStat || !rootStat.isDirectory()) return undefined;
    for (let i = 0; i < segments.length; i++) {
      p = path.join(p, segments[i]);
      const st = lstat(p);
      if (!st) return undefined;
      if (st.isSymbolicLink()) throw conflict(`Artifact path '${segments.slice(0, i + 1).join('/')}' is a symbolic link; it is not followed.`);
      if (i < segments.length - 1 && !st.isDirectory()) return undefined;
    }
    return p;
  }

  /** Creates the folders of `dirSegments` (no links followed) and returns the last one. */
  private makeDirs(dirSegments: string[]): string {
    let p = this.root;
    fs.mkdirSync(p, { recursive: true });
    if (!lstat(p)?.isDirectory()) throw conflict('The run\'s artifact folder is not a plain folder (a symbolic link?); it is not written through.');
    for (let i = 0; i < dirSegments.length; i++) {
      p = path.join(p, dirSegments[i]);
      const st = lstat(p);
      if (!st) {
        fs.mkdirSync(p);
        continue;
      }
      if (st.isSymbolicLink()) throw conflict(`Artifact path '${dirSegments.slice(0, i + 1).join('/')}' is a symbolic link; it is not followed.`);
      if (!st.isDirectory()) throw conflict(`Artifact path '${dirSegments.slice(0, i + 1).join('/')}' is a file, so it cannot hold other artifacts.`);
    }
    return p;
  }

  /**
   * Streams `body` into the file at `segments` (a temporary file renamed into place, so a broken
   * upload leaves nothing half-written). Returns its size and SHA-256.
   */
  async write(segments: string[], body: Readable, maxBytes: number): Promise<{ size: number; sha256: string }> {
    if (segments.length === 0) throw invalidParameter('An artifact upload needs a file path below the run\'s artifact root.');
    const rel = segments.join('/');
    const dir = this.makeDirs(segments.slice(0, -1));
    const target = path.join(dir, segments[segments.length - 1]);
    const existing = lstat(target);
    if (existing && (existing.isDirectory() || existing.isSymbolicLink())) {
      throw conflict(`Artifact path '${rel}' is ${existing.isDirectory() ? 'a folder' : 'a symbolic link'}; a file cannot replace it.`);
    }
    const temp = path.join(dir, `${UPLOAD_PREFIX}${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const out = fs.createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    try {
      await new Promise<void>((resolve, reject) => {
        let failed = false;
        const fail = (err: Error): void => {
          if (failed) return;
          failed = true;
          body.unpipe(out);
          out.destroy();
          reject(err);
        };
        body.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            fail(invalidParameter(`Artifact '${rel}' is larger than the ${maxBytes}-byte limit of this server.`));
            return;
          }
          hash.update(chunk);
        });
        body.on('error', fail);
        body.on('close', () => {
          if (!body.readableEnded) fail(new MlflowError('BAD_REQUEST', `The upload of '${rel}' was aborted by the client.`));
        });
        out.on('error', fail);
        out.on('finish', () => (failed ? undefined : resolve()));
        body.pipe(out);
      });
      fs.renameSync(temp, target);
    } catch (err) {
      fs.rmSync(temp, { force: true });
      throw fsError(err, rel);
    }
    return { size, sha256: hash.digest('hex') };
  }

  /** An existing regular file, for download. */
  file(segments: string[]): { path: string; size: number } {
    const rel = segments.join('/');
    const p = segments.length ? this.existingPath(segments) : undefined;
    const st = p ? lstat(p) : undefined;
    if (!p || !st) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No artifact at '${preview(rel)}'.`);
    if (!st.isFile()) throw invalidParameter(`Artifact '${preview(rel)}' is a folder; list it, then download its files.`);
    return { path: p, size: st.size };
  }

  /** The entries of a folder; a missing path or a file lists nothing (MLflow's behaviour). `prefix` is prepended to each path. */
  list(segments: string[], prefix: (name: string) => string): FileInfo[] {
    const p = this.existingPath(segments);
    if (!p || !lstat(p)?.isDirectory()) return [];
    const out: FileInfo[] = [];
    for (const d of fs.readdirSync(p, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (d.name.startsWith(UPLOAD_PREFIX)) continue;
      if (d.isDirectory()) out.push({ path: prefix(d.name), is_dir: true });
      else if (d.isFile()) out.push({ path: prefix(d.name), is_dir: false, file_size: fs.statSync(path.join(p, d.name)).size });
    }
    return out;
  }

  /** Removes a file or a folder; returns the relative paths of the files removed (none when nothing was there). */
  remove(segments: string[]): string[] {
    if (segments.length === 0) throw invalidParameter('Deleting the whole artifact root is not supported; delete its files or folders.');
    const p = this.existingPath(segments);
    if (!p) return [];
    const removed: string[] = [];
    const walk = (abs: string, rel: string): void => {
      const st = lstat(abs);
      if (!st) return;
      if (st.isDirectory()) {
        for (const name of fs.readdirSync(abs)) walk(path.join(abs, name), `${rel}/${name}`);
      } else if (!path.basename(abs).startsWith(UPLOAD_PREFIX)) removed.push(rel);
    };
    walk(p, segments.join('/'));
    fs.rmSync(p, { recursive: true, force: true });
    return removed;
  }
}
