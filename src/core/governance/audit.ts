import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { moveAside, reportDamagedLine, writeRecord } from '../workspace/appendLog';
import { syncDir, writeAllSync, writeFileAtomic } from '../workspace/atomicFile';
import type { MlopsLayout } from '../workspace/layout';
import { FileLock, withFileLockSync } from '../workspace/fileLock';
import { currentUser } from '../workspace/user';
import type { AuditAction, AuditEntry, AuditVerdict } from './auditEntry';
import { type AnchorState, type AuditRecord, AUDIT_MISMATCH_ACTION, classifyLog, isConsistentTail, parseEntry, ZERO_HASH } from './auditVerify';

export { ZERO_HASH } from './auditVerify';
export type { AuditAction, AuditEntry, AuditProblem, AuditVerdict } from './auditEntry';

/**
 * Entries the log writes about itself when an append finds the log's tail is not
 * what the previous append left (see docs/audit.md, "When append finds damage").
 */
export const AUDIT_REPAIR_ACTION = 'audit.repair';
export { AUDIT_MISMATCH_ACTION } from './auditVerify';

export interface AuditLogOptions {
  /** How long `append` waits for another process's lock before failing (default 10 s). */
  lockTimeoutMs?: number;
}

const NEWLINE = 0x0a;
const TAIL_CHUNK = 8192;

/**
 * The tamper-evident audit trail of one workspace: `.mlops/audit.jsonl`, append
 * only, each line carrying the sha256 of the line before it, plus `.mlops/audit.head`
 * (the anchor: count and hash of the last line) so the last entry is covered too.
 * Safe to append from several processes at once (the extension and the CLI).
 */
export class AuditLog {
  readonly file: string;
  readonly headFile: string;
  readonly lockFile: string;
  private readonly lockTimeoutMs: number;

  constructor(readonly layout: MlopsLayout, options: AuditLogOptions = {}) {
    this.file = path.join(layout.dir, 'audit.jsonl');
    this.headFile = path.join(layout.dir, 'audit.head');
    this.lockFile = `${this.file}.lock`;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  }

  /**
   * Records one state change and returns the entry as written. Synchronous; the
   * line is on disk (fsynced) and the anchor updated when it returns.
   */
  append(action: AuditAction, subject: string[], details: Record<string, unknown> = {}): AuditEntry {
    if (typeof action !== 'string' || action.length === 0) throw new Error('An audit entry needs an action (e.g. "snapshot").');
    if (!Array.isArray(subject) || subject.some((s) => typeof s !== 'string')) throw new Error(`The subject of audit action "${action}" must be a list of ids (strings).`);
    JSON.stringify(details); // fail on unserialisable details before taking the lock
    fs.mkdirSync(this.layout.dir, { recursive: true });
    return withFileLockSync(this.file, () => this.appendLocked(action, subject, details), this.lockTimeoutMs);
  }

  /** The readable entries in file order (unreadable lines and a cut-off last line are skipped and reported; `verify` judges them). */
  entries(): AuditEntry[] {
    const out: AuditEntry[] = [];
    const { records, torn } = splitLog(this.readLog());
    records.forEach((record, i) => {
      if (record.entry) out.push(record.entry);
      else reportDamagedLine(this.file, i + 1, `${record.problem ?? 'not an audit entry'}; line skipped (mlops audit verify says more)`);
    });
    if (torn) reportDamagedLine(this.file, records.length + 1, 'the last line is cut off (no newline); it is skipped (mlops audit verify says more)');
    return out;
  }

  /** Checks the whole chain and the anchor; names the first entry that was edited, dropped, inserted or reordered. */
  verify(): AuditVerdict {
    const lock = fs.existsSync(this.layout.dir) ? FileLock.acquire(this.lockFile, this.lockTimeoutMs, { forReading: true }) : undefined;
    let data: Buffer;
    let anchor: AnchorState;
    try {
      data = this.readLog();
      anchor = this.readAnchor();
    } finally {
      lock?.release();
    }
    const { records, torn } = splitLog(data);
    return classifyLog(records, torn, anchor);
  }

  // ------------------------------------------------------------------ appending

