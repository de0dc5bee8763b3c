import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import type { NewRunEvent } from './events';

/** A run id: 32 lowercase hex characters (the same shape MLflow uses). */
export function newRunId(): string {
  return randomUUID().replace(/-/g, '');
}

/** One event as a log line; NaN/±Infinity must already be encoded as strings. */
export function eventLine(event: NewRunEvent): string {
  const { type, time, ...rest } = event;
  return JSON.stringify({ type, time: time ?? Date.now(), ...rest }) + '\n';
}

/**
 * Appends whole lines with one write on an O_APPEND descriptor, so the launcher and
 * the Python client can share a log without interleaving lines.
 */
export function appendEvents(file: string, events: NewRunEvent[]): void {
  if (events.length === 0) return;
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
  try {
    fs.writeSync(fd, events.map(eventLine).join(''));
  } finally {
    fs.closeSync(fd);
  }
}
