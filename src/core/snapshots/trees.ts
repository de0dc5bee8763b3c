import { createHash } from 'node:crypto';
import git, { type PromiseFsClient } from 'isomorphic-git';
import { corrupt, type ObjectStore } from './objects';
import { SnapshotError, type SnapshotFileMode } from './types';

/** What isomorphic-git needs to reach the repository. */
export interface GitContext {
  fs: PromiseFsClient;
  gitdir: string;
  cache: object;
  /** Reads trees directly (one inflate each); isomorphic-git then reads only deltified ones. */
  objects?: ObjectStore;
}

export interface BlobEntry { path: string; oid: string; mode: SnapshotFileMode }

/** A folder whose tree is already in the store (reused whole). */
export interface TreeEntry { path: string; oid: string }

interface Dir { dirs: Map<string, Dir>; files: { name: string; oid: string; mode: SnapshotFileMode }[]; trees: { name: string; oid: string }[] }

/**
 * Builds the trees for these blobs and reused folder trees bottom-up and returns the root
 * tree's id. Each tree is serialised here and only those the store lacks are written
 * (`write`: a loose object). `built` hears of every folder tree made here ('.': the root)
 * with its number of entries, so that the next snapshot can reuse it.
 */
export function writeTrees(
  blobs: BlobEntry[],
  reused: TreeEntry[],
  exists: (oid: string) => boolean,
  write: (object: Buffer) => string,
  built?: (folder: string, oid: string, entries: number) => void,
): string {
  const wholeRoot = reused.find((t) => t.path === '.');
  if (wholeRoot) return wholeRoot.oid; // the only chosen path is the workspace, and nothing in it changed
  const root: Dir = { dirs: new Map(), files: [], trees: [] };
  const dirs = new Map<string, Dir>([['', root]]);
  const dirOf = (p: string): Dir => {
    let d = dirs.get(p);
    if (d) return d;
    const cut = p.lastIndexOf('/');
    const parent = dirOf(cut < 0 ? '' : p.slice(0, cut));
    d = { dirs: new Map(), files: [], trees: [] };
    parent.dirs.set(p.slice(cut + 1), d);
    dirs.set(p, d);
    return d;
  };
  for (const b of blobs) {
    const cut = b.path.lastIndexOf('/');
    dirOf(cut < 0 ? '' : b.path.slice(0, cut)).files.push({ name: b.path.slice(cut + 1), oid: b.oid, mode: b.mode });
  }
  for (const t of reused) {
    const cut = t.path.lastIndexOf('/');
    dirOf(cut < 0 ? '' : t.path.slice(0, cut)).trees.push({ name: t.path.slice(cut + 1), oid: t.oid });
  }
  const build = (dir: Dir, at: string): string => {
    const tree: TreeItem[] = [];
    for (const [name, sub] of dir.dirs) tree.push({ mode: '040000', path: name, oid: build(sub, at ? `${at}/${name}` : name), type: 'tree' });
    for (const t of dir.trees) tree.push({ mode: '040000', path: t.name, oid: t.oid, type: 'tree' });
    for (const f of dir.files) tree.push({ mode: f.mode, path: f.name, oid: f.oid, type: 'blob' });
    const object = treeObject(tree);
    const oid = createHash('sha1').update(object).digest('hex');
    if (!exists(oid)) write(object);
    built?.(at || '.', oid, tree.length);
    return oid;
  };
  return build(root, '');
}

interface TreeItem { mode: string; path: string; oid: string; type: 'blob' | 'tree' }
/** An entry of a tree as read from the store (a submodule's is a 'commit'). */
type StoredTreeItem = Omit<TreeItem, 'type'> & { type: TreeItem['type'] | 'commit' };

const NON_ASCII = /[^\x20-\x7e]/;

/** A tree object as git hashes it: entries sorted by name bytes, a folder's name compared as if it ended in '/'. */
export function treeObject(items: TreeItem[]): Buffer {
  const keyed = items.map((e) => ({ e, k: e.type === 'tree' ? `${e.path}/` : e.path, mode: e.mode === '040000' ? '40000' : e.mode }));
  // For ASCII names string order is byte order; otherwise compare the UTF-8 bytes.
  if (keyed.some((x) => NON_ASCII.test(x.k))) keyed.sort((a, b) => Buffer.compare(Buffer.from(a.k), Buffer.from(b.k)));
  else keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  let length = 0;
  for (const x of keyed) length += x.mode.length + 1 + Buffer.byteLength(x.e.path) + 1 + 20;
  const header = `tree ${length}\0`;
  const buf = Buffer.allocUnsafe(header.length + length);
  let at = buf.write(header, 0, 'latin1');
  for (const x of keyed) {
    at += buf.write(x.mode, at, 'latin1');
    buf[at++] = 0x20;
    at += buf.write(x.e.path, at, 'utf8');
    buf[at++] = 0;
    at += buf.write(x.e.oid, at, 'hex');
  }
  return buf;
}

