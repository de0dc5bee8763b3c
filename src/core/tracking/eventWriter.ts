import { randomUUID } from 'node:crypto';
import { appendRecord } from '../workspace/appendLog';
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
 * Appends the events as one record (appendLog.ts: one O_APPEND write, undone when it fails,
 * never after a torn line), so the launcher and the Python client can share a log.
 */
export function appendEvents(file: string, events: NewRunEvent[]): void {
  if (events.length === 0) return;
  appendRecord(file, events.map(eventLine).join(''));
}
