import { createHash } from 'node:crypto';
import git, { type HttpClient } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { CHAIN_REF, SNAPSHOT_REFS, snapshotRef, tagRef } from './refs';
import type { GitContext } from './trees';
import { SnapshotError, type PushResult, type RemoteOptions } from './types';

/** What push and fetch need from the store. */
export interface LocalSide {
  ctx: GitContext;
  /** Every local snapshot id → its parents. */
  graph(): Promise<Map<string, string[]>>;
  chainHead(): Promise<string | undefined>;
  tags(): Promise<Map<string, string>>;
  /** Whether the commit and everything it needs is in the store. */
  hasCommit(id: string): boolean;
  parentsOf(id: string): Promise<string[]>;
  /** Writes refs/snapshots/<id> for these ids, and tags that do not exist yet, under the write lock. */
  recordFetched(ids: string[], tags: Map<string, string>): Promise<void>;
}

const ZERO = '0'.repeat(40);
/** The fetch refspec isomorphic-git insists on; it matches nothing, so fetch writes no refs (the store writes them after the pack is in place). */
const FETCH_REMOTE = 'mlops';
const NO_OP_REFSPEC = '+refs/mlops/none:refs/mlops/none';

/** Remote ref name → commit id (annotated tags peeled). */
async function remoteRefs(url: string, headers: Record<string, string>, forPush: boolean): Promise<Map<string, string>> {
  // getRemoteInfo2, not listServerRefs: the latter mistakes an empty repository's advertisement for protocol v2.
  const info = await remoteCall(url, forPush ? 'push to' : 'fetch from', () => git.getRemoteInfo2({ http, url, headers, forPush, protocolVersion: 1 }));
  const out = new Map<string, string>();
  for (const r of info.refs ?? []) out.set(r.ref, r.peeled ?? r.oid);
  return out;
}

/** Ancestors-or-self of `tips` within the local snapshot graph. */
function reachable(graph: Map<string, string[]>, tips: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack = [...tips].filter((t) => graph.has(t));
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const p of graph.get(id) ?? []) if (graph.has(p)) stack.push(p);
  }
  return seen;
}

/**
 * Pushes every snapshot ref and tag. Data moves with isomorphic-git's push, which negotiates
 * only against the refs the remote advertises, so it is used where it sends little: the chain
 * (a fast-forward of refs/heads/snapshots sends only new objects) and snapshots the remote
 * cannot reach. Refs to commits the remote already has (older snapshots, tags) are then set in
 * one receive-pack request carrying an empty pack.
 */
export async function pushSnapshots(local: LocalSide, url: string, options: RemoteOptions = {}): Promise<PushResult> {
  const headers = options.headers ?? {};
  const remote = await remoteRefs(url, headers, true);
  const graph = await local.graph();
  const updated: string[] = [];
  const pushOne = async (ref: string): Promise<void> => {
    const res = await remoteCall(url, 'push to', () => git.push({ fs: local.ctx.fs, gitdir: local.ctx.gitdir, cache: local.ctx.cache, http, url, ref, remoteRef: ref, headers, signal: options.signal }));
    const status = res.refs?.[ref];
    if (!res.ok || (status && !status.ok)) throw new SnapshotError(`The remote ${redactUrl(url)} refused ${ref}: ${status?.error ?? res.error ?? 'no reason given'}. Check that pushing is allowed (for git http-backend: http.receivepack).`, 'remote');
    remote.set(ref, (await git.resolveRef({ fs: local.ctx.fs, gitdir: local.ctx.gitdir, ref })));
    updated.push(ref);
  };

  // 1. The chain, when the remote has none or ours extends it.
  const head = await local.chainHead();
  let chainPushed = false;
  if (head) {
    const theirs = remote.get(CHAIN_REF);
    if (theirs === head) chainPushed = true;
    else if (!theirs || reachable(graph, [head]).has(theirs)) {
      await pushOne(CHAIN_REF);
      chainPushed = true;
    }
  }
  // 2. Snapshots the remote cannot reach yet, newest tips first (one push sends a tip's whole history).
  const remoteHas = (): Set<string> => reachable(graph, remote.values());
  const ids = [...graph.keys()];
  const parents = new Set([...graph.values()].flat());
  for (const tip of ids.filter((id) => !parents.has(id))) {
    if (!remoteHas().has(tip)) await pushOne(snapshotRef(tip));
  }
  // 3. Every other missing snapshot ref, and the tags, point at commits the remote now has.
  const has = remoteHas();
  const cheap: { ref: string; old: string; id: string }[] = [];
  for (const id of ids) {
    const ref = snapshotRef(id);
    if (remote.get(ref) !== id && has.has(id)) cheap.push({ ref, old: remote.get(ref) ?? ZERO, id });
  }
  const conflicts: string[] = [];
  for (const [name, id] of await local.tags()) {
    const ref = tagRef(name);
    const theirs = remote.get(ref);
    if (theirs === id) continue;
    if (theirs) {
      conflicts.push(name);
      continue;
    }
    if (has.has(id)) cheap.push({ ref, old: ZERO, id });
    else await pushOne(ref);
  }
  if (cheap.length) {
    await updateRefsOnly(url, headers, cheap, options.signal);
    updated.push(...cheap.map((c) => c.ref));
  }
  if (conflicts.length) {
    throw new SnapshotError(
      `Pushed the snapshots, but the remote ${redactUrl(url)} already has tag${conflicts.length > 1 ? 's' : ''} ${conflicts.map((c) => `"${c}"`).join(', ')} pointing at other snapshots; tags are never moved on a remote. Tag your snapshot under another name and push again.`,
      'tag-exists',
    );
  }
  return { updated, chainPushed };
}

