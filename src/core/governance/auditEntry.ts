// The shapes of the audit trail's entries and of a verification's verdict: read by the log
// (audit.ts) and by the checker (auditVerify.ts), so neither imports the other both ways.

/** What happened. Later issues add `deploy` and `promote`; any other name is allowed. */
export type AuditAction =
  | 'snapshot'
  | 'restore'
  | 'tag'
  | 'push'
  | 'fetch'
  | 'register'
  | 'alias'
  | 'delete'
  | 'reproduce'
  | (string & {});

/** One line of `.mlops/audit.jsonl`, in this key order. */
export interface AuditEntry {
  /** 1, 2, 3, … in file order: makes drops, inserts and reorders nameable. */
  seq: number;
  /** ISO 8601, UTC. */
  time: string;
  user: string;
  action: AuditAction;
  /** Ids of what changed: a snapshot id, `model:name/version`, a run id, … */
  subject: string[];
  details: Record<string, unknown>;
  /** sha256 (hex) of the exact bytes of the previous line, without its newline; 64 zeros for the first entry. */
  prev: string;
}

export type AuditProblem = 'edited' | 'dropped' | 'inserted' | 'reordered' | 'unreadable' | 'truncated';

export type AuditVerdict =
  | { ok: true; count: number }
  | {
      ok: false;
      /** Complete lines in audit.jsonl (readable or not). */
      count: number;
      /** 1-based line of the first bad entry (for a drop: where the missing entry belongs). */
      line: number;
      /** seq of that entry (for a drop: the first missing seq), when known. */
      seq?: number;
      problem: AuditProblem;
      message: string;
    };
