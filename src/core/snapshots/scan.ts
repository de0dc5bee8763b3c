import * as fs from 'node:fs';
import * as path from 'node:path';
import { isInside, Selection } from './selection';
import { statKey, type StatKey } from './statCache';
import type { BlobEntry, TreeEntry } from './trees';
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
  /** Files the stat cache knows unchanged, with their blob, outside unchanged folders. */
  known: BlobEntry[];
  /** Folders in which nothing changed since their tree was recorded: the tree is reused whole. */
  trees: TreeEntry[];
  /** All files found (in unchanged folders too). */
  fileCount: number;
  /** Bytes of all files found, and of those whose blob is known (not read). */
  totalBytes: number;
  knownBytes: number;
}

/** What the stat cache tells a scan (absent: every file is read). */
export interface ScanCache {
  /** Whether a regular file's stat is unchanged since its blob was recorded. */
  unchanged(rel: string, st: StatKey): boolean;
  /** The blob recorded for a file found unchanged. */
  blob(rel: string): string;
  /** Whether the store holds that blob (a cached id may come from a file only hashed). */
  stored(oid: string): boolean;
  /** The tree recorded for a folder and its number of entries, while nothing recorded under it changed. */
  tree(rel: string): { oid: string; entries: number } | undefined;
}

/** A file the cache knows unchanged, kept with its stat until its folder is judged (its blob id is looked up only then). */
interface KnownFile { rel: string; abs: string; st: fs.Stats; mode: SnapshotFileMode }

/**
 * Walks the chosen paths (already normalised by Selection), honouring exclusions. Symbolic
 * links are kept as links (git mode 120000, like `git add`), never followed; one whose
 * target lies outside the workspace is refused. Empty folders are not kept (git has no
 * tree entry for them). Anything that is not a file, folder or link is refused.
 *
 * A folder whose files are all known to the cache, with as many entries as its recorded
 * tree and only unchanged folders below it, is that tree: an unchanged re-snapshot builds
 * no tree object and asks the store about no blob in it.
 */
export async function scanSelection(
  sel: Selection,
  rels: string[],
  onFile: (files: number, bytes: number) => void,
  signal: AbortSignal | undefined,
  cache?: ScanCache,
): Promise<ScanResult> {
  const files: ScannedFile[] = [];
  const known: BlobEntry[] = [];
  const trees: TreeEntry[] = [];
  let fileCount = 0;
  let totalBytes = 0;
  let knownBytes = 0;
  const pause = yielder();
  const found = (bytes: number): void => {
    totalBytes += bytes;
    if (++fileCount % 256 === 0) onFile(fileCount, totalBytes);
  };
  const keep = (f: KnownFile): void => {
    const oid = cache!.blob(f.rel);
    if (cache!.stored(oid)) {
      known.push({ path: f.rel, oid, mode: f.mode });
      knownBytes += f.st.size;
    } else {
      files.push({ rel: f.rel, abs: f.abs, mode: f.mode, key: statKey(f.st) });
    }
  };
  /** A file or link (never a folder): returns it when the cache knows its blob, else queues it to be read. */
  const take = (rel: string, abs: string, st: fs.Stats): KnownFile | undefined => {
    if (st.isFile()) {
      const mode = st.mode & 0o100 ? '100755' : '100644';
      found(st.size);
      // fs.Stats has the fields the cache keys on: asked as it is, an unchanged file costs no copy.
      if (cache?.unchanged(rel, st)) return { rel, abs, st, mode };
      files.push({ rel, abs, mode, key: statKey(st) });
    } else if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = fs.readlinkSync(abs);
      } catch (err) {
        throw unreadable(rel, err);
      }
      checkLinkTarget(sel, rel, abs, target);
      files.push({ rel, abs, mode: '120000', key: { ...statKey(st), size: Buffer.byteLength(target) }, linkTarget: target });
      found(Buffer.byteLength(target));
    } else {
      const kind = st.isFIFO() ? 'a named pipe (FIFO)' : st.isSocket() ? 'a socket' : 'a device file';
      throw new SnapshotError(`"${rel}" is ${kind}, which cannot be snapshotted (snapshots hold files, folders and symbolic links). Remove it, or exclude it in .mlopsignore.`, 'special-file');
    }
    return undefined;
  };
  /** Scans a folder; says whether it holds anything (an empty folder has no tree entry) and whether its recorded tree stands. */
  const walk = async (rel: string, abs: string): Promise<{ empty: boolean; unchanged: boolean }> => {
    await pause();
    throwIfAborted(signal, 'The snapshot');
    let names: string[];
    try {
      // Names only: every entry is lstat'ed anyway, so no Dirent objects (10,000s of them).
      names = fs.readdirSync(abs);
    } catch (err) {
      throw unreadable(rel, err);
    }
    names.sort();
    const recorded = cache?.tree(rel);
    let unchanged = recorded !== undefined;
    let count = 0;
    const knownHere: KnownFile[] = [];
    const folders: { rel: string; abs: string }[] = [];
    for (const name of names) {
      const childRel = rel === '.' ? name : `${rel}/${name}`;
      const childAbs = abs + path.sep + name;
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(childAbs, { throwIfNoEntry: false });
      } catch (err) {
        if (sel.excluded(childRel, false) || sel.excluded(childRel, true)) continue; // excluded: never read
        throw unreadable(childRel, err);
      }
      if (!st) continue; // removed while we looked
      const isDir = st.isDirectory();
      if (sel.excluded(childRel, isDir)) continue;
      if (isDir) {
        folders.push({ rel: childRel, abs: childAbs });
        continue;
      }
      count++;
      const k = take(childRel, childAbs, st);
      if (!k) unchanged = false;
      else if (unchanged) knownHere.push(k);
      else keep(k);
    }
    const treesBefore = trees.length;
    for (const f of folders) {
      const sub = await walk(f.rel, f.abs);
      if (sub.empty) continue;
      count++;
      if (!sub.unchanged) unchanged = false;
    }
    unchanged &&= count === recorded!.entries;
    if (unchanged) {
      trees.length = treesBefore; // the subfolders' trees are inside this one
      trees.push({ path: rel, oid: recorded!.oid });
      for (const k of knownHere) knownBytes += k.st.size;
    } else {
      for (const k of knownHere) keep(k);
    }
    return { empty: count === 0, unchanged };
  };
  for (const rel of rels) {
    const abs = rel === '.' ? sel.root : path.join(sel.root, ...rel.split('/'));
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch (err) {
      throw unreadable(rel, err);
    }
    if (st.isDirectory()) {
      await walk(rel, abs);
    } else {
      const k = take(rel, abs, st);
      if (k) keep(k);
    }
  }
  onFile(fileCount, totalBytes);
  return { files, known, trees, fileCount, totalBytes, knownBytes };
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
