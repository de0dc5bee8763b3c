/** One snapshot: a commit in `.mlops/snapshots.git` (see docs/snapshots.md). */
export interface SnapshotInfo {
  /** The commit id (40 hex). */
  id: string;
  message: string;
  /** Commit time in milliseconds since the epoch (git keeps whole seconds). */
  time: number;
  author: string;
  /** The workspace-relative paths that were chosen ('/' separators; '.' is the whole workspace). */
  paths: string[];
  fileCount: number;
  totalBytes: number;
  /** Tag names pointing at this snapshot. */
  tags: string[];
  /** The previous snapshot on the same chain, if any. */
  parent?: string;
  /** True when `snapshot(…, { reuseUnchanged: true })` returned an existing snapshot instead of a new one. */
  reused?: boolean;
  /** Set (to the problem) in `list()` for a snapshot whose commit cannot be read; the other fields are empty. */
  damaged?: string;
}

/** The git file mode of an entry: regular file, executable file or symbolic link. */
export type SnapshotFileMode = '100644' | '100755' | '120000';

export interface SnapshotFile {
  /** Workspace-relative, '/' separators. */
  path: string;
  /** Bytes of content (for a symbolic link: the length of its target text). */
  size: number;
  /** The git blob id. */
  blob: string;
  mode: SnapshotFileMode;
}

export interface SnapshotDiff {
  added: SnapshotFile[];
  removed: SnapshotFile[];
  changed: { path: string; before: SnapshotFile; after: SnapshotFile }[];
}

export interface SnapshotProgress {
  phase: 'scan' | 'write' | 'commit';
  files: number;
  totalFiles?: number;
  bytes: number;
  totalBytes?: number;
}

export interface SnapshotOptions {
  message: string;
  onProgress?: (p: SnapshotProgress) => void;
  signal?: AbortSignal;
  /** "Name <email>" or "Name"; default: the OS user at this host. */
  author?: string;
  /**
   * When the newest snapshot of exactly these paths has the same content, return it
   * (with `reused: true`) instead of adding an identical commit. Default false.
   */
  reuseUnchanged?: boolean;
  /**
   * Take the paths from this folder instead of the workspace (relative to it): a run's
   * artifacts under .mlops, or a file outside the workspace, registered as a model.
   */
  from?: string;
}

export interface RestoreOptions {
  /** Restore into this folder (absolute, or relative to the workspace root); it must be empty or new. */
  to?: string;
  /** In place only: replace workspace files that exist and differ. Without it such files are only reported. */
  overwrite?: boolean;
  signal?: AbortSignal;
}

export interface RestoreResult {
  /** Paths written (relative to the restore folder: the workspace, or `to`). */
  written: string[];
  /** In place without `overwrite`: the files that exist and differ; nothing was changed. */
  wouldOverwrite: string[];
  /** In place with `overwrite`: the existing files that were replaced. */
  overwritten: string[];
}

export interface RemoteOptions {
  /** Extra HTTP headers, e.g. `{ Authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface PushResult {
  /** Remote refs that were created or moved. */
  updated: string[];
  /**
   * False when the remote's `refs/heads/snapshots` holds another chain (someone else pushed
   * theirs); the snapshots themselves were still pushed under `refs/snapshots/<id>`.
   */
  chainPushed: boolean;
}

export type SnapshotErrorCode =
  | 'outside-workspace'
  | 'not-found'
  | 'ignored'
  | 'symlink-outside'
  | 'unreadable'
  | 'special-file'
  | 'changed-while-reading'
  | 'nothing-to-snapshot'
  | 'corrupt-object'
  | 'unknown-snapshot'
  | 'ambiguous-snapshot'
  | 'unknown-file'
  | 'bad-tag-name'
  | 'tag-exists'
  | 'target-not-empty'
  | 'restore-conflict'
  | 'cancelled'
  | 'locked'
  | 'broken-chain'
  | 'disk-full'
  | 'remote';

/** A problem the user can fix: the message names the thing and the fix. Nothing stored is lost when one is thrown. */
export class SnapshotError extends Error {
  constructor(message: string, readonly code?: SnapshotErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SnapshotError';
  }
}

export function cancelled(what: string): SnapshotError {
  return new SnapshotError(`${what} was cancelled; nothing was changed.`, 'cancelled');
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw cancelled(what);
}
