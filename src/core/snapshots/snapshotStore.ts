import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import git from 'isomorphic-git';
import { isDiskFull } from '../workspace/diskFull';
import { isReadOnlyError, isWritableFolder, type MlopsLayout } from '../workspace/layout';
import { storeBlobs } from './blobWriter';
import { atomicGitFs, RepoPaths } from './gitFs';
import { writeLooseObject } from './looseWriter';
import { commitObject, formatMessage, parseCommit, parseMessage, person, type ParsedCommit } from './message';
import { fingerprintFiles } from './fingerprint';
import type { IndexRecord } from './gitIndex';
import { askGit, probeFile, recordProbe, updateProbe, type ProbeAnswer } from './gitProbe';
import { patchTree } from './patch';
import { corrupt, ObjectStore } from './objects';
import { removeAbandonedTemps } from './abandonedTemps';
import { acquireWriteLock, CHAIN_REF, chainRefExists, checkTagName, resolveRefOrUndefined, snapshotIds, snapshotRef, tagRef, tagTargets, writeLooseRef } from './refs';
import type { LocalSide } from './remote';
import { restoreFiles } from './restore';
import { scanSelection, type ScanCache, type ScanResult } from './scan';
import { isInside, Selection } from './selection';
import { StatCache } from './statCache';
import { diffTrees, findEntry, listBlobs, writeTrees, type BlobEntry, type GitContext } from './trees';
import { ProgressReporter } from './progress';
import {
  cancelled,
  SnapshotError,
  throwIfAborted,
  type PushResult,
  type RemoteOptions,
  type RestoreOptions,
  type RestoreResult,
  type SnapshotDiff,
  type SnapshotFile,
  type SnapshotInfo,
  type SnapshotOptions,
} from './types';

/** Where the store lives in a workspace. */
export function snapshotsGitDir(layout: MlopsLayout): string {
  return path.join(layout.dir, 'snapshots.git');
}

/** The stat cache file (see statCache.ts). */
export function statCacheFile(layout: MlopsLayout): string {
  return path.join(layout.indexDir, 'snapshot-stat-cache.bin');
}

/** A snapshot's tree, before its commit; `cache` when the stat cache was used (to be saved), `patched` when git's answer was. */
interface Built {
  tree: string;
  fileCount: number;
  totalBytes: number;
  cache?: StatCache;
  patched?: { answer: ProbeAnswer; changed: BlobEntry[]; removed: string[] };
}

function nothingToSnapshot(rels: string[]): SnapshotError {
  return new SnapshotError(
    `Nothing to snapshot: ${rels.map((r) => `"${r}"`).join(', ')} hold${rels.length === 1 ? 's' : ''} no files (only empty folders, or everything is excluded by .mlopsignore). Add files, or change .mlopsignore.`,
    'nothing-to-snapshot',
  );
}

interface CommitFacts {
  info: Omit<SnapshotInfo, 'tags'>;
  tree: string;
  parents: string[];
}

/**
 * Data and model snapshots of one workspace, in the bare git repository
 * `.mlops/snapshots.git`: a snapshot is a commit whose tree holds the chosen paths at their
 * workspace-relative places; its id is the commit id. See docs/snapshots.md.
 */
export class SnapshotStore {
  private readonly ctx: GitContext;
  private readonly paths: RepoPaths;
  private readonly objects: ObjectStore;
  private readonly commits = new Map<string, CommitFacts>();

  private constructor(readonly layout: MlopsLayout, readonly gitdir: string, private storeId: string) {
    this.ctx = { fs: atomicGitFs(), gitdir, cache: {} };
    this.paths = new RepoPaths(gitdir);
    this.objects = new ObjectStore(this.paths, async (oid) => (await git.readBlob({ fs: this.ctx.fs, gitdir, oid, cache: this.ctx.cache })).blob);
    this.ctx.objects = this.objects;
  }

