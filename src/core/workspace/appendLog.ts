import * as fs from 'node:fs';
import { isDiskFull } from './diskFull';
import { sleep } from './fileLock';

/**
 * The one way every append-only log of a workspace is written (run events.jsonl,
 * registry.jsonl, audit.jsonl, experiments.jsonl, and the logs to come). The promise
 * (docs/durability.md):
 * - a record is whole lines, written with one O_APPEND write, before the caller answers;
 * - a write that fails (a full disk) is undone: the file is cut back to its length before it;
 * - nothing is appended after a torn line: a log whose tail does not end in "\n" (a write cut
 *   off by a crash, or the NUL bytes a power loss can leave) first has those bytes moved to
 *   `<log>.damaged` beside it, kept for inspection and reported once.
 */

/** Damage found in a log: by an append (a tail moved aside) or by a reader (a line it could not read). */
export interface LogDamage {
  file: string;
  /** 1-based line of the log. */
  line: number;
  message: string;
}

/** A damaged tail moved aside. */
export interface DamagedTail extends LogDamage {
  /** Where the moved bytes are kept. */
  damagedFile: string;
  bytes: number;
}

export interface AppendOptions {
  /** Create the log when it is missing (default true); false: a missing log throws ENOENT. */
  create?: boolean;
  /** fsync before returning, so the record also survives a power loss (rare, small logs). */
  sync?: boolean;
}

/** Where a record landed: the log's size before and after the write (more than the record when another writer's lines came in between). */
export interface Appended {
  from: number;
  to: number;
}

/** A tail younger than this may be another process's write in progress, not damage: it is given this long to finish. */
const IN_FLIGHT_MS = 1_000;
const NEWLINE = 0x0a;
const SCAN_CHUNK = 64 * 1024;

type DamageListener = (damage: LogDamage) => void;
const listeners = new Set<DamageListener>();
/** What readers reported already: each damaged line is reported once per process. */
const reported = new Set<string>();

/** Hears of damage found in any log in this process; without a listener it goes to stderr. Returns the unsubscribe. */
export function onDamagedLog(listener: DamageListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function report(damage: LogDamage): void {
  if (listeners.size === 0) process.stderr.write(`mlops: warning: ${damage.message}\n`);
  for (const listener of listeners) listener(damage);
}

/** A reader's report of a line it could not read (`why`: what is wrong and what happens to it), once per process. */
export function reportDamagedLine(file: string, line: number, why: string): void {
  const message = `${file}:${line}: ${why}`;
  if (reported.has(message)) return;
  reported.add(message);
  report({ file, line, message });
}

/** Whether a log's tail without a newline is old enough to be damage, not another process's write still under way. */
export function isSettled(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs >= IN_FLIGHT_MS;
  } catch {
    return false;
  }
}