/**
 * Fetches every snapshot the remote has and this store lacks: its chain, its
 * refs/snapshots/*, and the snapshots its tags point at. Returns the ids that arrived.
 */
export async function fetchSnapshots(local: LocalSide, url: string, options: RemoteOptions = {}): Promise<string[]> {
  const headers = options.headers ?? {};
  const remote = await remoteRefs(url, headers, false);
  const wanted: { ref: string; id: string }[] = [];
  const chain = remote.get(CHAIN_REF);
  if (chain) wanted.push({ ref: CHAIN_REF, id: chain });
  for (const [ref, id] of remote) if (ref.startsWith(SNAPSHOT_REFS + '/')) wanted.push({ ref, id });
  const remoteTags = new Map<string, string>();
  for (const [ref, id] of remote) {
    if (!ref.startsWith('refs/tags/') || ref.endsWith('^{}')) continue;
    remoteTags.set(ref.slice('refs/tags/'.length), id);
    wanted.push({ ref, id });
  }
  if (wanted.some((w) => !local.hasCommit(w.id))) await ensureFetchConfig(local.ctx);
  for (const w of wanted) {
    if (options.signal?.aborted) throw new SnapshotError('The fetch was cancelled; snapshots that arrived completely were kept.', 'cancelled');
    if (local.hasCommit(w.id)) continue;
    await remoteCall(url, 'fetch from', () =>
      git.fetch({ fs: local.ctx.fs, gitdir: local.ctx.gitdir, cache: local.ctx.cache, http: fetchHttp, url, remote: FETCH_REMOTE, ref: CHAIN_REF, remoteRef: w.ref, singleBranch: true, tags: false, headers }),
    );
    if (!local.hasCommit(w.id)) throw new SnapshotError(`Fetched ${w.ref} from ${redactUrl(url)} but commit ${w.id} did not arrive; check that the URL is a snapshot store.`, 'remote');
  }
  // Every commit reachable from what the remote offered is a snapshot; give the new ones a ref.
  const known = await local.graph();
  const arrived: string[] = [];
  const stack = wanted.map((w) => w.id);
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || known.has(id)) continue;
    seen.add(id);
    arrived.push(id);
    stack.push(...(await local.parentsOf(id)));
  }
  const newTags = new Map<string, string>();
  const localTags = await local.tags();
  for (const [name, id] of remoteTags) if (!localTags.has(name) && local.hasCommit(id)) newTags.set(name, id);
  await local.recordFetched(arrived, newTags);
  return arrived;
}

/**
 * isomorphic-git's fetch insists that the remote advertise HEAD, which a bare remote whose HEAD
 * names a branch nobody pushed (say `main`, while snapshots live elsewhere) does not. This
 * client adds a HEAD line to the upload-pack advertisement when it lacks one (pointing at the
 * first advertised ref); fetch uses it only to describe FETCH_HEAD.
 */
const fetchHttp: HttpClient = {
  async request(req) {
    const res = await http.request(req);
    if ((req.method ?? 'GET') !== 'GET' || !/\/info\/refs\?service=git-upload-pack/.test(req.url) || res.statusCode !== 200 || !res.body) return res;
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(Buffer.from(c));
    const patched = addHeadToAdvertisement(Buffer.concat(chunks));
    return { ...res, body: (async function* () { yield patched; })() };
  },
};

