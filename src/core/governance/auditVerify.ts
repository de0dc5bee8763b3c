import type { AuditEntry, AuditProblem, AuditVerdict } from './auditEntry';

/** `prev` of the first entry. */
export const ZERO_HASH = '0'.repeat(64);

/** Action of the entry an append writes when the log's tail did not match audit.head. */
export const AUDIT_MISMATCH_ACTION = 'audit.mismatch';

/** One complete line of the log. */
export interface AuditRecord {
  /** The line as text, without its newline. */
  text: string;
  /** sha256 hex of the line's exact bytes. */
  hash: string;
  /** The entry, when the line is a readable one. */
  entry?: AuditEntry;
  /** Why it is not readable, when it is not. */
  problem?: string;
}

/** What audit.head says: the seq and hash of the last line as of the last append. */
export interface TailAnchor {
  count: number;
  hash: string;
}

export type AnchorState = ({ state: 'present' } & TailAnchor) | { state: 'missing' } | { state: 'unreadable' };

/** Parses one line into an entry, or undefined when it is not a well-formed one. */
export function parseEntry(text: string): AuditEntry | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const ok =
    typeof o.seq === 'number' && Number.isInteger(o.seq) && o.seq > 0 &&
    typeof o.time === 'string' &&
    typeof o.user === 'string' &&
    typeof o.action === 'string' && o.action.length > 0 &&
    Array.isArray(o.subject) && o.subject.every((s) => typeof s === 'string') &&
    typeof o.details === 'object' && o.details !== null && !Array.isArray(o.details) &&
    typeof o.prev === 'string' && /^[0-9a-f]{64}$/.test(o.prev);
  return ok ? (o as unknown as AuditEntry) : undefined;
}

/**
 * Whether the log's last complete line is what audit.head says the last append
 * left: the same line, or the line after it (a crash between writing a line and
 * updating audit.head). A missing anchor counts as "nothing appended yet".
 * Append and verify use this same rule.
 */
export function isConsistentTail(last: AuditRecord | undefined, anchor: AnchorState): boolean {
  const a: TailAnchor = anchor.state === 'present' ? anchor : { count: 0, hash: ZERO_HASH };
  if (!last) return a.count === 0;
  if (!last.entry) return false;
  if (last.entry.seq === a.count && last.hash === a.hash) return true;
  return last.entry.seq === a.count + 1 && last.entry.prev === a.hash;
}

/**
 * The verdict over a whole log: walks the lines in order and stops at the first
 * one that is unreadable or breaks the chain, then looks at a cut-off last line
 * and the anchor. See docs/audit.md for what each verdict means.
 */