  /**
   * Opens the store of a workspace, creating `.mlops/snapshots.git` (bare) when missing; where
   * nothing may be created (no `.mlops/` yet, a read-only disk) an empty store that reads as none.
   */
  static async open(layout: MlopsLayout): Promise<SnapshotStore> {
    const gitdir = snapshotsGitDir(layout);
    if (!fs.existsSync(path.join(gitdir, 'HEAD')) && !isWritableFolder(layout.dir)) return new SnapshotStore(layout, gitdir, '');
    try {
      return new SnapshotStore(layout, gitdir, await initStore(gitdir));
    } catch (err) {
      if (isReadOnlyError(err)) return new SnapshotStore(layout, gitdir, '');
      throw err;
    }
  }

  // ------------------------------------------------------------------ snapshot

  /** Snapshots files and folders of the workspace (absolute, or relative to its root). */
  async snapshot(paths: string[], options: SnapshotOptions): Promise<SnapshotInfo> {
    try {
      return await this.take(paths, options);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      // Temp objects are removed as they fail, and the refs move last: the store is as it was.
      throw new SnapshotError(
        `The disk is full (${(err as NodeJS.ErrnoException).code}): the snapshot could not be written into ${path.relative(this.layout.root, this.gitdir) || this.gitdir}. ` +
          'Free some space and take it again; no snapshot was recorded, and the earlier ones are intact.',
        'disk-full',
        { cause: err },
      );
    }
  }

  private async take(paths: string[], options: SnapshotOptions): Promise<SnapshotInfo> {
    const { signal } = options;
    const progress = new ProgressReporter(options.onProgress);
    throwIfAborted(signal, 'The snapshot');
    // Opened where nothing could be created then (no .mlops/ yet): the first snapshot makes the
    // store, or it would be objects without HEAD or store id (not a repository; its stat cache lost).
    if (!this.storeId) this.storeId = await initStore(this.gitdir);
    const sel = new Selection(options.from ?? this.layout.root);
    const rels = sel.normalise(paths);
    progress.report({ phase: 'scan', files: 0, bytes: 0 }, true);
    // Files taken from another folder are hashed afresh: the stat cache and the probe speak of workspace paths.
    const probe = options.from ? undefined : probeFile(this.layout.indexDir, rels);
    const asked = probe ? await askGit(this.gitdir, sel, probe, { storeId: this.storeId, rels, rules: sel.rulesDigest }) : undefined;
    const answer = asked && this.objects.has(asked.record.tree) ? asked : undefined;
    let built: Built;
    if (answer && !answer.changed.length) {
      built = { tree: answer.record.tree, fileCount: answer.record.fileCount, totalBytes: answer.record.totalBytes };
      progress.report({ phase: 'commit', files: built.fileCount, totalFiles: built.fileCount, bytes: built.totalBytes, totalBytes: built.totalBytes }, true);
    } else {
      // A folder of the last snapshot that cannot be read (a damaged store): the scan does without it.
      built = answer
        ? await this.patch(sel, rels, answer, options, progress).catch((err: unknown) => {
          if (err instanceof SnapshotError && err.code === 'corrupt-object') return this.build(sel, rels, options, progress);
          throw err;
        })
        : await this.build(sel, rels, options, progress);
    }
    const { tree, fileCount, totalBytes: bytes } = built;
    const now = Date.now();
    const lock = await acquireWriteLock(this.paths.lockFile);
    let id: string;
    let reused = false;
    try {
      removeAbandonedTemps(this.paths);
      const parent = await this.chainHeadToExtend();
      const previous = options.reuseUnchanged && parent ? await this.newestWithPaths(parent, rels) : undefined;
      if (previous && (await this.facts(previous)).tree === tree) {
        id = previous;
        reused = true;
      } else {
        const who = person(options.author, now);
        const message = options.message?.trim() || `Snapshot of ${rels.join(', ')}`;
        const commit = { message: formatMessage({ message, paths: rels, fileCount, totalBytes: bytes }), tree, parents: parent ? [parent] : [], author: who, committer: who };
        id = writeLooseObject(this.paths, commitObject(commit));
        this.remember(id, commit); // known as written: not read back
        if (signal?.aborted) throw cancelled('The snapshot');
        writeLooseRef(this.gitdir, snapshotRef(id), id);
        writeLooseRef(this.gitdir, CHAIN_REF, id);
      }
    } finally {
      lock.release();
    }
    if (built.cache && probe) {
      try {
        built.cache.save();
      } catch {
        // only a cache: the next snapshot hashes those files again
      }
      await this.keepProbeIndex(probe, sel, { storeId: this.storeId, rels, rules: sel.rulesDigest, tree, fileCount, totalBytes: bytes }, built);
    }
    // A new commit: no tag can name it yet.
    return reused ? { ...(await this.infoOf(id)), reused: true } : { ...(await this.facts(id)).info, tags: [] };
  }

