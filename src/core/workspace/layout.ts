import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where everything of one workspace lives under `.mlops/` (see DESIGN.md, "Where data lives"). */
export class MlopsLayout {
  constructor(readonly root: string) {}

  get dir(): string { return path.join(this.root, '.mlops'); }
  get runsDir(): string { return path.join(this.dir, 'runs'); }
  get trackingDb(): string { return path.join(this.dir, 'tracking.db'); }
  get trackingLock(): string { return path.join(this.dir, 'tracking.lock'); }
  /** Metric histories: an index like tracking.db, rebuilt from the event logs. */
  get historyDir(): string { return path.join(this.dir, 'index', 'history'); }

  runDir(runId: string): string { return path.join(this.runsDir, runId); }
  eventsFile(runId: string): string { return path.join(this.runDir(runId), 'events.jsonl'); }
  artifactsDir(runId: string): string { return path.join(this.runDir(runId), 'artifacts'); }
  runHistoryDir(runId: string): string { return path.join(this.historyDir, runId); }

  ensure(): void {
    fs.mkdirSync(this.runsDir, { recursive: true });
  }

  /** Layout for the given `.mlops` folder itself (as passed in MLOPS_DIR). */
  static fromMlopsDir(mlopsDir: string): MlopsLayout {
    return new MlopsLayout(path.dirname(path.resolve(mlopsDir)));
  }
}

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
