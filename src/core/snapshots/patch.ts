import { listEntries, type BlobEntry, type GitContext, type TreeEntry } from './trees';

/** What writeTrees needs to build a tree from an earlier one with some files changed. */
export interface PatchedTree {
  /** The files of every folder that holds a change (the changed ones as given, the others as they were). */
  blobs: BlobEntry[];
  /** Folders that hold no change: their trees are reused whole. */
  trees: TreeEntry[];
  /** Ids of the earlier tree's files that were changed or removed. */
  replaced: string[];
}

/**
 * An earlier snapshot's tree with files changed (a blob), added (a blob at a new path) or
 * removed (null). Only the folders on the way to a change are read; every other folder is
 * reused as it is. A removed file's folder disappears when nothing is left in it.
 */
export async function patchTree(ctx: GitContext, tree: string, changes: Map<string, BlobEntry | null>): Promise<PatchedTree> {
  const touched = new Set<string>();
  for (const p of changes.keys()) for (let cut = p.lastIndexOf('/'); cut > 0; cut = p.lastIndexOf('/', cut - 1)) touched.add(p.slice(0, cut));
  const out: PatchedTree = { blobs: [], trees: [], replaced: [] };
  const walk = async (oid: string, prefix: string): Promise<void> => {
    for (const e of await listEntries(ctx, oid)) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === 'tree') {
        if (touched.has(p)) await walk(e.oid, p);
        else if (changes.has(p)) continue; // a folder become a file (its files all removed): never a folder and a file of one name
        else out.trees.push({ path: p, oid: e.oid });
      } else if (e.type === 'blob') {
        if (changes.has(p)) out.replaced.push(e.oid);
        else out.blobs.push({ path: p, oid: e.oid, mode: e.mode });
      }
    }
  };
  await walk(tree, '');
  for (const b of changes.values()) if (b) out.blobs.push(b);
  return out;
}
