import * as os from 'node:os';
import { currentUser } from '../workspace/user';

/**
 * A snapshot's commit message: the user's message, a blank line, then trailers that keep
 * what git does not (which paths were chosen) and what `list` shows without reading trees:
 *
 *   Mlops-Files: 10000
 *   Mlops-Bytes: 20480000
 *   Mlops-Path: data
 *   Mlops-Path: models/model.onnx
 *
 * One `Mlops-Path` per chosen path; a path with a control character, or starting with a
 * quote, is written as a JSON string. A message that has no text of its own is not allowed
 * (the store puts "Snapshot of <paths>" there).
 */
export interface SnapshotMeta {
  message: string;
  paths: string[];
  fileCount: number;
  totalBytes: number;
}

const OURS = /^Mlops-(Files|Bytes|Path): (.*)$/;
const ANY_TRAILER = /^[A-Za-z0-9][A-Za-z0-9-]*: /;

/**
 * Our trailers join the message's own trailer block when it ends with one (e.g. a caller's
 * `Mlops-Run: <id>`), as `git interpret-trailers` would; otherwise they start a new paragraph.
 */
export function formatMessage(meta: SnapshotMeta): string {
  const lines = [`Mlops-Files: ${meta.fileCount}`, `Mlops-Bytes: ${meta.totalBytes}`];
  for (const p of meta.paths) lines.push(`Mlops-Path: ${/[\x00-\x1f\x7f]|^"/.test(p) ? JSON.stringify(p) : p}`);
  const body = meta.message.replace(/\s+$/, '').replace(/^\s+/, '');
  const cut = body.lastIndexOf('\n\n');
  const last = cut >= 0 ? body.slice(cut + 2) : '';
  const joins = last !== '' && last.split('\n').every((l) => ANY_TRAILER.test(l));
  return `${body}${joins ? '\n' : '\n\n'}${lines.join('\n')}\n`;
}

/** Reads our trailers back (other trailers stay in the message); a commit without them still yields its message. */
export function parseMessage(raw: string): SnapshotMeta {
  const text = raw.replace(/\s+$/, '');
  const cut = text.lastIndexOf('\n\n');
  const tail = cut >= 0 ? text.slice(cut + 2) : text;
  const lines = tail.split('\n');
  if (!lines.every((l) => ANY_TRAILER.test(l)) || !lines.some((l) => OURS.test(l))) return { message: text, paths: [], fileCount: 0, totalBytes: 0 };
  const meta: SnapshotMeta = { message: cut >= 0 ? text.slice(0, cut) : '', paths: [], fileCount: 0, totalBytes: 0 };
  const others: string[] = [];
  for (const l of lines) {
    const m = OURS.exec(l);
    if (!m) {
      others.push(l);
      continue;
    }
    const [, key, value] = m;
    if (key === 'Files') meta.fileCount = Number(value) || 0;
    else if (key === 'Bytes') meta.totalBytes = Number(value) || 0;
    else meta.paths.push(value.startsWith('"') ? safeJson(value) : value);
  }
  if (others.length) meta.message = meta.message ? `${meta.message}\n\n${others.join('\n')}` : others.join('\n');
  return meta;
}

function safeJson(v: string): string {
  try {
    return String(JSON.parse(v));
  } catch {
    return v;
  }
}

export interface GitPerson { name: string; email: string; timestamp: number; timezoneOffset: number }

/** "Name <email>" or "Name" → a git identity at time `ms`; default: the OS user at this host. */
export function person(author: string | undefined, ms: number): GitPerson {
  let name = '';
  let email = '';
  const m = /^\s*(.*?)\s*<([^<>]*)>\s*$/.exec(author ?? '');
  if (m) {
    name = m[1];
    email = m[2];
  } else if (author?.trim()) {
    name = author.trim();
  }
  const user = currentUser();
  // git refuses '<', '>' and newlines inside identities.
  const clean = (s: string): string => s.replace(/[<>\n\r\0]/g, '').trim();
  name = clean(name) || user;
  email = clean(email) || `${user}@${os.hostname()}`;
  return { name, email, timestamp: Math.floor(ms / 1000), timezoneOffset: new Date(ms).getTimezoneOffset() };
}

/** A commit object as git hashes it (header, then content), laid out as git and isomorphic-git write it. */
export function commitObject(c: { tree: string; parents: string[]; author: GitPerson; committer: GitPerson; message: string }): Buffer {
  const head = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`), `author ${identity(c.author)}`, `committer ${identity(c.committer)}`];
  const message = c.message.replace(/\r/g, '').replace(/^\n+/, '').replace(/\n+$/, '') + '\n';
  const content = Buffer.from(`${head.join('\n')}\n\n${message}`, 'utf8');
  return Buffer.concat([Buffer.from(`commit ${content.length}\0`), content]);
}

/** What a snapshot needs of a commit's content (after its `commit <size>\0` header): the inverse of commitObject. */
export interface ParsedCommit { tree: string; parents: string[]; author: { name: string; timestamp: number }; message: string }

export function parseCommit(content: Buffer): ParsedCommit {
  const text = content.toString('utf8');
  const blank = text.indexOf('\n\n');
  const head = (blank < 0 ? text : text.slice(0, blank)).split('\n');
  const value = (key: string): string[] => head.filter((l) => l.startsWith(`${key} `)).map((l) => l.slice(key.length + 1));
  const tree = value('tree')[0];
  const author = /^(.*) <[^>]*> (\d+) [+-]\d{4}$/.exec(value('author')[0] ?? '');
  if (!tree || !/^[0-9a-f]{40}$/.test(tree) || !author) throw new Error('it is not a well-formed commit');
  return { tree, parents: value('parent'), author: { name: author[1], timestamp: Number(author[2]) }, message: blank < 0 ? '' : text.slice(blank + 2) };
}

/** "Name <email> 1764000000 +0100" (JavaScript's timezone offset counts minutes west of UTC, git's east). */
function identity(p: GitPerson): string {
  const minutes = Math.abs(p.timezoneOffset);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${p.name} <${p.email}> ${p.timestamp} ${p.timezoneOffset > 0 ? '-' : '+'}${two(Math.floor(minutes / 60))}${two(minutes % 60)}`;
}
