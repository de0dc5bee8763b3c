import * as path from 'node:path';
import { SnapshotStore } from '../snapshots';
import type { RunInput } from '../tracking/store';
import type { MlopsLayout } from '../workspace/layout';
import { projectFiles } from './jobFiles';

/** One file of a job: its git blob id, whether it is executable, its place in the job folder and where it is here. */
export interface ShipRow { oid: string; executable: boolean; path: string; file: string }

/**
 * The files a job's code/ folder gets, each by content: the project's files as git sees them
 * (see projectFiles) and the files of the data snapshots the run reads, at their workspace
 * places. Ids come through the snapshot store's stat cache, so an unchanged file is not read;
 * they are git blob ids, the same ids the data snapshots hold. Symbolic links are not shipped.
 */
export async function shipManifest(layout: MlopsLayout, inputs: RunInput[] = []): Promise<ShipRow[]> {
  const store = await SnapshotStore.open(layout);
  const code = await store.fingerprintListed(await projectFiles(layout.root));
  const data = inputs.length ? await store.fingerprint(inputs.flatMap((i) => i.paths)) : [];
  const rows = new Map<string, ShipRow>();
  for (const f of [...code, ...data]) {
    if (f.mode === '120000' || rows.has(f.path)) continue; // data git tracks comes once
    rows.set(f.path, { oid: f.oid, executable: f.mode === '100755', path: `code/${f.path}`, file: path.join(layout.root, ...f.path.split('/')) });
  }
  return [...rows.values()];
}

/**
 * The manifest runner.py materialize reads: a line per file, `<blob id> TAB <644|755> TAB <path as a
 * JSON string>`; JSON keeps tabs, newlines and any other character of a name on one line.
 */
export function manifestText(rows: ShipRow[]): string {
  return rows.map((r) => `${r.oid}\t${r.executable ? '755' : '644'}\t${JSON.stringify(r.path)}\n`).join('');
}