  /** Scans the selection, stores the blobs the stat cache does not vouch for, and writes the trees. */
  private async build(sel: Selection, rels: string[], options: SnapshotOptions, progress: ProgressReporter): Promise<Built> {
    const cache = StatCache.load(statCacheFile(this.layout), this.storeId);
    const scanned = await scanSelection(sel, rels, (n, b) => progress.report({ phase: 'scan', files: n, bytes: b }), options.signal, options.from ? undefined : this.scanCache(cache));
    progress.report({ phase: 'scan', files: scanned.fileCount, bytes: scanned.totalBytes }, true);
    if (!scanned.fileCount) throw nothingToSnapshot(rels);
    const { blobs, bytes } = await this.storeScanned(scanned, options.from ? undefined : cache, options, progress);
    // Entries of files the scan no longer found (removed, or now excluded) are dropped.
    if (!options.from) for (const rel of rels) for (const p of cache.pathsUnder(rel, true)) cache.delete(p);
    // The trees of folders scanned whole are recorded, for the next snapshot to reuse.
    const scannedWhole = (folder: string): boolean => rels.some((r) => r === '.' || folder === r || folder.startsWith(`${r}/`));
    const recordTree = options.from ? undefined : (folder: string, oid: string, entries: number) => {
      if (scannedWhole(folder)) cache.setTree(folder, oid, entries);
    };
    const tree = writeTrees(blobs, scanned.trees, (oid) => this.objects.has(oid), (object) => writeLooseObject(this.paths, object), recordTree);
    return { tree, fileCount: scanned.fileCount, totalBytes: bytes, cache: options.from ? undefined : cache };
  }

