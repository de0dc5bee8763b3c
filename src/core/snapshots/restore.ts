import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAbort, SMALL_FILE_BYTES } from './blobWriter';
import { ObjectStore } from './objects';
import { isInside, toRel } from './selection';
import { StatCache, statKey } from './statCache';
import type { BlobEntry } from './trees';
import { cancelled, SnapshotError, type RestoreResult } from './types';
import { yielder } from './yielder';

const CONCURRENCY = 4;

export interface RestorePlan {
  /** Where files go: the workspace root, or the `to` folder. */
  target: string;
  inPlace: boolean;
  files: BlobEntry[];
}

type State = 'missing' | 'same' | 'differs';

/**
 * Restores a snapshot's files in two phases: every file is first written to a temp file next
 * to its destination (streamed from the store and checked against its blob id), and only
 * when all of them are complete are they renamed into place. A damaged object, a cancel or a
 * full disk therefore changes nothing. Files of the workspace that the snapshot does not
 * hold are left alone.
 */
export async function restoreFiles(
  plan: RestorePlan,
  objects: ObjectStore,
  cache: StatCache,
  workspaceRoot: string,
  options: { overwrite?: boolean; signal?: AbortSignal },
): Promise<RestoreResult> {
  const { target, files } = plan;
  const toWrite: BlobEntry[] = [];
  const overwritten: string[] = [];
  const checkedDirs = new Map<string, boolean>();
  const pause = yielder();
  for (const f of files) {
    await pause();
    if (options.signal?.aborted) throw cancelled('The restore');
    const abs = path.join(target, ...f.path.split('/'));
    if (plan.inPlace) checkParents(target, f.path, checkedDirs);
    const state = plan.inPlace ? await compare(abs, f, objects, cache, workspaceRoot) : 'missing';
    if (state === 'same') continue;
    if (state === 'differs') overwritten.push(f.path);
    toWrite.push(f);
  }
  if (overwritten.length && !options.overwrite) return { written: [], wouldOverwrite: overwritten, overwritten: [] };

  const temps = new Map<string, string>(); // final path → temp path
  const createdDirs: string[] = [];
  const knownDirs = new Set<string>();
  const mkdirs = (dir: string): void => {
    if (knownDirs.has(dir)) return;
    if (!fs.existsSync(dir)) {
      mkdirs(path.dirname(dir));
      fs.mkdirSync(dir);
      createdDirs.push(dir);
    }
    knownDirs.add(dir);
  };
  try {
    let next = 0;
    let firstError: unknown;
    const worker = async (): Promise<void> => {
      while (next < toWrite.length && firstError === undefined) {
        const f = toWrite[next++];
        await pause();
        if (options.signal?.aborted) throw cancelled('The restore');
        const abs = path.join(target, ...f.path.split('/'));
        mkdirs(path.dirname(abs));
        const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.mlops-restore-${process.pid}-${randomBytes(4).toString('hex')}`);
        temps.set(abs, tmp);
        await writeTemp(tmp, f, objects, options.signal);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker().catch((err) => { firstError ??= err; })));
    if (options.signal?.aborted) throw cancelled('The restore');
    if (firstError !== undefined) throw firstError;
    // Phase two: everything is on disk; move it into place.
    const now = Date.now();
    for (const f of toWrite) {
      const abs = path.join(target, ...f.path.split('/'));
      fs.renameSync(temps.get(abs)!, abs);
      temps.delete(abs);
      if (isInside(workspaceRoot, abs)) {
        cache.set(toRel(workspaceRoot, abs), statKey(fs.lstatSync(abs)), f.oid, now);
      }
    }
    cache.save();
    return { written: toWrite.map((f) => f.path), wouldOverwrite: [], overwritten: options.overwrite ? overwritten : [] };
  } catch (err) {
    for (const tmp of temps.values()) fs.rmSync(tmp, { force: true });
    for (const dir of createdDirs.reverse()) {
      try { fs.rmdirSync(dir); } catch { /* not empty: something else wrote there */ }
    }
    if (isAbort(err)) throw cancelled('The restore');
    throw err;
  }
}

/** Refuses a restore through a symlinked folder, or where a file stands in for a folder. */
function checkParents(root: string, rel: string, checked: Map<string, boolean>): void {
  const parts = rel.split('/');
  let dir = root;
  for (let i = 0; i < parts.length - 1; i++) {
    dir = path.join(dir, parts[i]);
    if (checked.has(dir)) continue;
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(dir);
    } catch {
      // missing: it will be created
    }
    if (st && !st.isDirectory()) {
      const what = st.isSymbolicLink() ? 'a symbolic link' : 'a file';
      throw new SnapshotError(`Cannot restore "${rel}" in place: "${parts.slice(0, i + 1).join('/')}" is ${what} in the workspace but a folder in the snapshot. Move it away, or restore into a new folder (--to).`, 'restore-conflict');
    }
    checked.set(dir, true);
  }
}

async function compare(abs: string, f: BlobEntry, objects: ObjectStore, cache: StatCache, workspaceRoot: string): Promise<State> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(abs);
  } catch {
    return 'missing';
  }
  if (st.isDirectory()) {
    throw new SnapshotError(`Cannot restore "${f.path}" in place: it is a folder in the workspace but a file in the snapshot. Move the folder away, or restore into a new folder (--to).`, 'restore-conflict');
  }
  const rel = toRel(workspaceRoot, abs);
  const wantLink = f.mode === '120000';
  if (wantLink !== st.isSymbolicLink()) return 'differs';
  if (wantLink) return fs.readlinkSync(abs) === (await objects.readBlob(f.oid)).toString() ? 'same' : 'differs';
  if (((st.mode & 0o100) !== 0) !== (f.mode === '100755')) return 'differs';
  if (cache.lookup(rel, statKey(st)) === f.oid) return 'same';
  if (st.size !== objects.size(f.oid)) return 'differs';
  const hash = createHash('sha1').update(`blob ${st.size}\0`);
  if (st.size <= SMALL_FILE_BYTES) hash.update(fs.readFileSync(abs));
  else for await (const chunk of fs.createReadStream(abs, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  const same = hash.digest('hex') === f.oid;
  if (same) cache.set(rel, statKey(st), f.oid, Date.now());
  return same ? 'same' : 'differs';
}

async function writeTemp(tmp: string, f: BlobEntry, objects: ObjectStore, signal: AbortSignal | undefined): Promise<void> {
  if (f.mode === '120000') {
    fs.symlinkSync((await objects.readBlob(f.oid)).toString(), tmp);
    return;
  }
  const small = objects.readSmall(f.oid, 'blob', SMALL_FILE_BYTES);
  if (small) {
    fs.writeFileSync(tmp, small, { flag: 'wx', mode: f.mode === '100755' ? 0o755 : 0o644 });
    return;
  }
  const fh = await fs.promises.open(tmp, 'wx', f.mode === '100755' ? 0o755 : 0o644);
  try {
    let at = 0;
    for await (const chunk of objects.blobChunks(f.oid, signal)) {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, at);
        done += bytesWritten;
        at += bytesWritten;
      }
    }
  } finally {
    await fh.close();
  }
}
