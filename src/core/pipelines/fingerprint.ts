import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SnapshotStore } from '../snapshots';
import type { StageLock } from './lockFile';

export const MISSING = 'missing';

/**
 * A digest per path of the files under it (their paths, modes and blob ids), or MISSING.
 * The blob ids come through the snapshot store's stat cache: an unchanged file is not read.
 */
export async function pathDigests(store: SnapshotStore, root: string, paths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const present = paths.filter((p) => {
    try {
      fs.lstatSync(path.join(root, ...p.split('/')));
      return true;
    } catch {
      out[p] = MISSING;
      return false;
    }
  });
  const files = present.length ? await store.fingerprint(present) : [];
  for (const p of present) {
    const hash = createHash('sha256');
    for (const f of files) if (f.path === p || f.path.startsWith(p + '/')) hash.update(`${f.path}\0${f.mode}\0${f.oid}\n`);
    out[p] = hash.digest('hex');
  }
  return out;
}

/** Why a stage must run again, measured against its lock entry: cmd, deps and params only. */
export function inputChanges(cmd: string, deps: Record<string, string>, params: Record<string, string>, lock: StageLock | undefined): string[] {
  if (!lock) return ['never run'];
  const reasons: string[] = [];
  if (lock.cmd !== cmd) reasons.push('cmd changed');
  for (const [p, digest] of Object.entries(deps)) {
    if (digest === MISSING) reasons.push(`dep "${p}" is missing`);
    else if (!(p in lock.deps)) reasons.push(`dep "${p}" is new`);
    else if (lock.deps[p] !== digest) reasons.push(`dep "${p}" changed`);
  }
  for (const p of Object.keys(lock.deps)) if (!(p in deps)) reasons.push(`dep "${p}" was removed`);
  for (const [k, v] of Object.entries(params)) {
    if (!(k in lock.params)) reasons.push(`param "${k}" is new`);
    else if (lock.params[k] !== v) reasons.push(`param "${k}" changed (${lock.params[k]} → ${v})`);
  }
  for (const k of Object.keys(lock.params)) if (!(k in params)) reasons.push(`param "${k}" was removed`);
  return reasons;
}

/** Outs whose files differ from what the last run made: missing ones, and modified ones. */
export function outChanges(outs: Record<string, string>, lock: StageLock | undefined): { missing: string[]; modified: string[] } {
  const missing: string[] = [];
  const modified: string[] = [];
  for (const [p, digest] of Object.entries(outs)) {
    if (digest === MISSING) missing.push(p);
    else if (lock && lock.outs[p] !== digest) modified.push(p);
  }
  return { missing, modified };
}
