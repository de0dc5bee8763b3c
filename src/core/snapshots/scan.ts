import * as fs from 'node:fs';
import * as path from 'node:path';
import { isInside, Selection } from './selection';
import { statKey, type StatKey } from './statCache';
import type { BlobEntry } from './trees';
import { SnapshotError, throwIfAborted } from './types';
import { yielder } from './yielder';
import type { SnapshotFileMode } from './types';

/** A file found in the selection, with the stat the stat cache keys on. */
export interface ScannedFile {
  rel: string;
  abs: string;
  mode: SnapshotFileMode;
  /** The lstat fields the stat cache keys on (size is the content size). */
  key: StatKey;
  /** For symbolic links: the link's target text (its blob content). */
  linkTarget?: string;
}

export interface ScanResult {
  /** Files whose blob is not known: they are read. */
  files: ScannedFile[];
  /** Files the stat cache knows unchanged, with their blob (no object per file beyond this). */
  known: BlobEntry[];
  /** Bytes of all files found (known ones included), and of the known ones. */
  totalBytes: number;
  knownBytes: number;
}

/** The stat cache's answer for a regular file: its blob id while its stat is unchanged. */
export type KnownBlob = (rel: string, st: StatKey) => string | undefined;

/**
 * Walks the chosen paths (already normalised by Selection), honouring exclusions. Symbolic
 * links are kept as links (git mode 120000, like `git add`), never followed; one whose
 * target lies outside the workspace is refused. Empty folders are not kept (git has no
 * tree entry for them). Anything that is not a file, folder or link is refused.
 */
export async function scanSelection(
  sel: Selection,
  rels: string[],
  onFile: (files: number, bytes: number) => void,
  signal: AbortSignal | undefined,
  knownBlob?: KnownBlob,
): Promise<ScanResult> {
  const files: ScannedFile[] = [];
  const known: BlobEntry[] = [];
  let totalBytes = 0;
  let knownBytes = 0;
  const pause = yielder();
  // Depth first with an explicit stack, so the walk can pause between folders. Folders found
  // by readdir carry no stat (their type comes with the name); everything else is lstat'ed once.
  const stack: { rel: string; abs: string; st: fs.Stats | undefined }[] = [];
  for (const rel of [...rels].reverse()) {
    const abs = rel === '.' ? sel.root : path.join(sel.root, ...rel.split('/'));
    try {
      stack.push({ rel, abs, st: fs.lstatSync(abs) });
    } catch (err) {
      throw unreadable(rel, err);
    }
  }
  while (stack.length) {
    const { rel, abs, st: listed } = stack.pop()!;
    if (!listed || listed.isDirectory()) {
      await pause();
      throwIfAborted(signal, 'The snapshot');
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(abs, { withFileTypes: true });
      } catch (err) {
        throw unreadable(rel, err);
      }
      entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
      for (const entry of entries) {
        const name = entry.name;
        const childRel = rel === '.' ? name : `${rel}/${name}`;
        const isDir = entry.isDirectory();
        if (sel.excluded(childRel, isDir)) continue;
        const childAbs = abs + path.sep + name;
        if (isDir) {
          stack.push({ rel: childRel, abs: childAbs, st: undefined });
          continue;
        }
        let cst: fs.Stats | undefined;
        try {
          cst = fs.lstatSync(childAbs, { throwIfNoEntry: false });
        } catch (err) {
          throw unreadable(childRel, err);
        }
        if (!cst) continue; // removed while we looked
        // A folder put in place of a file since readdir is read as a folder.
        stack.push({ rel: childRel, abs: childAbs, st: cst.isDirectory() ? undefined : cst });
      }
      continue;
    }
    const st = listed;
    if (st.isFile()) {
      const mode = st.mode & 0o100 ? '100755' : '100644';
      // fs.Stats has the fields the cache keys on: asked as it is, an unchanged file costs no copy.
      const oid = knownBlob?.(rel, st);
      if (oid) {
        known.push({ path: rel, oid, mode });
        knownBytes += st.size;
      } else {
        files.push({ rel, abs, mode, key: statKey(st) });
      }
      totalBytes += st.size;
    } else if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = fs.readlinkSync(abs);
      } catch (err) {
        throw unreadable(rel, err);
      }
      checkLinkTarget(sel, rel, abs, target);
      files.push({ rel, abs, mode: '120000', key: { ...statKey(st), size: Buffer.byteLength(target) }, linkTarget: target });
      totalBytes += Buffer.byteLength(target);
    } else {
      const kind = st.isFIFO() ? 'a named pipe (FIFO)' : st.isSocket() ? 'a socket' : 'a device file';
      throw new SnapshotError(`"${rel}" is ${kind}, which cannot be snapshotted (snapshots hold files, folders and symbolic links). Remove it, or exclude it in .mlopsignore.`, 'special-file');
    }
    const found = files.length + known.length;
    if (found % 256 === 0) onFile(found, totalBytes);
  }
  onFile(files.length + known.length, totalBytes);
  return { files, known, totalBytes, knownBytes };
}

function checkLinkTarget(sel: Selection, rel: string, abs: string, target: string): void {
  const lexical = path.resolve(path.dirname(abs), target);
  let real = lexical;
  try {
    real = fs.realpathSync(lexical);
  } catch {
    // dangling: judge by where it would point
  }
  const inside = isInside(sel.root, lexical) && (isInside(sel.realRoot, real) || isInside(sel.root, real));
  if (!inside) {
    throw new SnapshotError(`"${rel}" is a symbolic link to ${target}, outside the workspace; snapshots hold only workspace files. Replace the link with a copy of what it points to, or exclude it in .mlopsignore.`, 'symlink-outside');
  }
}

export function unreadable(rel: string, err: unknown): SnapshotError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return new SnapshotError(`"${rel}" disappeared while it was being snapshotted; run the snapshot again when nothing is writing to it.`, 'changed-while-reading', { cause: err });
  const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.message;
  return new SnapshotError(`Cannot read "${rel}" (${why}); give yourself read access (e.g. chmod u+r), or exclude it in .mlopsignore.`, 'unreadable', { cause: err });
}