/** Appends one record (whole lines) to a log, under the rules above. */
export function appendRecord(file: string, record: string | Buffer | readonly Buffer[], options: AppendOptions = {}): Appended {
  const buffers = typeof record === 'string' ? [Buffer.from(record)] : Buffer.isBuffer(record) ? [record] : record;
  const flags = fs.constants.O_RDWR | fs.constants.O_APPEND | (options.create === false ? 0 : fs.constants.O_CREAT);
  const fd = fs.openSync(file, flags, 0o644);
  try {
    moveDamagedTailAside(fd, file);
    return writeRecord(fd, file, buffers, options.sync ?? false);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes the buffers at the end of the log open on `fd` (O_APPEND) with one write; on failure
 * cuts the log back to its length before the write and throws a LogWriteError.
 */
export function writeRecord(fd: number, file: string, buffers: readonly Buffer[], sync: boolean): Appended {
  let length = 0;
  for (const b of buffers) length += b.length;
  const from = fs.fstatSync(fd).size;
  let written = 0;
  try {
    written = length ? fs.writevSync(fd, buffers as Buffer[]) : 0;
    if (written < length) {
      // Only a full disk or a signal writes less: the rest goes on, or fails and is undone below.
      const all = Buffer.concat(buffers as Buffer[]);
      while (written < length) written += fs.writeSync(fd, all, written);
    }
    if (sync) fs.fsyncSync(fd);
  } catch (err) {
    throw undoFailedWrite(fd, file, from, written, err as NodeJS.ErrnoException);
  }
  return { from, to: fs.fstatSync(fd).size };
}

/**
 * Takes a record back out of a log (its companion write failed), when it is still the last
 * thing in it; returns whether it was.
 */
export function undoAppend(file: string, appended: Appended): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR);
    if (fs.fstatSync(fd).size !== appended.to) return false;
    fs.ftruncateSync(fd, appended.from);
    fs.fsyncSync(fd);
    return true;
  } catch {
    return false; // the caller reports the error that made it undo
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** An append that failed and was undone (the log holds nothing of it); `code` is the system's (ENOSPC: the disk is full). */
export class LogWriteError extends Error {
  constructor(message: string, readonly code: string | undefined, readonly file: string) {
    super(message);
  }
}

function undoFailedWrite(fd: number, file: string, from: number, written: number, err: NodeJS.ErrnoException): LogWriteError {
  const why = isDiskFull(err) ? 'the disk is full' : err.message;
  let undone = false;
  try {
    // Cut only what is ours: when another writer appended after our partial bytes, cutting would remove its lines.
    if (fs.fstatSync(fd).size === from + written) {
      if (written > 0) fs.ftruncateSync(fd, from);
      undone = true;
    }
  } catch {
    // Left as a torn tail: the next append moves it aside.
  }
  const outcome = undone ? 'nothing of it was kept' : 'its partial line will be moved aside by the next append';
  return new LogWriteError(`Could not append to ${file}: ${why} (${err.code ?? 'error'}); ${outcome}.`, err.code, file);
}

/**
 * When the log open on `fd` does not end in "\n", moves the bytes after its last newline to
 * `<file>.damaged` and cuts them off; returns what was moved. A tail still being written by
 * another process (younger than IN_FLIGHT_MS) is waited for first.
 */
export function moveDamagedTailAside(fd: number, file: string): DamagedTail | undefined {
  const deadline = Date.now() + IN_FLIGHT_MS;
  for (;;) {
    const st = fs.fstatSync(fd);
    const start = damagedTailStart(fd, st.size);
    if (start === undefined) return undefined;
    if (Date.now() - st.mtimeMs < IN_FLIGHT_MS && Date.now() < deadline) {
      sleep(5);
      continue;
    }
    const damage = moveAside(fd, file, start, st.size);
    if (damage) return damage;
  }
}

/**
 * Moves the bytes [start, size) of the log open on `fd` to `<file>.damaged` and cuts them off,
 * for a caller that knows no other process is writing (it holds the log's lock). Undefined
 * when the log is no longer `size` long (another writer got there first).
 */
export function moveAside(fd: number, file: string, start: number, size: number): DamagedTail | undefined {
  const damaged = Buffer.alloc(size - start);
  readFully(fd, damaged, start);
  const damagedFile = `${file}.damaged`;
  // Kept before it is cut: when the disk is too full to keep it, the append fails and nothing is lost.
  fs.appendFileSync(damagedFile, Buffer.concat([damaged, Buffer.from('\n')]));
  if (fs.fstatSync(fd).size !== size) return undefined;
  fs.ftruncateSync(fd, start);
  const line = countLines(fd, start) + 1;
  const nuls = damaged.every((b) => b === 0);
  const damage: DamagedTail = {
    file, damagedFile, line, bytes: damaged.length,
    message: `${file}:${line}: the last line was cut off (${damaged.length} ${nuls ? 'NUL bytes, as a crash can leave' : 'bytes without a newline: a write cut off by a crash or a full disk'}); moved it to ${damagedFile} before appending.`,
  };
  report(damage);
  return damage;
}

/** Offset just past the last newline when the log does not end in one; undefined when it does (or is empty). */
export function damagedTailStart(fd: number, size: number): number | undefined {
  if (size === 0) return undefined;
  const last = Buffer.alloc(1);
  readFully(fd, last, size - 1);
  if (last[0] === NEWLINE) return undefined;
  let end = size;
  const chunk = Buffer.alloc(SCAN_CHUNK);
  while (end > 0) {
    const from = Math.max(0, end - SCAN_CHUNK);
    const view = chunk.subarray(0, end - from);
    readFully(fd, view, from);
    const nl = view.lastIndexOf(NEWLINE);
    if (nl >= 0) return from + nl + 1;
    end = from;
  }
  return 0;
}

function countLines(fd: number, end: number): number {
  let lines = 0;
  const chunk = Buffer.alloc(SCAN_CHUNK);
  for (let at = 0; at < end; at += SCAN_CHUNK) {
    const view = chunk.subarray(0, Math.min(SCAN_CHUNK, end - at));
    readFully(fd, view, at);
    for (let i = view.indexOf(NEWLINE); i >= 0; i = view.indexOf(NEWLINE, i + 1)) lines++;
  }
  return lines;
}

function readFully(fd: number, into: Buffer, position: number): void {
  for (let got = 0; got < into.length;) {
    const n = fs.readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) throw new Error(`the log shrank while it was being read (at byte ${position + got})`);
    got += n;
  }
}
