import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicFile';
import { encodeIndex, entryFacts, INDEX_EXTENSION, readEntries, readRecord, statMs, type IndexEntry, type IndexRecord } from './gitIndex';
import { blobId } from './objects';
import { yielder } from './yielder';
import type { Selection } from './selection';
import type { StatCache } from './statCache';
import type { BlobEntry } from './trees';

/**
 * A re-snapshot answered by git, where git is installed: after each snapshot, a git index of
 * that selection's files is kept (one file per selection, under `.mlops/index/snapshot-probe/`),
 * holding only what the stat cache vouches for. Next time `git diff-files` and `git ls-files
 * --others` over it (git's own stat check and folder walk, in C, at about the speed of `git
 * status`) say which files changed: none, and the snapshot is the recorded tree; some, and only
 * those are scanned (snapshotStore's patch). Any doubt (no git, another platform, other rules, a
 * nested repository, an error) and the snapshot scans as it always does. The index never
 * vouches for more than the stat cache: a file whose stat the cache does not know for that blob
 * goes in with no stat, which git always finds changed. Nor for a file changed in the current
 * second: git (as built by default) compares whole seconds of ctime and mtime, so such a file
 * waits for the next snapshot. git does not list named pipes or sockets: one added since is not
 * seen (a scan refuses it; neither snapshot holds it).
 */

/** Where git's stat data is the lstat Node sees; elsewhere (Windows) git's own emulation differs. */
const PLATFORM_OK = process.platform === 'linux' || process.platform === 'darwin';
/** No worktree setting may weaken git's stat check or convert content before comparing it. */
const GIT_SETTINGS = [
  'core.bare=false', 'core.checkStat=default', 'core.trustctime=true', 'core.filemode=true', 'core.symlinks=true', 'core.ignorecase=false',
  'core.precomposeunicode=false', 'core.fsmonitor=false', 'core.untrackedCache=false', 'core.splitIndex=false', 'core.sparseCheckout=false',
  'core.autocrlf=false', 'core.attributesFile=' + os.devNull,
].flatMap((s) => ['-c', s]);
/** Beats any .gitattributes in the workspace (info/attributes comes first): bytes are compared as they are. */
const ATTRIBUTES = '* -text -eol -filter -ident -working-tree-encoding\n';

/** The probe index of a selection. */
export function probeFile(indexDir: string, rels: string[]): string {
  return path.join(indexDir, 'snapshot-probe', `${createHash('sha1').update(rels.join('\0')).digest('hex')}.idx`);
}

/** What git says of a selection since its last snapshot: the files changed, added or removed (none: unchanged). */
export interface ProbeAnswer {
  record: IndexRecord;
  /** The index file's checksum when git read it. */
  checksum: string;
  /** Workspace paths, sorted. */
  changed: string[];
}

/** git's answer over the selection's probe index; undefined when there is none to ask or git cannot answer. */
export async function askGit(gitdir: string, sel: Selection, file: string, want: Omit<IndexRecord, 'tree' | 'fileCount' | 'totalBytes'>): Promise<ProbeAnswer | undefined> {
  if (!PLATFORM_OK) return undefined;
  const before = readRecord(file);
  const r = before?.record;
  if (!r || r.storeId !== want.storeId || r.rules !== want.rules || r.rels.join('\0') !== want.rels.join('\0') || !caseSensitive(sel.root)) return undefined;
  const git = (...args: string[]) => gitOutput([...GIT_SETTINGS, `--git-dir=${gitdir}`, `--work-tree=${sel.root}`, ...args, '--', ...want.rels], sel.root, gitEnv(file));
  // diff-files: entries whose stat differs, without reading them (ls-files --modified would hash a
  // touched file on every probe, as the index is not rewritten then); ls-files --others: new files.
  const [dirty, added] = await Promise.all([git('diff-files', '--name-only', '-z'), git('ls-files', '-z', '--others', ...(want.rels.includes('.') ? ['--exclude=/.mlops/'] : []))]);
  if (dirty === undefined || added === undefined) return undefined;
  gitFound = Promise.resolve(true);
  const found = added.split('\0').filter(Boolean);
  // A nested repository comes as "folder/", unlisted: only a scan sees into it.
  if (found.some((p) => p.endsWith('/') && !sel.excludedPath(p.slice(0, -1), true))) return undefined;
  // Rewritten meanwhile by another snapshot: its record might not be what git compared against.
  const after = readRecord(file);
  if (after?.checksum !== before.checksum) return undefined;
  // New files .mlopsignore keeps out change nothing.
  const changed = [...dirty.split('\0').filter(Boolean), ...found.filter((p) => !p.endsWith('/') && !sel.excludedPath(p, false))];
  return { record: r, checksum: before.checksum, changed: [...new Set(changed)].sort() };
}

/** Writes the probe index of a snapshot just taken by a scan: its files (the tree's), each with its stat where the stat cache vouches for its blob. */
export async function recordProbe(gitdir: string, root: string, file: string, files: () => Promise<BlobEntry[]>, cache: StatCache, record: IndexRecord): Promise<void> {
  if (!PLATFORM_OK || !caseSensitive(root) || !(await hasGit())) return;
  // The editor's extension host shares this thread: 10,000s of entries go in slices.
  const pause = yielder();
  // Entries of the index before, for files the stat cache still knows as they were, stand as they are: no lstat for them.
  const before = (await readEntries(file, pause))!;
  const list = await files();
  const second = currentSecond();
  const entries: IndexEntry[] = [];
  for (const [i, f] of list.entries()) {
    if ((i & 255) === 0) await pause();
    const fixed = before.get(f.path);
    entries.push(fixed && stillVouched(f, fixed, cache) ? { path: f.path, fixed } : freshEntry(root, f, cache, second));
  }
  writeIndex(gitdir, file, await encodeIndex(entries, record, pause));
}