function addHeadToAdvertisement(b: Buffer): Buffer {
  const lines: Buffer[] = [];
  for (let i = 0; i + 4 <= b.length; ) {
    const len = parseInt(b.subarray(i, i + 4).toString('latin1'), 16);
    const end = len === 0 ? i + 4 : i + len;
    if (Number.isNaN(len) || end > b.length) return b; // not what we expect: leave it alone
    lines.push(b.subarray(i, end));
    i = end;
  }
  const refLine = (l: Buffer): { oid: string; name: string } | undefined => {
    if (l.length <= 4 + 41) return undefined;
    const text = l.subarray(4).toString('latin1');
    const m = /^([0-9a-f]{40}) ([^\0\n]+)/.exec(text);
    return m ? { oid: m[1], name: m[2] } : undefined;
  };
  const refs = lines.map(refLine);
  if (refs.some((r) => r?.name === 'HEAD')) return b;
  const first = refs.findIndex((r) => r && r.name !== 'capabilities^{}');
  if (first < 0) return b;
  lines.splice(first + 1, 0, pktLine(`${refs[first]!.oid} HEAD\n`));
  return Buffer.concat(lines);
}

async function ensureFetchConfig(ctx: GitContext): Promise<void> {
  const have = await git.getConfig({ fs: ctx.fs, gitdir: ctx.gitdir, path: `remote.${FETCH_REMOTE}.fetch` });
  if (have !== NO_OP_REFSPEC) await git.setConfig({ fs: ctx.fs, gitdir: ctx.gitdir, path: `remote.${FETCH_REMOTE}.fetch`, value: NO_OP_REFSPEC });
}

/**
 * Sets refs to commits the remote already has: one receive-pack request with the ref
 * commands and an empty pack (git's own push sends the same when no objects are needed).
 */
async function updateRefsOnly(url: string, headers: Record<string, string>, updates: { ref: string; old: string; id: string }[], signal?: AbortSignal): Promise<void> {
  const lines = updates.map((u, i) => pktLine(`${u.old} ${u.id} ${u.ref}${i === 0 ? '\0report-status' : ''}\n`));
  const header = Buffer.from([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 0]); // "PACK", version 2, 0 objects
  const emptyPack = Buffer.concat([header, createHash('sha1').update(header).digest()]);
  const body = Buffer.concat([...lines, Buffer.from('0000'), emptyPack]);
  const res = await remoteCall(url, 'push to', async () => {
    const r = await http.request({
      url: `${url.replace(/\/+$/, '')}/git-receive-pack`,
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-git-receive-pack-request', accept: 'application/x-git-receive-pack-result', 'content-length': String(body.length) },
      body: (async function* () { yield body; })(),
      signal,
    });
    const chunks: Buffer[] = [];
    if (r.body) for await (const c of r.body) chunks.push(Buffer.from(c));
    return { status: r.statusCode, text: Buffer.concat(chunks) };
  });
  if (res.status !== 200) throw new SnapshotError(`The remote ${redactUrl(url)} refused the ref update (HTTP ${res.status}). Check the URL, your credentials and that pushing is allowed.`, 'remote');
  const report = parsePktLines(res.text);
  const unpack = report.find((l) => l.startsWith('unpack '));
  const failed = report.filter((l) => l.startsWith('ng '));
  if (unpack !== 'unpack ok' || failed.length) {
    throw new SnapshotError(`The remote ${redactUrl(url)} refused: ${[unpack, ...failed].filter(Boolean).join('; ') || 'no report'}.`, 'remote');
  }
}

function pktLine(s: string): Buffer {
  const payload = Buffer.from(s);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}

function parsePktLines(b: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i + 4 <= b.length; ) {
    const len = parseInt(b.subarray(i, i + 4).toString(), 16);
    if (!len) {
      i += 4;
      continue;
    }
    out.push(b.subarray(i + 4, i + len).toString().replace(/\n$/, ''));
    i += len;
  }
  return out;
}

async function remoteCall<T>(url: string, verb: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    const e = err as { code?: string; name?: string; message?: string; data?: { statusCode?: number } };
    if (e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'UserCanceledError') throw new SnapshotError(`The ${verb === 'push to' ? 'push' : 'fetch'} was cancelled.`, 'cancelled', { cause: err });
    const status = e.data?.statusCode;
    const hint =
      status === 401 || status === 403 ? 'check your credentials (pass an Authorization header)'
      : status === 404 ? 'check the URL: it should name a git repository'
      : e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' ? 'check the URL and that the server is reachable'
      : 'check the URL and that it is a git remote served over HTTP(S)';
    throw new SnapshotError(`Could not ${verb} ${redactUrl(url)}: ${e.message ?? String(err)}; ${hint}.`, 'remote', { cause: err });
  }
}

/** A URL without credentials, for messages and the audit trail. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}
