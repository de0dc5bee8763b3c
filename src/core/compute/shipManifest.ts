import * as fs from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore } from '../snapshots';
import { commandOutput } from '../tracking/capture';
import type { RunInput } from '../tracking/store';
import type { MlopsLayout } from '../workspace/layout';

/** One file of a job: its git blob id, whether it is executable, its place in the job folder and where it is here. */
export interface ShipRow { oid: string; executable: boolean; path: string; file: string }

interface Blob { path: string; oid: string; mode: string }

/**
 * The files a job's code/ folder gets, each by content: the project's files as git sees them
 * (tracked files with their uncommitted changes, plus new files git does not ignore; never the
 * workspace's own `.mlops/`) and the files of the data snapshots the run reads, at their
 * workspace places. Ids are git blob ids, the same ids the data snapshots hold. Regular files
 * only: symbolic links and submodules are not shipped.
 */
export async function shipManifest(layout: MlopsLayout, inputs: RunInput[] = [], extra: string[] = []): Promise<ShipRow[]> {
  const store = await SnapshotStore.open(layout);
  const code = await projectBlobs(layout.root, store, extra);
  const data = inputs.length ? await store.fingerprint(inputs.flatMap((i) => i.paths)) : [];
  const rows = new Map<string, ShipRow>();
  for (const f of [...code, ...data]) {
    if ((f.mode !== '100644' && f.mode !== '100755') || rows.has(f.path)) continue; // data git tracks comes once
    rows.set(f.path, { oid: f.oid, executable: f.mode === '100755', path: `code/${f.path}`, file: path.join(layout.root, ...f.path.split('/')) });
  }
  return [...rows.values()];
}

/**
 * The project's files with their blob ids, reading as little as possible: git's index vouches for
 * tracked files git finds unchanged (its own stat check, in C); changed and new files go through
 * the snapshot store's stat cache, so an unchanged one is not read either. Where git may convert
 * files on checkout (LFS and other filters, line endings) the index can hold other bytes than the
 * working tree, so there every file goes through the stat cache. `extra` workspace paths (a
 * pipeline stage's deps, which git often ignores) are hashed and shipped all the same.
 */
async function projectBlobs(root: string, store: SnapshotStore, extra: string[]): Promise<Blob[]> {
  const git = (...args: string[]) => commandOutput('git', args, root);
  const [indexed, changed, untracked, settings, infoAttributes] = await Promise.all([
    git('ls-files', '-z', '--stage'), git('diff-files', '--name-only', '--relative', '-z'), git('ls-files', '-z', '--others', '--exclude-standard'),
    git('config', '--get-regexp', '^core\\.(autocrlf|attributesfile)$'), git('rev-parse', '--git-path', 'info/attributes'),
  ]);
  if (indexed === undefined || changed === undefined || untracked === undefined) {
    throw new Error(`${root} is not a git repository (or git is missing): a remote run ships the files git tracks. Run "git init" and commit your code, then try again.`);
  }
  const tracked = indexed.split('\0').filter(Boolean).map((row) => {
    const tab = row.indexOf('\t');
    const [mode, oid, stage] = row.slice(0, tab).split(' ');
    return { path: row.slice(tab + 1), oid, mode, stage };
  });
  const attributes = (f: string) => f === '.gitattributes' || f.endsWith('/.gitattributes');
  const converts = /autocrlf (true|input)|attributesfile/i.test(settings ?? '') || hasText(path.resolve(root, (infoAttributes ?? '').trim()))
    || tracked.some((t) => attributes(t.path)) || untracked.split('\0').some(attributes);
  const dirty = new Set(changed.split('\0'));
  const known: Blob[] = [];
  const toHash = new Set([...untracked.split('\0'), ...extra.flatMap((p) => filesUnder(root, p))]);
  for (const t of tracked) {
    if (converts || dirty.has(t.path) || t.stage !== '0') toHash.add(t.path); // what the working tree holds: changed, mid-merge, converted
    else known.push(t);
  }
  const listed = [...toHash].filter((f) => f && !f.startsWith('.mlops/') && isFile(path.join(root, f))); // deleted but still tracked: nothing to ship
  const hashed = listed.length ? await store.fingerprintListed(listed) : [];
  return [...known.filter((b) => !b.path.startsWith('.mlops/')), ...hashed];
}

function hasText(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

/** The files at a workspace path (a file, or a folder's files at any depth) as paths from the root; none when it is missing. */
function filesUnder(root: string, rel: string): string[] {
  const full = path.join(root, rel);
  if (isFile(full)) return [rel];
  try {
    return fs.readdirSync(full, { recursive: true, encoding: 'utf8' })
      .map((f) => `${rel}/${f.split(path.sep).join('/')}`)
      .filter((f) => isFile(path.join(root, f)));
  } catch {
    return [];
  }
}

function isFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The manifest runner.py materialize reads: a row per file, `<blob id> <644|755> <path in the job>`
 * ending in a NUL byte, the one byte no name can hold (a name may hold tabs, newlines, quotes).
 */
export function manifestText(rows: ShipRow[]): string {
  return rows.map((r) => `${r.oid} ${r.executable ? '755' : '644'} ${r.path}\0`).join('');
}
