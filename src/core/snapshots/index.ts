// Data and model snapshots in a git object store (.mlops/snapshots.git). See docs/snapshots.md.
export { SnapshotStore, snapshotsGitDir, statCacheFile } from './snapshotStore';
export { IGNORE_FILE } from './selection';
export { CHAIN_REF, checkTagName, SNAPSHOT_REFS } from './refs';
export {
  SnapshotError,
  type PushResult,
  type RemoteOptions,
  type RestoreOptions,
  type RestoreResult,
  type SnapshotDiff,
  type SnapshotErrorCode,
  type SnapshotFile,
  type SnapshotFileMode,
  type SnapshotInfo,
  type SnapshotOptions,
  type SnapshotProgress,
} from './types';
