import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SnapshotStore } from '../snapshots';
import { writeFileAtomic } from '../workspace/atomicFile';
import type { MlopsLayout } from '../workspace/layout';
import { checkData, type DataCheckOptions, type DataCheckReport } from './check';
import { profileTable, type DataProfile } from './profile';
import { openTable, TableError, type TableStream } from './table';

/**
 * Where profiles live: a snapshot's under `.mlops/profiles/` (snapshots are
 * immutable, so its profile never goes stale), a file's or folder's beside it as
 * `<name>.profile.json`.
 */
export function profilePath(layout: MlopsLayout, table: Pick<TableStream, 'label' | 'snapshot'>): string {
  if (table.snapshot) {
    const inside = table.snapshot.inside ? `-${table.snapshot.inside.replace(/[^A-Za-z0-9._-]+/g, '_')}` : '';
    return path.join(layout.dir, 'profiles', `${table.snapshot.id}${inside}.json`);
  }
  return `${path.resolve(layout.root, table.label).replace(/[\\/]+$/, '')}.profile.json`;
}

/** Profiles a file, folder or snapshot and saves the profile where it belongs. */
export async function profileData(layout: MlopsLayout, snapshots: SnapshotStore | undefined, source: string): Promise<{ profile: DataProfile; file: string }> {
  const table = await openTable(source, layout.root, snapshots);
  const { profile } = await profileTable(table);
  const file = profilePath(layout, table);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(profile, null, 1));
  return { profile, file };
}

function readProfile(file: string): DataProfile {
  let value: DataProfile;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8')) as DataProfile;
  } catch (err) {
    throw new TableError(`${file} is not a readable profile (${(err as Error).message}); make it again with: mlops data profile <data>`);
  }
  if (value?.schema !== 1 || !Array.isArray(value.columns)) throw new TableError(`${file} is not a profile made by mlops data profile.`);
  return value;
}

/** The profile to check against: a saved profile (.json), or the saved profile of data, made now if it has none yet. */
export async function referenceProfile(layout: MlopsLayout, snapshots: SnapshotStore | undefined, spec: string): Promise<DataProfile> {
  const abs = path.resolve(layout.root, spec);
  if (abs.endsWith('.json') && fs.existsSync(abs)) return readProfile(abs);
  if (fs.existsSync(abs)) {
    const saved = profilePath(layout, { label: spec });
    if (fs.existsSync(saved) && fs.statSync(saved).mtimeMs >= fs.statSync(abs).mtimeMs) return readProfile(saved);
  } else if (snapshots) {
    const [ref, inside] = spec.split(/:(.*)/s);
    const id = await snapshots.resolve(ref).catch(() => undefined);
    const saved = id && profilePath(layout, { label: spec, snapshot: { id, ...(inside ? { inside } : {}) } });
    if (saved && fs.existsSync(saved)) return readProfile(saved);
  }
  return (await profileData(layout, snapshots, spec)).profile;
}

/** `data check`: new data against a reference (when given), and for personal data. */
export async function checkDataSource(layout: MlopsLayout, snapshots: SnapshotStore | undefined, source: string, against?: string, options?: DataCheckOptions): Promise<DataCheckReport> {
  const reference = against ? await referenceProfile(layout, snapshots, against) : undefined;
  return checkData(await openTable(source, layout.root, snapshots), reference, options);
}
