import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where everything of one workspace lives under `.mlops/` (see DESIGN.md, "Where data lives"). */
export class MlopsLayout {
  constructor(readonly root: string) {}

  get dir(): string { return path.join(this.root, '.mlops'); }
  get runsDir(): string { return path.join(this.dir, 'runs'); }
  get trackingDb(): string { return path.join(this.dir, 'tracking.db'); }
  get trackingLock(): string { return path.join(this.dir, 'tracking.lock'); }
  /** Caches and indexes that can be rebuilt (metric histories, the snapshot stat cache, drift references). */
  get indexDir(): string { return path.join(this.dir, 'index'); }
  /** Metric histories: an index like tracking.db, rebuilt from the event logs. */
  get historyDir(): string { return path.join(this.indexDir, 'history'); }

  runDir(runId: string): string { return path.join(this.runsDir, runId); }
  eventsFile(runId: string): string { return path.join(this.runDir(runId), 'events.jsonl'); }
  artifactsDir(runId: string): string { return path.join(this.runDir(runId), 'artifacts'); }
  runHistoryDir(runId: string): string { return path.join(this.historyDir, runId); }

  ensure(): void {
    fs.mkdirSync(this.runsDir, { recursive: true });
  }

  /**
   * Throws a NotAWorkspaceError unless the root is a folder holding `.mlops/` or `mlops.yaml`:
   * what readers check instead of `ensure()`, so that reading never creates anything.
   */
  requireWorkspace(): void {
    let isFolder: boolean;
    try {
      isFolder = fs.statSync(this.root).isDirectory();
    } catch {
      throw new NotAWorkspaceError(`${this.root} does not exist. Give the project folder with --workspace DIR.`);
    }
    if (!isFolder) throw new NotAWorkspaceError(`${this.root} is not a folder. Give the project folder with --workspace DIR.`);
    if (fs.existsSync(this.dir) || fs.existsSync(path.join(this.root, 'mlops.yaml'))) return;
    throw new NotAWorkspaceError(`${this.root} is not a workspace (no .mlops/ or mlops.yaml there). Start a tracked run there (mlops run -- python3 train.py) or create an mlops.yaml, or give the project folder with --workspace DIR.`);
  }

  /** Layout for the given `.mlops` folder itself (as passed in MLOPS_DIR). */
  static fromMlopsDir(mlopsDir: string): MlopsLayout {
    return new MlopsLayout(path.dirname(path.resolve(mlopsDir)));
  }
}

/** Whether a file system error means the disk or folder takes no writes (read-only, no permission). */
export function isReadOnlyError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EROFS' || code === 'EACCES' || code === 'EPERM';
}

/** Whether `dir` exists and this process may create files in it (false on a read-only disk). */
export function isWritableFolder(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Reading a folder that is not an MLOps workspace; nothing was created there. */
export class NotAWorkspaceError extends Error {}

/** Finds the workspace root: the nearest folder upwards holding `.mlops/` or `mlops.yaml`, else `start`. */
export function findWorkspaceRoot(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, '.mlops')) || fs.existsSync(path.join(dir, 'mlops.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}
