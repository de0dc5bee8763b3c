// Payloads shared by several panels.

import type { RunStatus, RunSource } from './runTypes';

export type { RunStatus, RunSource };

/** Asks the host to save a file the webview made (a CSV, a PNG): the user picks where. */
export interface SaveFileParams {
  /** File name offered in the save dialog, e.g. "runs.csv". */
  suggestedName: string;
  /** Text content (CSV), or base64 bytes (PNG) when `base64` is true. */
  content: string;
  base64?: boolean;
  /** Label of the file type in the dialog, e.g. "CSV". */
  typeLabel: string;
}

/** Where it was saved; null when the user cancelled. */
export interface SaveFileResult {
  path: string | null;
}

/**
 * A metric value as it travels: JSON has no NaN or Infinity and writes -0 as 0,
 * so those go as strings; null means the run has no such metric.
 */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0' | null;

export function toWire(value: number | null | undefined): WireNumber {
  if (value === null || value === undefined) return null;
  if (Object.is(value, -0)) return '-0';
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** NaN for "NaN", ±Infinity for the strings, undefined for null (missing). */
export function fromWire(value: WireNumber | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === '-0') return -0;
  return value === 'Infinity' ? Infinity : -Infinity;
}

/** A number as exported files write it: full precision, and -0 keeps its sign (String(-0) is "0"). */
export function exactNumber(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/** One canvas of a panel and how many of its pixels are drawn (alpha > 0). */
export interface CanvasInfo {
  id: string;
  width: number;
  height: number;
  drawnPixels: number;
}
