import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { SnapshotError } from './types';

/** The gitignore-syntax file at the workspace root that keeps paths out of snapshots. */
export const IGNORE_FILE = '.mlopsignore';

/** Folder names never snapshotted, wherever they are: git metadata, and the workspace's own `.mlops`. */
const NEVER = new Set(['.git']);

/** '/'-separated path relative to the workspace root; '.' for the root itself. */
export function toRel(root: string, abs: string): string {
  const rel = path.relative(root, abs);
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}

function isOutside(rel: string): boolean {
  return rel === '..' || rel.startsWith('../') || path.isAbsolute(rel);
}

/** Whether `abs` (a resolved absolute path) lies inside `root` (also resolved). */
export function isInside(root: string, abs: string): boolean {
  return !isOutside(path.relative(root, abs).split(path.sep).join('/'));
}

/**
 * The rules deciding what a snapshot may hold: the workspace root, its real path (symlinks
 * resolved) and the `.mlopsignore` patterns.
 */
export class Selection {
  readonly realRoot: string;
  private readonly ig: Ignore;
  private hasRules = false;
  /** Digest of the .mlopsignore text ('' without one): what a record of a selection was made under. */
  readonly rulesDigest: string = '';

  constructor(readonly root: string) {
    this.root = path.resolve(root);
    this.realRoot = fs.realpathSync(this.root);
    this.ig = ignore({ ignorecase: process.platform !== 'linux' });
    try {
      const text = fs.readFileSync(path.join(this.root, IGNORE_FILE), 'utf8');
      this.ig.add(text);
      this.rulesDigest = createHash('sha1').update(text).digest('hex');
      this.hasRules = text.split(/\r?\n/).some((l) => l.trim() && !l.startsWith('#'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new SnapshotError(`Could not read ${IGNORE_FILE} at the workspace root (${(err as Error).message}); fix its permissions or remove it.`, 'unreadable');
      }
    }
  }

  /** True for paths a snapshot never holds (.git folders, the workspace's .mlops) or that .mlopsignore excludes. */
  excluded(rel: string, isDir: boolean): boolean {
    if (rel === '.') return false;
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (NEVER.has(name) || rel === '.mlops' || rel.startsWith('.mlops/')) return true;
    return this.hasRules && this.ig.ignores(isDir ? rel + '/' : rel);
  }

  /**
   * Normalises the chosen paths (absolute, or relative to the workspace root): each must lie
   * inside the workspace, exist, and not be excluded. Returns sorted workspace-relative paths,
   * without any that lie inside another chosen folder.
   */
  normalise(paths: string[]): string[] {
    if (!paths.length) {
      throw new SnapshotError('Nothing to snapshot: no paths were chosen. Pick files or folders of the workspace, or list them under data: and models: in mlops.yaml.', 'nothing-to-snapshot');
    }
    const rels = new Set<string>();
    for (const p of paths) {
      if (typeof p !== 'string' || !p.trim()) throw new SnapshotError('Nothing to snapshot: an empty path was chosen. Pick files or folders of the workspace.', 'nothing-to-snapshot');
      const abs = path.resolve(this.root, p);
      const rel = toRel(this.root, abs);
      if (isOutside(rel)) {
        throw new SnapshotError(`"${p}" is outside the workspace ${this.root}; snapshots hold only workspace files. Copy or move it into the workspace first.`, 'outside-workspace');
      }
      // A chosen path below a symlinked folder would read files from wherever the link points.
      let realParent = this.realRoot;
      try {
        if (rel !== '.') realParent = fs.realpathSync(path.dirname(abs));
      } catch {
        throw new SnapshotError(`"${p}" does not exist in the workspace; check the path (or mlops.yaml).`, 'not-found');
      }
      if (!isInside(this.realRoot, realParent)) {
        throw new SnapshotError(`"${p}" lies below a symbolic link to ${realParent}, outside the workspace; snapshots hold only workspace files. Choose the real folder inside the workspace, or copy the data into it.`, 'symlink-outside');
      }
      let st: fs.Stats;
      try {
        st = fs.lstatSync(abs);
      } catch {
        throw new SnapshotError(`"${p}" does not exist in the workspace; check the path (or mlops.yaml).`, 'not-found');
      }
      if (rel === '.mlops' || rel.startsWith('.mlops/') || rel.split('/').includes('.git')) {
        throw new SnapshotError(`"${p}" is ${rel.split('/').includes('.git') ? 'git metadata' : 'the workspace\'s own .mlops folder'}, which snapshots never hold; choose data or model paths instead.`, 'ignored');
      }
      if (rel !== '.' && this.excludedPath(rel, st.isDirectory())) {
        throw new SnapshotError(`"${rel}" is excluded by ${IGNORE_FILE}; remove the matching pattern there to snapshot it, or choose another path.`, 'ignored');
      }
      rels.add(rel);
    }
    const sorted = [...rels].sort();
    if (sorted.includes('.')) return ['.'];
    return sorted.filter((r) => !sorted.some((o) => o !== r && r.startsWith(o + '/')));
  }

  /** excluded(), for a path whose folders were not judged on the way down. */
  excludedPath(rel: string, isDir: boolean): boolean {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (this.excluded(parts.slice(0, i).join('/'), true)) return true;
    return this.excluded(rel, isDir);
  }
}
