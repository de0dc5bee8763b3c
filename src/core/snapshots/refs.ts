import * as fs from 'node:fs';
import * as path from 'node:path';
import git from 'isomorphic-git';
import { FileLock, LockBusyError } from '../workspace/fileLock';
import { tempBeside } from './gitFs';
import type { GitContext } from './trees';
import { SnapshotError } from './types';

/**
 * Ref layout of `.mlops/snapshots.git`:
 *   refs/heads/snapshots   the chain of this workspace's snapshots (HEAD points here), so
 *                          `git log` lists them and `git clone` checks out the newest
 *   refs/snapshots/<id>    one ref per snapshot, made here or fetched: what `list` shows and
 *                          what push/fetch exchange (ids never collide, so refs never conflict)
 *   refs/tags/<name>       lightweight tags
 */
export const CHAIN_REF = 'refs/heads/snapshots';
export const SNAPSHOT_REFS = 'refs/snapshots';
export const snapshotRef = (id: string): string => `${SNAPSHOT_REFS}/${id}`;
export const tagRef = (name: string): string => `refs/tags/${name}`;

export async function resolveRefOrUndefined(ctx: GitContext, ref: string): Promise<string | undefined> {
  try {
    return await git.resolveRef({ fs: ctx.fs, gitdir: ctx.gitdir, ref });
  } catch {
    return undefined;
  }
}

/**
 * Points a ref at a commit as a loose ref file, written to a temp file and renamed: what git and
 * isomorphic-git write, without isomorphic-git's ~2 ms of checks per ref (a snapshot moves two,
 * which an unchanged re-snapshot noticed). Call with the write lock held.
 */
export function writeLooseRef(gitdir: string, ref: string, id: string): void {
  const file = path.join(gitdir, ...ref.split('/'));
  const tmp = tempBeside(file);
  try {
    fs.writeFileSync(tmp, `${id}\n`);
    fs.renameSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || fs.existsSync(path.dirname(file))) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true }); // the first ref of its folder
    writeLooseRef(gitdir, ref, id);
  }
}

/** Whether the chain ref exists at all (loose or packed), whatever it holds. */
export async function chainRefExists(ctx: GitContext): Promise<boolean> {
  const heads = await git.listRefs({ fs: ctx.fs, gitdir: ctx.gitdir, filepath: 'refs/heads' });
  return heads.includes(CHAIN_REF.slice('refs/heads/'.length));
}

/** Ids of all snapshots with a ref. */
export async function snapshotIds(ctx: GitContext): Promise<string[]> {
  const names = await git.listRefs({ fs: ctx.fs, gitdir: ctx.gitdir, filepath: SNAPSHOT_REFS });
  return names.filter((n) => /^[0-9a-f]{40}$/.test(n));
}

/** Tag name → the commit it points at (annotated tags peeled). */
export async function tagTargets(ctx: GitContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await git.listTags({ fs: ctx.fs, gitdir: ctx.gitdir })) {
    const oid = await resolveRefOrUndefined(ctx, tagRef(name));
    if (!oid) continue;
    out.set(name, await peel(ctx, oid));
  }
  return out;
}

async function peel(ctx: GitContext, oid: string): Promise<string> {
  for (let i = 0; i < 10; i++) {
    try {
      const { tag } = await git.readTag({ fs: ctx.fs, gitdir: ctx.gitdir, oid, cache: ctx.cache });
      oid = tag.object;
    } catch {
      return oid; // not a tag object: a commit
    }
  }
  return oid;
}

/** Checks a tag name against git's ref-name rules, and keeps hex names free for snapshot ids. */
export function checkTagName(name: string): void {
  const bad =
    !name ||
    name.length > 200 ||
    /[\x00-\x20\x7f~^:?*[\\]/.test(name) ||
    name.includes('..') ||
    name.includes('@{') ||
    name === '@' ||
    name.startsWith('-') ||
    name.startsWith('/') ||
    name.endsWith('/') ||
    name.endsWith('.') ||
    name.split('/').some((c) => !c || c.startsWith('.') || c.endsWith('.lock'));
  if (bad) {
    throw new SnapshotError(`"${name}" is not a valid tag name: use letters, digits, '.', '-', '_' and '/' (no spaces, no "..", not starting with '-' or '.').`, 'bad-tag-name');
  }
  if (/^[0-9a-f]{4,40}$/.test(name)) {
    throw new SnapshotError(`"${name}" looks like a snapshot id; pick a tag name that is not only hex digits (e.g. "v-${name}").`, 'bad-tag-name');
  }
}

/**
 * Takes the write lock of one snapshots.git: held while the chain and the refs move (seconds
 * at most), so two processes snapshotting at once both land on the chain. A lock left by a
 * process that died on this host is taken over (see FileLock).
 */
export async function acquireWriteLock(file: string, waitMs = 30_000): Promise<FileLock> {
  try {
    return await FileLock.acquireAsync(file, waitMs);
  } catch (err) {
    if (!(err instanceof LockBusyError)) throw err;
    throw new SnapshotError(`The snapshot store is busy: ${file} is held by another process. Wait for it to finish; if no mlops process is running, delete that file.`, 'locked', { cause: err });
  }
}