  private appendLocked(action: AuditAction, subject: string[], details: Record<string, unknown>): AuditEntry {
    const fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
    try {
      const tail = readTail(fd);
      const anchor = this.readAnchor();
      const pending: { action: AuditAction; subject: string[]; details: Record<string, unknown> }[] = [];
      /** The line the next entry chains from. */
      let last = tail.last;
      let consistent = isConsistentTail(last, anchor);
      let separator = '';

      if (tail.torn) {
        const tornEntry = parseEntry(tail.torn.toString('utf8'));
        if (consistent && tornEntry && tornEntry.prev === (last?.hash ?? ZERO_HASH) && tornEntry.seq === (last?.entry?.seq ?? 0) + 1) {
          // A whole entry whose newline never reached the disk: complete it.
          writeAllSync(fd, Buffer.from('\n'));
          last = toRecord(tail.torn);
          consistent = isConsistentTail(last, anchor);
        } else if (consistent) {
          // An append cut off before it finished (audit.head never included it): move it aside, and say so.
          moveAside(fd, this.file, tail.tornStart, tail.tornStart + tail.torn.length);
          pending.push({
            action: AUDIT_REPAIR_ACTION,
            subject: [],
            details: {
              reason: 'An earlier append was cut off before it finished (a crash or a full disk); its partial line was moved to audit.jsonl.damaged.',
              removedBytes: tail.torn.length,
              removed: tail.torn.toString('utf8'),
            },
          });
        } else {
          // Not an interrupted append: keep the damaged line as evidence (verify reports it) and end it.
          separator = '\n';
          last = toRecord(tail.torn);
        }
      }

      let prevHash = last?.hash ?? ZERO_HASH;
      let prevSeq = last?.entry?.seq ?? tail.last?.entry?.seq ?? 0;
      if (!consistent) {
        // Record what was found, so that appending does not hide a damaged tail behind a fresh anchor.
        pending.unshift({
          action: AUDIT_MISMATCH_ACTION,
          subject: [],
          details: {
            reason: 'The end of audit.jsonl was not what audit.head recorded after the previous append: entries at the end were edited, dropped or cut off, or audit.head was changed or removed.',
            anchor: anchor.state,
            expected: anchor.state === 'present' ? { count: anchor.count, hash: anchor.hash } : null,
            found: { seq: last?.entry?.seq ?? null, hash: last?.hash ?? ZERO_HASH },
          },
        });
        if (anchor.state === 'present') prevSeq = Math.max(prevSeq, anchor.count);
      }

      const user = currentUser();
      const time = new Date().toISOString();
      let chunk = separator;
      let written: AuditEntry | undefined;
      for (const item of [...pending, { action, subject, details }]) {
        const entry: AuditEntry = { seq: prevSeq + 1, time, user, action: item.action, subject: [...item.subject], details: item.details, prev: prevHash };
        const line = JSON.stringify(entry);
        chunk += `${line}\n`;
        prevHash = sha256(line);
        prevSeq = entry.seq;
        written = entry;
      }
      const wasEmpty = fs.fstatSync(fd).size === 0;
      const appended = writeRecord(fd, this.file, [Buffer.from(chunk, 'utf8')], true);
      if (wasEmpty) syncDir(this.layout.dir);
      try {
        writeFileAtomic(this.headFile, `${JSON.stringify({ count: prevSeq, hash: prevHash })}\n`);
      } catch (err) {
        // The anchor could not follow (a full disk): the entry is taken back, so the append fails whole.
        fs.ftruncateSync(fd, appended.from);
        fs.fsyncSync(fd);
        throw err;
      }
      return JSON.parse(JSON.stringify(written)) as AuditEntry;
    } finally {
      fs.closeSync(fd);
    }
  }

  // ------------------------------------------------------------------ reading

  private readLog(): Buffer {
    try {
      return fs.readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
      throw err;
    }
  }

  private readAnchor(): AnchorState {
    let raw: string;
    try {
      raw = fs.readFileSync(this.headFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
      throw err;
    }
    try {
      const a = JSON.parse(raw) as { count?: unknown; hash?: unknown };
      if (typeof a.count === 'number' && Number.isInteger(a.count) && a.count >= 0 && typeof a.hash === 'string' && /^[0-9a-f]{64}$/.test(a.hash)) {
        return { state: 'present', count: a.count, hash: a.hash };
      }
    } catch {
      // fall through
    }
    return { state: 'unreadable' };
  }
}

/** sha256 hex of a line's exact bytes (no newline). */
export function sha256(line: string | Buffer): string {
  return createHash('sha256').update(line).digest('hex');
}

/** Splits the whole log into complete lines (with hashes and parsed entries) and a final line without newline. */
function splitLog(data: Buffer): { records: AuditRecord[]; torn?: Buffer } {
  const records: AuditRecord[] = [];
  let start = 0;
  for (;;) {
    const end = data.indexOf(NEWLINE, start);
    if (end === -1) break;
    records.push(toRecord(data.subarray(start, end)));
    start = end + 1;
  }
  return { records, torn: start < data.length ? data.subarray(start) : undefined };
}

function toRecord(bytes: Buffer): AuditRecord {
  const text = bytes.toString('utf8');
  return { text, hash: sha256(bytes), entry: parseEntry(text), problem: describeUnreadable(text) };
}

function describeUnreadable(text: string): string | undefined {
  if (text.trim() === '') return 'it is empty';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `it is not JSON: ${(err as Error).message}`;
  }
  return parseEntry(text) ? undefined : `it is JSON but not an audit entry (${missingField(value)})`;
}

function missingField(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const o = value as Record<string, unknown>;
  for (const key of ['seq', 'time', 'user', 'action', 'subject', 'details', 'prev']) if (!(key in o)) return `no "${key}"`;
  return 'a field has the wrong type';
}

interface Tail {
  /** The last complete line (with its newline), if any. */
  last?: AuditRecord;
  /** Offset just past the last newline: where a cut-off line starts. */
  tornStart: number;
  /** Bytes after the last newline: a line whose write never finished (or was cut). */
  torn?: Buffer;
}

/** Reads the last complete line and any unterminated bytes after it, backwards from the end (never the whole file). */
function readTail(fd: number): Tail {
  const size = fs.fstatSync(fd).size;
  let buf = Buffer.alloc(0);
  let pos = size;
  for (;;) {
    const lastNl = buf.lastIndexOf(NEWLINE);
    if (lastNl !== -1) {
      const prevNl = lastNl > 0 ? buf.lastIndexOf(NEWLINE, lastNl - 1) : -1;
      if (prevNl !== -1 || pos === 0) {
        const tornStart = pos + lastNl + 1;
        return {
          last: toRecord(buf.subarray(prevNl + 1, lastNl)),
          tornStart,
          torn: tornStart < size ? buf.subarray(lastNl + 1) : undefined,
        };
      }
    } else if (pos === 0) {
      return { tornStart: 0, torn: size > 0 ? buf : undefined };
    }
    const n = Math.min(TAIL_CHUNK, pos);
    pos -= n;
    const chunk = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(fd, chunk, got, n - got, pos + got);
      if (r === 0) throw new Error('audit.jsonl shrank while it was being read');
      got += r;
    }
    buf = Buffer.concat([chunk, buf]);
  }
}