export function classifyLog(records: AuditRecord[], torn: Buffer | undefined, anchor: AnchorState): AuditVerdict {
  const count = records.length;
  const byHash = new Map<string, number[]>();
  records.forEach((r, i) => {
    const list = byHash.get(r.hash);
    if (list) list.push(i);
    else byHash.set(r.hash, [i]);
  });
  const fail = (line: number, seq: number | undefined, problem: AuditProblem, message: string): AuditVerdict => ({
    ok: false,
    count,
    line,
    ...(seq !== undefined ? { seq } : {}),
    problem,
    message,
  });
  const at = (idx: number): string => {
    const seq = seqOf(records[idx]);
    return `audit.jsonl line ${idx + 1}${seq !== undefined ? ` (seq ${seq})` : ''}`;
  };

  /** Checks the first `k` lines (already walked, so a continuous chain with seq = line) against an anchor. */
  const anchorCheck = (k: number, a: AnchorState, noticed: string): AuditVerdict | undefined => {
    const lastSeq = k ? records[k - 1].entry!.seq : 0;
    if (a.state !== 'present') {
      if (k <= 1) return undefined;
      const why = a.state === 'missing'
        ? 'it is rewritten after every append, so its absence means it was deleted'
        : 'it is rewritten after every append, so damage to it means it was changed outside MLOps Workbench';
      return fail(k, lastSeq, 'unreadable',
        `${at(k - 1)}: audit.head is ${a.state}, and it is what vouches for the last entry, so an edit to this entry cannot be ruled out (${why})${noticed}.`);
    }
    if (a.count > lastSeq) {
      const n = a.count - lastSeq;
      const which = n === 1 ? `entry seq ${a.count} was` : `entries seq ${lastSeq + 1}–${a.count} were`;
      const end = k ? `the file ends at line ${k} (seq ${lastSeq})` : 'the file is empty';
      return fail(k + 1, lastSeq + 1, 'dropped',
        `audit.jsonl line ${k + 1}: the last ${n === 1 ? 'entry' : `${n} entries`} dropped: ${which} recorded in audit.head, but ${end}${noticed}.`);
    }
    if (a.count === 0) return undefined;
    const idx = records[a.count - 1]?.entry?.seq === a.count ? a.count - 1 : records.findIndex((r) => r.entry?.seq === a.count);
    if (idx >= 0 && records[idx].hash === a.hash) return undefined;
    const rewritten = idx >= 0 && idx < k - 1 ? '; the entries after it were rewritten to chain to the edited version' : '';
    return fail(idx + 1, a.count, 'edited',
      `${at(idx)}: the entry was edited after it was written (its hash no longer matches the one audit.head recorded when it was appended${rewritten})${noticed}.`);
  };

  for (let idx = 0; idx < records.length; idx++) {
    const rec = records[idx];
    const e = rec.entry;
    if (!e) {
      return fail(idx + 1, seqOf(rec), 'unreadable',
        `${at(idx)}: the line is not a readable audit entry (${rec.problem ?? 'unknown reason'}); it was written or changed outside MLOps Workbench.`);
    }
    if (e.action === AUDIT_MISMATCH_ACTION) {
      const recorded = anchorFromDetails(e.details);
      const noticed = ` (found when the entry at line ${idx + 1}, seq ${e.seq}, was appended at ${e.time} by ${e.user})`;
      const problem = anchorCheck(idx, recorded, noticed);
      if (problem) return problem;
    }
    const prevHash = idx === 0 ? ZERO_HASH : records[idx - 1].hash;
    const prevSeq = idx === 0 ? 0 : records[idx - 1].entry!.seq;
    const linkOk = e.prev === prevHash;
    const seqOk = e.seq === prevSeq + 1;
    if (linkOk && seqOk) continue;

    if (linkOk) {
      return fail(idx + 1, e.seq, 'edited',
        `${at(idx)}: the entry was edited after it was written (its seq was changed: it follows seq ${prevSeq}, so it was ${prevSeq + 1})`);
    }

    // The entry does not record the hash of the line before it. Where does its chain fit?
    const matches = e.prev === ZERO_HASH ? [-1] : byHash.get(e.prev) ?? [];
    const later = matches.find((j) => j > idx);
    if (later !== undefined) {
      return fail(idx + 1, e.seq, 'reordered',
        `${at(idx)}: the entry is out of order: it was written right after ${describe(records, later)}, which is now further down at line ${later + 1}.`);
    }
    const copyOf = (byHash.get(rec.hash) ?? []).find((j) => j < idx);
    if (copyOf !== undefined) {
      return fail(idx + 1, e.seq, 'inserted',
        `${at(idx)}: the entry was inserted: it is a copy of line ${copyOf + 1}, repeated out of place.`);
    }
    const earlier = matches.filter((j) => j < idx - 1).pop();
    if (earlier !== undefined) {
      const first = earlier + 1;
      const n = idx - first;
      const lines = n === 1 ? `the entry` : `this and the next ${n - 1} entr${n - 1 === 1 ? 'y' : 'ies'} (lines ${first + 1}–${idx})`;
      const before = earlier === -1 ? 'the start of the log' : describe(records, earlier);
      return fail(first + 1, seqOf(records[first]), 'inserted',
        `${at(first)}: ${lines} ${n === 1 ? 'was' : 'were'} inserted: the entry at line ${idx + 1} (seq ${e.seq}) records ${before} as the entry directly before it.`);
    }
    const next = records[idx + 1]?.entry;
    if (next && next.prev === prevHash) {
      return fail(idx + 1, e.seq, 'inserted',
        `${at(idx)}: the entry was inserted: it is not part of the chain (the entry after it, line ${idx + 2}, records ${idx === 0 ? 'the start of the log' : describe(records, idx - 1)} as the entry directly before it).`);
    }
    if (e.seq > prevSeq + 1) {
      const first = prevSeq + 1;
      const last = e.seq - 1;
      const which = first === last ? `entry seq ${first} was` : `entries seq ${first}–${last} were`;
      return fail(idx + 1, first, 'dropped',
        `audit.jsonl line ${idx + 1}: ${which} dropped: ${idx === 0 ? 'the log starts' : `seq ${prevSeq} (line ${idx}) is followed`} by seq ${e.seq}, which records the hash of an entry that is no longer in the file.`);
    }
    if (e.seq === prevSeq + 1) {
      if (idx === 0) {
        return fail(1, e.seq, 'edited', `${at(0)}: the entry was edited after it was written (as the first entry it must record 64 zeros as the previous hash).`);
      }
      if (nextLinkOk(records, idx, anchor)) {
        return fail(idx, prevSeq, 'edited',
          `${at(idx - 1)}: the entry was edited after it was written (its hash no longer matches what the next entry, line ${idx + 1} seq ${e.seq}, recorded).`);
      }
      return fail(idx + 1, e.seq, 'edited',
        `${at(idx)}: the entry was edited or replaced after it was written (it does not record the hash of the entry before it, and ${idx + 1 < records.length ? 'the entry after it does not record its hash' : 'audit.head does not match it'}).`);
    }
    if (e.seq === prevSeq) {
      return fail(idx + 1, e.seq, 'inserted', `${at(idx)}: the entry was inserted: seq ${e.seq} already appears on line ${idx}, and this entry is not part of the chain.`);
    }
    return fail(idx + 1, e.seq, 'reordered', `${at(idx)}: the entry is out of order: seq goes back from ${prevSeq} to ${e.seq}.`);
  }

  if (torn) {
    const seq = /^\{"seq":(\d+)/.exec(torn.toString('utf8'))?.[1];
    const where = `audit.jsonl line ${count + 1}${seq ? ` (seq ${seq})` : ''}`;
    const interrupted = isConsistentTail(records[count - 1], anchor);
    return fail(count + 1, seq ? Number(seq) : undefined, 'truncated', interrupted
      ? `${where}: the last line is cut off (${torn.length} bytes, no newline): an append was interrupted before it finished (audit.head never included it), so that action's record is incomplete. The next append removes the partial line and records the repair.`
      : `${where}: the last line is cut off (${torn.length} bytes, no newline): the entry was truncated after it was written.`);
  }

  return anchorCheck(count, anchor, '') ?? { ok: true, count };
}

/** Whether the link out of line `idx` (to the next line, or to audit.head for the last line) holds, as far as known. */
function nextLinkOk(records: AuditRecord[], idx: number, anchor: AnchorState): boolean {
  const rec = records[idx];
  const next = records[idx + 1];
  if (next) return next.entry ? next.entry.prev === rec.hash : true;
  if (anchor.state !== 'present' || anchor.count !== rec.entry!.seq) return true;
  return anchor.hash === rec.hash;
}

function anchorFromDetails(details: Record<string, unknown>): AnchorState {
  const expected = details.expected as { count?: unknown; hash?: unknown } | null | undefined;
  if (expected && typeof expected.count === 'number' && typeof expected.hash === 'string') return { state: 'present', count: expected.count, hash: expected.hash };
  return { state: details.anchor === 'unreadable' ? 'unreadable' : 'missing' };
}

function describe(records: AuditRecord[], idx: number): string {
  const seq = seqOf(records[idx]);
  return seq !== undefined ? `seq ${seq}` : `line ${idx + 1}`;
}

function seqOf(rec: AuditRecord | undefined): number | undefined {
  if (!rec) return undefined;
  if (rec.entry) return rec.entry.seq;
  const m = /"seq"\s*:\s*(\d+)/.exec(rec.text);
  return m ? Number(m[1]) : undefined;
}