  /**
   * The selection's last snapshot with the files git named changed (or added, or removed)
   * scanned and stored: only the folders on their way are read and rebuilt.
   */
  private async patch(sel: Selection, rels: string[], answer: ProbeAnswer, options: SnapshotOptions, progress: ProgressReporter): Promise<Built> {
    const present: string[] = [];
    const removed: string[] = [];
    for (const rel of answer.changed) {
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(path.join(sel.root, ...rel.split('/')), { throwIfNoEntry: false });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
      }
      // A file become a folder: git names the folder's files as added.
      (st && !st.isDirectory() ? present : removed).push(rel);
    }
    const cache = StatCache.load(statCacheFile(this.layout), this.storeId);
    const scanned = await scanSelection(sel, present, (n, b) => progress.report({ phase: 'scan', files: n, bytes: b }), options.signal, this.scanCache(cache));
    progress.report({ phase: 'scan', files: scanned.fileCount, bytes: scanned.totalBytes }, true);
    const { blobs: changed, bytes } = await this.storeScanned(scanned, cache, options, progress);
    for (const rel of removed) cache.delete(rel);
    const patched = await patchTree(this.ctx, answer.record.tree, new Map<string, BlobEntry | null>([...removed.map((r): [string, null] => [r, null]), ...changed.map((b): [string, BlobEntry] => [b.path, b])]));
    const lost = patched.trees.find((t) => !this.objects.has(t.oid));
    if (lost) throw corrupt(lost.oid, 'it is missing');
    const fileCount = answer.record.fileCount - patched.replaced.length + changed.length;
    if (!fileCount) throw nothingToSnapshot(rels);
    const totalBytes = answer.record.totalBytes - this.objects.sizes(patched.replaced).reduce((a, n) => a + n, 0) + bytes;
    const tree = writeTrees(patched.blobs, patched.trees, (oid) => this.objects.has(oid), (object) => writeLooseObject(this.paths, object));
    return { tree, fileCount, totalBytes, cache, patched: { answer, changed, removed } };
  }

  /** What the scan asks the stat cache (and the store). */
  private scanCache(cache: StatCache): ScanCache {
    return {
      unchanged: (rel, st) => cache.unchanged(rel, st),
      blob: (rel) => cache.recordedBlob(rel)!,
      // fingerprint() caches ids of files it only hashed: a cached id is reused only when its blob is stored.
      stored: (oid) => this.objects.hasQuick(oid),
      tree: (rel) => {
        const t = cache.tree(rel);
        return t && this.objects.has(t.oid) ? t : undefined;
      },
    };
  }

  /** Stores the blobs of the files a scan found that the stat cache does not vouch for (recording them there); all the scan's files with their ids, and their bytes. */
  private async storeScanned(scanned: ScanResult, cache: StatCache | undefined, options: SnapshotOptions, progress: ProgressReporter): Promise<{ blobs: BlobEntry[]; bytes: number }> {
    const { signal } = options;
    const { files: todo, known, fileCount, totalBytes, knownBytes } = scanned;
    const blobs: BlobEntry[] = known;
    let doneBytes = knownBytes;
    let doneFiles = fileCount - todo.length;
    const write = (force = false): void => progress.report({ phase: 'write', files: doneFiles, totalFiles: fileCount, bytes: doneBytes, totalBytes }, force);
    write(true);
    let bytes = totalBytes;
    if (todo.length) {
      const byRel = new Map(todo.map((f) => [f.rel, f]));
      const hashed = await storeBlobs(todo, this.paths, this.objects, {
        signal,
        onDone: (n, b) => { doneFiles += n; doneBytes += b; write(); },
        onBytes: (b) => { doneBytes += b; write(); },
      });
      for (const h of hashed) {
        const f = byRel.get(h.rel)!;
        blobs.push({ path: h.rel, oid: h.oid, mode: f.mode });
        bytes += h.key.size - f.key.size; // the size read, should a large file have changed since the scan
        if (f.linkTarget === undefined) cache?.set(h.rel, h.key, h.oid, h.verifiedAt);
      }
    }
    progress.report({ phase: 'write', files: fileCount, totalFiles: fileCount, bytes: doneBytes, totalBytes }, true);
    throwIfAborted(signal, 'The snapshot');
    progress.report({ phase: 'commit', files: fileCount, totalFiles: fileCount, bytes: doneBytes, totalBytes }, true);
    return { blobs, bytes };
  }

  /** The probe index for the next snapshot of this selection; only an aid: failing to write it fails nothing. */
  private async keepProbeIndex(file: string, sel: Selection, record: IndexRecord, built: Built): Promise<void> {
    try {
      const { cache, patched } = built;
      if (patched) await updateProbe(this.gitdir, sel.root, file, patched.answer, patched.changed, patched.removed, cache!, record);
      else await recordProbe(this.gitdir, sel.root, file, () => listBlobs(this.ctx, record.tree), cache!, record);
    } catch {
      fs.rmSync(file, { force: true });
    }
  }

  /**
   * The chain's newest snapshot, the parent of the next one. A chain ref that exists but names
   * no readable commit (garbage, an id the store lacks) stops the snapshot: committing on it
   * would make a commit whose parent is missing, which `git log` and `git fsck` reject for good.
   */
  private async chainHeadToExtend(): Promise<string | undefined> {
    const head = await resolveRefOrUndefined(this.ctx, CHAIN_REF);
    if (head === undefined && !(await chainRefExists(this.ctx))) return undefined; // a new store: the first snapshot starts the chain
    let problem: string;
    if (head === undefined) {
      let text = '';
      try {
        text = fs.readFileSync(path.join(this.gitdir, ...CHAIN_REF.split('/')), 'utf8').trim();
      } catch {
        // packed, or unreadable: say so without its text
      }
      problem = text ? `it holds ${JSON.stringify(text.slice(0, 60))}, not a snapshot id` : 'it holds no snapshot id';
    } else {
      try {
        // Its header is enough to know it is a commit (a deltified one is read whole).
        if (!this.objects.has(head) || this.objects.header(head).type !== 'commit') await this.facts(head);
        return head;
      } catch (err) {
        problem = this.objects.has(head) ? `${head} cannot be read as a snapshot (${(err as Error).message})` : `it names ${head}, which is not in the store`;
      }
    }
    const refFile = path.join(path.relative(this.layout.root, this.gitdir) || this.gitdir, ...CHAIN_REF.split('/'));
    throw new SnapshotError(
      `The snapshot chain ref ${CHAIN_REF} (${refFile}) is broken: ${problem}. No snapshot was made. ` +
        `Repair it: write the id of the newest good snapshot into that file (\`mlops snapshots list\` shows them), e.g. \`echo <id> > ${refFile}\`, ` +
        `or delete ${refFile} to start a new chain (every snapshot keeps its own ref).`,
      'broken-chain',
    );
  }

  /** Walks the chain back from `head` to the newest snapshot of exactly these paths. */
  private async newestWithPaths(head: string, rels: string[]): Promise<string | undefined> {
    const key = rels.join('\n');
    let id: string | undefined = head;
    for (let i = 0; id && i < 1000; i++) {
      const facts = await this.facts(id);
      if (facts.info.paths.join('\n') === key) return id;
      id = facts.parents[0];
    }
    return undefined;
  }

  /** Blob ids of the workspace files under `paths` (each must exist), through the stat cache: an unchanged file is not read. */
  async fingerprint(paths: string[]): Promise<BlobEntry[]> {
    const sel = new Selection(this.layout.root);
    return fingerprintFiles(sel, sel.normalise(paths), StatCache.load(statCacheFile(this.layout), this.storeId));
  }

  /**
   * Blob ids of workspace files the caller has listed already (relative paths of regular files
   * inside the workspace, e.g. git's list), through the stat cache; not normalised one by one,
   * which would cost a real-path lookup per file for 10,000s of files.
   */
  async fingerprintListed(rels: string[]): Promise<BlobEntry[]> {
    return fingerprintFiles(new Selection(this.layout.root), rels, StatCache.load(statCacheFile(this.layout), this.storeId));
  }

  // ------------------------------------------------------------------ reading

  /** All snapshots, newest first. */
  async list(): Promise<SnapshotInfo[]> {
    const ids = new Set(await snapshotIds(this.ctx));
    // Chain commits without a per-snapshot ref (made by other tools) are snapshots too.
    let id = await resolveRefOrUndefined(this.ctx, CHAIN_REF);
    while (id && !ids.has(id)) {
      ids.add(id);
      id = (await this.facts(id).catch(() => undefined))?.parents[0];
    }
    const tags = await this.tagsById();
    const facts = new Map<string, CommitFacts>();
    for (const x of ids) {
      try {
        facts.set(x, await this.facts(x));
      } catch (err) {
        // One damaged commit must not hide the others: list it, saying what is wrong.
        const problem = (err as Error).message;
        facts.set(x, { info: { id: x, message: `(damaged) ${problem}`, time: 0, author: '', paths: [], fileCount: 0, totalBytes: 0, damaged: problem }, tree: '', parents: [] });
      }
    }
    // Generation (distance from the root along parents) orders snapshots made within one second.
    const gen = new Map<string, number>();
    const generation = (x: string): number => {
      let g = gen.get(x);
      if (g !== undefined) return g;
      const chain: string[] = [];
      let cur: string | undefined = x;
      while (cur && facts.has(cur) && !gen.has(cur)) {
        chain.push(cur);
        cur = facts.get(cur)!.parents[0];
      }
      g = cur && gen.has(cur) ? gen.get(cur)! : 0;
      for (const c of chain.reverse()) gen.set(c, ++g);
      return gen.get(x)!;
    };
    return [...facts.values()]
      .sort((a, b) => b.info.time - a.info.time || generation(b.info.id) - generation(a.info.id) || (a.info.id < b.info.id ? -1 : 1))
      .map((f) => ({ ...f.info, tags: tags.get(f.info.id) ?? [] }));
  }

  /** Full id, unique id prefix (at least 4 hex digits), or tag name → snapshot id. */
  async resolve(ref: string): Promise<string> {
    const r = (ref ?? '').trim();
    const unknown = (): SnapshotError =>
      new SnapshotError(`No snapshot "${r}" in .mlops/snapshots.git; run \`mlops snapshots list\` to see snapshot ids and tags.`, 'unknown-snapshot');
    if (!r) throw unknown();
    if (/^[0-9a-f]{40}$/i.test(r)) {
      const id = r.toLowerCase();
      if (!this.objects.has(id)) throw unknown();
      await this.facts(id); // a commit, readable
      return id;
    }
    if (!/^[0-9a-f]+$/i.test(r) || r.length < 4) {
      const tagged = await resolveRefOrUndefined(this.ctx, tagRef(r));
      if (tagged) return (await tagTargets(this.ctx)).get(r) ?? tagged;
      if (/^[0-9a-f]{1,3}$/i.test(r)) {
        throw new SnapshotError(`"${r}" is too short to name a snapshot; give at least 4 hex digits of its id, or a tag name.`, 'unknown-snapshot');
      }
      throw unknown();
    }
    const prefix = r.toLowerCase();
    const matches = (await this.list()).filter((s) => s.id.startsWith(prefix));
    if (matches.length === 1) return matches[0].id;
    if (matches.length > 1) {
      throw new SnapshotError(
        `"${r}" matches ${matches.length} snapshots (${matches.slice(0, 5).map((m) => m.id.slice(0, 12)).join(', ')}${matches.length > 5 ? ', …' : ''}); give more digits of the id.`,
        'ambiguous-snapshot',
      );
    }
    throw unknown();
  }

  /** A snapshot's facts without its files (`show` also reads every file's size). */
  async info(ref: string): Promise<SnapshotInfo> {
    return this.infoOf(await this.resolve(ref));
  }

  async show(ref: string): Promise<{ info: SnapshotInfo; files: SnapshotFile[] }> {
    const id = await this.resolve(ref);
    const [info, blobs] = [await this.infoOf(id), await listBlobs(this.ctx, (await this.facts(id)).tree)];
    return { info, files: this.filesOf(blobs) };
  }

  async diff(a: string, b: string): Promise<SnapshotDiff> {
    const [ta, tb] = [(await this.facts(await this.resolve(a))).tree, (await this.facts(await this.resolve(b))).tree];
    const d = await diffTrees(this.ctx, ta, tb);
    const [before, after] = [this.filesOf(d.changed.map((c) => c[0])), this.filesOf(d.changed.map((c) => c[1]))];
    return {
      added: this.filesOf(d.added),
      removed: this.filesOf(d.removed),
      changed: before.map((b, i) => ({ path: b.path, before: b, after: after[i] })),
    };
  }

  /** One file's content (a symbolic link: its target text). */
  async readFile(ref: string, file: string): Promise<Uint8Array> {
    const id = await this.resolve(ref);
    const rel = file.split(path.sep).join('/').replace(/^\.\//, '');
    const entry = await findEntry(this.ctx, (await this.facts(id)).tree, rel);
    if (!entry) {
      throw new SnapshotError(`Snapshot ${id.slice(0, 12)} has no file "${rel}"; run \`mlops snapshots show ${id.slice(0, 12)}\` to list its files.`, 'unknown-file');
    }
    return this.objects.readBlob(entry.oid);
  }

  private filesOf(blobs: BlobEntry[]): SnapshotFile[] {
    const sizes = this.objects.sizes(blobs.map((b) => b.oid));
    return blobs.map((b, i) => ({ path: b.path, size: sizes[i], blob: b.oid, mode: b.mode }));
  }

  private async infoOf(id: string): Promise<SnapshotInfo> {
    return { ...(await this.facts(id)).info, tags: (await this.tagsById()).get(id) ?? [] };
  }

  private async tagsById(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const [name, id] of await tagTargets(this.ctx)) out.set(id, [...(out.get(id) ?? []), name]);
    for (const names of out.values()) names.sort();
    return out;
  }

  /** A snapshot commit, read once (commits never change). */
  private async facts(id: string): Promise<CommitFacts> {
    const known = this.commits.get(id);
    if (known) return known;
    // Read here in one go (a loose or undeltified commit: nearly always); isomorphic-git for the rest.
    const content = this.objects.has(id) ? this.objects.readSmall(id, 'commit', 1 << 20) : undefined;
    if (content) {
      try {
        return this.remember(id, parseCommit(content));
      } catch (err) {
        throw corrupt(id, `the snapshot's commit could not be read (${(err as Error).message})`, err);
      }
    }
    let commit;
    try {
      commit = (await git.readCommit({ fs: this.ctx.fs, gitdir: this.gitdir, oid: id, cache: this.ctx.cache })).commit;
    } catch (err) {
      const e = err as { code?: string };
      if (e.code === 'NotFoundError' || e.code === 'ObjectTypeError') {
        throw new SnapshotError(`${id} is not a snapshot in .mlops/snapshots.git; run \`mlops snapshots list\` to see snapshot ids.`, 'unknown-snapshot', { cause: err });
      }
      throw corrupt(id, `the snapshot's commit could not be read (${(err as Error).message})`, err);
    }
    return this.remember(id, { message: commit.message, tree: commit.tree, parents: commit.parent, author: commit.author });
  }

  /** What a snapshot commit says, kept for its id. */
  private remember(id: string, commit: ParsedCommit): CommitFacts {
    const meta = parseMessage(commit.message);
    const facts: CommitFacts = {
      info: {
        id,
        message: meta.message,
        time: commit.author.timestamp * 1000,
        author: commit.author.name,
        paths: meta.paths,
        fileCount: meta.fileCount,
        totalBytes: meta.totalBytes,
        ...(commit.parents[0] ? { parent: commit.parents[0] } : {}),
      },
      tree: commit.tree,
      parents: commit.parents,
    };
    this.commits.set(id, facts);
    return facts;
  }

  // ------------------------------------------------------------------ restore, tag

  /**
   * Restores a snapshot into `to` (which must be empty or new), or in place. In place, files
   * that exist and differ are only reported (`wouldOverwrite`) unless `overwrite` is set.
   */
  async restore(ref: string, options: RestoreOptions = {}): Promise<RestoreResult> {
    const id = await this.resolve(ref);
    const files = await listBlobs(this.ctx, (await this.facts(id)).tree);
    const root = path.resolve(this.layout.root);
    let target = root;
    let created = false;
    if (options.to !== undefined) {
      target = path.resolve(root, options.to);
      if (isInside(this.layout.dir, target)) {
        throw new SnapshotError(`Cannot restore into "${options.to}": it is inside the workspace's .mlops folder. Pick a folder elsewhere.`, 'target-not-empty');
      }
      let entries: string[] | undefined;
      try {
        entries = fs.readdirSync(target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR') throw new SnapshotError(`Cannot restore into "${options.to}": it is a file. Pick an empty or new folder.`, 'target-not-empty');
        if (code !== 'ENOENT') throw err;
      }
      if (entries?.length) {
        throw new SnapshotError(`Cannot restore into "${options.to}": the folder is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}). Pick an empty or new folder, or restore in place.`, 'target-not-empty');
      }
      created = !entries;
      fs.mkdirSync(target, { recursive: true });
    }
    const cache = StatCache.load(statCacheFile(this.layout), this.storeId);
    try {
      return await restoreFiles({ target, inPlace: options.to === undefined, files }, this.objects, cache, root, options);
    } catch (err) {
      if (created) fs.rmSync(target, { recursive: true, force: true }); // only what this restore made
      if (!isDiskFull(err)) throw err;
      const bytes = files.reduce((sum, f) => sum + (f.mode === '120000' ? 0 : this.objects.size(f.oid)), 0);
      throw new SnapshotError(
        `The disk is full (${(err as NodeJS.ErrnoException).code}): restoring ${id.slice(0, 12)} needs about ${Math.ceil(bytes / 2 ** 20)} MB free where its files go. ` +
          'Free some space and restore again; nothing was changed (files are only put in place once all of them are written).',
        'disk-full',
        { cause: err },
      );
    }
  }

  /** Tags a snapshot (a lightweight git tag). An existing tag is never moved. */
  async tag(ref: string, name: string): Promise<void> {
    checkTagName(name);
    const id = await this.resolve(ref);
    const lock = await acquireWriteLock(this.paths.lockFile);
    try {
      const existing = (await tagTargets(this.ctx)).get(name);
      if (existing === id) return;
      if (existing) {
        throw new SnapshotError(`Tag "${name}" already points at snapshot ${existing.slice(0, 12)}; tags never move. Pick another name.`, 'tag-exists');
      }
      await git.tag({ fs: this.ctx.fs, gitdir: this.gitdir, ref: name, object: id });
    } finally {
      lock.release();
    }
  }

  // ------------------------------------------------------------------ remotes

  /** Pushes all snapshot refs and tags to a git remote over HTTP(S). */
  async push(url: string, options: RemoteOptions = {}): Promise<PushResult> {
    const { pushSnapshots } = await import('./remote'); // loads the HTTP client only when needed
    return pushSnapshots(this.localSide(), url, options);
  }

  /** Fetches the snapshots (and tags) a git remote has; returns the ids that arrived. */
  async fetch(url: string, options: RemoteOptions = {}): Promise<string[]> {
    const { fetchSnapshots } = await import('./remote');
    return fetchSnapshots(this.localSide(), url, options);
  }

  private localSide(): LocalSide {
    return {
      ctx: this.ctx,
      graph: async () => {
        const out = new Map<string, string[]>();
        for (const s of await this.list()) out.set(s.id, (await this.facts(s.id)).parents);
        return out;
      },
      chainHead: () => resolveRefOrUndefined(this.ctx, CHAIN_REF),
      tags: () => tagTargets(this.ctx),
      hasCommit: (id) => this.objects.has(id),
      parentsOf: async (id) => (await this.facts(id)).parents,
      recordFetched: async (ids, tags) => {
        const lock = await acquireWriteLock(this.paths.lockFile);
        try {
          for (const id of ids) writeLooseRef(this.gitdir, snapshotRef(id), id);
          for (const [name, id] of tags) {
            if (!(await resolveRefOrUndefined(this.ctx, tagRef(name)))) await git.writeRef({ fs: this.ctx.fs, gitdir: this.gitdir, ref: tagRef(name), value: id });
          }
        } finally {
          lock.release();
        }
      },
    };
  }
}

/** Creates what a bare snapshot store needs that is missing; returns its store id. */
async function initStore(gitdir: string): Promise<string> {
  const gfs = atomicGitFs();
  if (!fs.existsSync(path.join(gitdir, 'HEAD'))) {
    fs.mkdirSync(gitdir, { recursive: true });
    await git.init({ fs: gfs, gitdir, bare: true, defaultBranch: 'snapshots' });
  }
  fs.mkdirSync(path.join(gitdir, 'objects', 'pack'), { recursive: true });
  fs.mkdirSync(path.join(gitdir, 'refs', 'snapshots'), { recursive: true });
  let storeId = (await git.getConfig({ fs: gfs, gitdir, path: 'mlops.storeid' })) as string | undefined;
  if (!storeId) {
    storeId = randomUUID();
    await git.setConfig({ fs: gfs, gitdir, path: 'mlops.storeid', value: storeId });
  }
  return storeId;
}