async function readTree(ctx: GitContext, oid: string): Promise<StoredTreeItem[]> {
  try {
    const raw = ctx.objects?.readSmall(oid, 'tree', 64 * 1024 * 1024);
    if (raw) return parseTree(raw);
    return (await git.readTree({ fs: ctx.fs, gitdir: ctx.gitdir, oid, cache: ctx.cache })).tree;
  } catch (err) {
    if (err instanceof SnapshotError) throw err; // the store already said what is wrong with it
    throw corrupt(oid, `it could not be read as a tree (${(err as Error).message})`, err);
  }
}

/** A tree object's entries: "<mode> <name>\0<20-byte id>" each. */
function parseTree(raw: Buffer): StoredTreeItem[] {
  const out: StoredTreeItem[] = [];
  for (let at = 0; at < raw.length;) {
    const space = raw.indexOf(0x20, at);
    const nul = raw.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > raw.length) throw new Error('an entry is cut short');
    const mode = raw.toString('latin1', at, space).padStart(6, '0');
    out.push({ mode, path: raw.toString('utf8', space + 1, nul), oid: raw.toString('hex', nul + 1, nul + 21), type: mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob' });
    at = nul + 21;
  }
  return out;
}

/** One tree's entries (not below): folders as 'tree', files as 'blob' with their mode; a submodule ('commit', never written here) is skipped. */
export async function listEntries(ctx: GitContext, oid: string): Promise<ListedEntry[]> {
  return (await readTree(ctx, oid)).flatMap((e): ListedEntry[] => {
    if (e.type === 'tree') return [{ type: 'tree', path: e.path, oid: e.oid }];
    return e.type === 'blob' ? [{ type: 'blob', path: e.path, oid: e.oid, mode: normaliseMode(e.mode) }] : [];
  });
}
type ListedEntry = { type: 'tree'; path: string; oid: string } | ({ type: 'blob' } & BlobEntry);

/** Every blob under a tree, with workspace-relative paths, sorted by path. */
export async function listBlobs(ctx: GitContext, treeOid: string): Promise<BlobEntry[]> {
  const out: BlobEntry[] = [];
  const walk = async (oid: string, prefix: string): Promise<void> => {
    for (const e of await listEntries(ctx, oid)) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === 'tree') await walk(e.oid, p);
      else out.push({ path: p, oid: e.oid, mode: e.mode });
    }
  };
  await walk(treeOid, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Blobs that differ between two trees; identical subtrees are skipped without reading them. */
export async function diffTrees(ctx: GitContext, a: string, b: string): Promise<{ removed: BlobEntry[]; added: BlobEntry[]; changed: [BlobEntry, BlobEntry][] }> {
  const removed: BlobEntry[] = [];
  const added: BlobEntry[] = [];
  const changed: [BlobEntry, BlobEntry][] = [];
  const all = async (oid: string, prefix: string, into: BlobEntry[]): Promise<void> => {
    for (const e of await listBlobs(ctx, oid)) into.push({ ...e, path: `${prefix}/${e.path}` });
  };
  const walk = async (ta: string, tb: string, prefix: string): Promise<void> => {
    if (ta === tb) return;
    const ea = new Map((await readTree(ctx, ta)).map((e) => [e.path, e]));
    const eb = new Map((await readTree(ctx, tb)).map((e) => [e.path, e]));
    for (const name of new Set([...ea.keys(), ...eb.keys()])) {
      const x = ea.get(name);
      const y = eb.get(name);
      const p = prefix ? `${prefix}/${name}` : name;
      if (x && y && x.oid === y.oid && x.mode === y.mode) continue;
      if (x?.type === 'tree' && y?.type === 'tree') {
        await walk(x.oid, y.oid, p);
        continue;
      }
      if (x?.type === 'blob' && y?.type === 'blob') {
        changed.push([{ path: p, oid: x.oid, mode: normaliseMode(x.mode) }, { path: p, oid: y.oid, mode: normaliseMode(y.mode) }]);
        continue;
      }
      if (x?.type === 'tree') await all(x.oid, p, removed);
      else if (x?.type === 'blob') removed.push({ path: p, oid: x.oid, mode: normaliseMode(x.mode) });
      if (y?.type === 'tree') await all(y.oid, p, added);
      else if (y?.type === 'blob') added.push({ path: p, oid: y.oid, mode: normaliseMode(y.mode) });
    }
  };
  await walk(a, b, '');
  const byPath = (x: { path: string }, y: { path: string }): number => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
  removed.sort(byPath);
  added.sort(byPath);
  changed.sort((x, y) => byPath(x[0], y[0]));
  return { removed, added, changed };
}

/** Finds one path's entry in a tree. */
export async function findEntry(ctx: GitContext, treeOid: string, path: string): Promise<BlobEntry | undefined> {
  const parts = path.split('/').filter((p) => p && p !== '.');
  let oid = treeOid;
  for (let i = 0; i < parts.length; i++) {
    const e = (await readTree(ctx, oid)).find((x) => x.path === parts[i]);
    if (!e) return undefined;
    if (i === parts.length - 1) return e.type === 'blob' ? { path: parts.join('/'), oid: e.oid, mode: normaliseMode(e.mode) } : undefined;
    if (e.type !== 'tree') return undefined;
    oid = e.oid;
  }
  return undefined;
}

function normaliseMode(mode: string): SnapshotFileMode {
  const m = mode.replace(/^0+/, '');
  return m === '100755' ? '100755' : m === '120000' ? '120000' : '100644';
}