/**
 * Writes the probe index of a snapshot taken from git's answer: the entries git found unchanged
 * stay as they are (git just matched their stat); the changed files get fresh ones, the removed
 * none. Skipped (the index removed: the next snapshot scans) when the index changed since git read it.
 */
export async function updateProbe(gitdir: string, root: string, file: string, answer: ProbeAnswer, changed: BlobEntry[], removed: string[], cache: StatCache, record: IndexRecord): Promise<void> {
  const pause = yielder();
  const before = await readEntries(file, pause, answer.checksum);
  if (!before) {
    fs.rmSync(file, { force: true });
    return;
  }
  for (const p of [...removed, ...changed.map((b) => b.path)]) before.delete(p);
  const second = currentSecond();
  const entries: IndexEntry[] = [...before].map(([p, fixed]) => ({ path: p, fixed }));
  for (const f of changed) entries.push(freshEntry(root, f, cache, second));
  writeIndex(gitdir, file, await encodeIndex(entries, record, pause));
}

/** The second now: a file whose ctime lies in it is not vouched for (git compares whole seconds of ctime, so a change later in it would pass unseen). */
function currentSecond(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

/** A file's entry from its stat now, the stat included only where the stat cache (or, for a link, its target) vouches for the blob. */
function freshEntry(root: string, f: BlobEntry, cache: StatCache, second: bigint): IndexEntry {
  const abs = path.join(root, ...f.path.split('/'));
  const stat = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
  const settled = stat && stat.ctimeNs / 1_000_000_000n < second;
  return { path: f.path, oid: f.oid, mode: f.mode as '100644' | '100755' | '120000', stat: settled && vouched(f, abs, stat, cache) ? stat : undefined };
}

function writeIndex(gitdir: string, file: string, data: Buffer): void {
  fs.mkdirSync(path.join(gitdir, 'info'), { recursive: true });
  const attributes = path.join(gitdir, 'info', 'attributes');
  if (readText(attributes) !== ATTRIBUTES) writeFileAtomic(attributes, ATTRIBUTES);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, data);
}

/** An earlier entry still stands when it names this blob and the stat cache still holds the stat it was written with. */
function stillVouched(f: BlobEntry, fixed: Buffer, cache: StatCache): boolean {
  const was = entryFacts(fixed);
  if (was.oid !== f.oid || was.mode !== parseInt(f.mode, 8) || f.mode === '120000' || cache.recordedBlob(f.path) !== f.oid) return false;
  const now = cache.recordedStat(f.path);
  return now !== undefined && now.size === was.size && now.ino === was.ino && now.mtimeMs === was.mtimeMs && now.ctimeMs === was.ctimeMs;
}

function vouched(f: BlobEntry, abs: string, st: fs.BigIntStats, cache: StatCache): boolean {
  if (f.mode === '120000') {
    // Links are not in the stat cache: read now.
    if (!st.isSymbolicLink()) return false;
    try {
      return blobId(Buffer.from(fs.readlinkSync(abs))) === f.oid;
    } catch {
      return false;
    }
  }
  if (!st.isFile() || cache.recordedBlob(f.path) !== f.oid) return false;
  const ms = (ns: bigint): number => statMs(Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n));
  return cache.unchanged(f.path, { size: Number(st.size), mtimeMs: ms(st.mtimeNs), ctimeMs: ms(st.ctimeNs), ino: Number(st.ino), mode: Number(st.mode) });
}

/**
 * Whether the workspace's file system tells names apart by case (macOS's usually does not): where
 * it does not, a folder renamed only in case keeps its files' stat, and git (told to compare
 * names exactly) would see them both gone and added under the new name, but not gone.
 */
function caseSensitive(root: string): boolean {
  const lower = fs.lstatSync(path.join(root, '.mlops'), { throwIfNoEntry: false });
  const upper = fs.lstatSync(path.join(root, '.MLOPS'), { throwIfNoEntry: false });
  return lower !== undefined && (upper === undefined || upper.ino !== lower.ino);
}

let gitFound: Promise<boolean> | undefined;
/** Whether git runs here, asked once per process: without it no probe index is worth writing. */
function hasGit(): Promise<boolean> {
  return (gitFound ??= gitOutput(['--version'], os.tmpdir(), process.env).then((v) => v !== undefined));
}

/**
 * A git command's output; undefined when it fails, or when it says anything on stderr but that it
 * skips our index extension: a folder it could not open is only a warning to git, and a scan
 * must then say what cannot be read.
 */
function gitOutput(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env, timeout: 10_000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const said = stderr.split('\n').filter((line) => line && line !== `ignoring ${INDEX_EXTENSION} extension`);
      resolve(err || said.length ? undefined : stdout);
    });
  });
}

function gitEnv(indexFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env, GIT_INDEX_FILE: indexFile, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: os.devNull, GIT_OPTIONAL_LOCKS: '0', GIT_LITERAL_PATHSPECS: '1',
    LC_ALL: 'C', LANGUAGE: '', // its messages untranslated, for gitOutput to read
  };
  for (const v of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_NAMESPACE', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT']) delete env[v];
  return env;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
