import * as fs from 'node:fs';
import * as path from 'node:path';

/** A notebook that cannot be run: not found, not JSON, not nbformat 4. The message names the file and the fix. */
export class NotebookError extends Error {}

/** The parts of an .ipynb (nbformat 4) this module reads. */
export interface NotebookJson {
  nbformat: number;
  nbformat_minor?: number;
  metadata?: Record<string, unknown>;
  cells: NotebookCellJson[];
}

export interface NotebookCellJson {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

/** Tag of the cell whose assignments are the notebook's parameters (papermill's convention). */
export const PARAMETERS_TAG = 'parameters';
/** Tag of the cell a run inserts after it with the values it was given (papermill's convention). */
export const INJECTED_TAG = 'injected-parameters';

/** Reads and checks an .ipynb file; a clear NotebookError when it is missing, not JSON or not a notebook. */
export function readNotebook(file: string): NotebookJson {
  const name = path.basename(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NotebookError(code === 'ENOENT' ? `Notebook ${file} was not found.` : `Cannot read notebook ${file}: ${(err as Error).message}`);
  }
  return parseNotebook(text, name);
}

/** Parses notebook text; `name` is used in messages. */
export function parseNotebook(text: string, name: string): NotebookJson {
  if (text.trim() === '') throw new NotebookError(`${name} is empty; it is not a notebook. Save it from Jupyter or VS Code first.`);
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new NotebookError(`${name} is not valid JSON (${jsonErrorWhere(text, err as Error)}), so it is not a notebook Jupyter can run. Open it in a text editor to repair it, or restore it from git.`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new NotebookError(`${name} is JSON but not a notebook: expected an object with "cells" and "nbformat".`);
  }
  const nb = json as Partial<NotebookJson>;
  if (typeof nb.nbformat !== 'number') throw new NotebookError(`${name} is JSON but not a notebook: it has no "nbformat" version.`);
  if (nb.nbformat < 4) {
    throw new NotebookError(`${name} is an nbformat ${nb.nbformat} notebook; only nbformat 4 can run. Open and save it in Jupyter to upgrade it.`);
  }
  if (!Array.isArray(nb.cells)) throw new NotebookError(`${name} is JSON but not a notebook: it has no "cells" list.`);
  nb.cells.forEach((cell, i) => {
    if (typeof cell !== 'object' || cell === null || typeof cell.cell_type !== 'string') {
      throw new NotebookError(`${name}: cell ${i + 1} (index ${i}) has no "cell_type"; the notebook is damaged.`);
    }
  });
  return nb as NotebookJson;
}

/** "line 4, column 7" from a JSON.parse error, when Node says where. */
function jsonErrorWhere(text: string, err: Error): string {
  const at = /position (\d+)/.exec(err.message);
  const lineCol = /line (\d+) column (\d+)/.exec(err.message);
  if (lineCol) return `${err.message.replace(/ in JSON at position.*$/, '')} at line ${lineCol[1]}, column ${lineCol[2]}`;
  if (!at) return err.message;
  const offset = Number(at[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${err.message.replace(/ in JSON at position.*$/, '')} at line ${line}, column ${column}`;
}

export function cellSource(cell: NotebookCellJson): string {
  return Array.isArray(cell.source) ? cell.source.join('') : String(cell.source ?? '');
}

export function cellTags(cell: NotebookCellJson): string[] {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/** Index of the first cell tagged `parameters`, or -1. */
export function parametersCellIndex(nb: NotebookJson): number {
  return nb.cells.findIndex((c) => cellTags(c).includes(PARAMETERS_TAG));
}

/** A parameter's default as written in the parameters cell: its name, Python source and trailing comment. */
export interface ParameterDefault { name: string; source: string; comment?: string }

/**
 * The simple assignments of the parameters cell (`lr = 0.01  # learning rate`),
 * in order; the last assignment of a name wins. Other lines are ignored.
 */
export function parameterDefaults(nb: NotebookJson): ParameterDefault[] {
  const index = parametersCellIndex(nb);
  if (index < 0) return [];
  const found = new Map<string, ParameterDefault>();
  for (const line of cellSource(nb.cells[index]).split(/\r?\n/)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*[^=]+?)?\s*=(?!=)\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [source, comment] = splitComment(m[2]);
    if (!source) continue;
    found.delete(m[1]);
    found.set(m[1], { name: m[1], source, ...(comment ? { comment } : {}) });
  }
  return [...found.values()];
}

/** Splits `0.1  # the rate` into its value and comment, leaving a `#` inside quotes alone. */
function splitComment(text: string): [string, string | undefined] {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#') {
      return [text.slice(0, i).trim(), text.slice(i + 1).trim() || undefined];
    }
  }
  return [text.trim(), undefined];
}

/** A parameter value: what JSON can carry, turned into a Python literal by the runner. */
export type ParameterValue = string | number | boolean | null | ParameterValue[] | { [key: string]: ParameterValue };
export type Parameters = Record<string, ParameterValue>;

/**
 * A value typed by a person (`-p lr=0.1`, an input box): papermill's rules, plus
 * quotes and JSON. `'adam'` or `"adam"` → the string adam; `True`/`true` →
 * true; `None`/`null` → null; `3` → 3; `1e-3` → 0.001; `[1, 2]` → a list;
 * anything else is the string as typed.
 */
export function parseParameterValue(text: string): ParameterValue {
  const t = text.trim();
  const quoted = /^(['"])([\s\S]*)\1$/.exec(t);
  if (quoted) {
    if (quoted[1] === '"') {
      try {
        return JSON.parse(t) as string;
      } catch {
        // not a JSON string: keep what is inside the quotes
      }
    }
    return quoted[2];
  }
  if (t === 'True' || t === 'true') return true;
  if (t === 'False' || t === 'false') return false;
  if (t === 'None' || t === 'null') return null;
  if (/^[+-]?(\d+(_\d+)*)$/.test(t)) {
    const n = Number(t.replace(/_/g, ''));
    if (Number.isSafeInteger(n)) return n;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[[{]/.test(t)) {
    try {
      return JSON.parse(t) as ParameterValue;
    } catch {
      // not JSON: a string
    }
  }
  return text;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else',
  'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise',
  'return', 'try', 'while', 'with', 'yield',
]);

/** Throws a NotebookError unless `name` can be assigned in Python. */
export function checkParameterName(name: string): void {
  if (!IDENTIFIER.test(name) || PYTHON_KEYWORDS.has(name)) {
    throw new NotebookError(`"${name}" cannot be a notebook parameter: it must be a Python name (letters, digits and _, not starting with a digit, not a keyword).`);
  }
}

/** `["lr=0.1", "name=run 1"]` (the CLI's `-p`) → parameters; a clear message for a pair without `=`. */
export function parseParameterArgs(pairs: string[]): Parameters {
  const out: Parameters = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new NotebookError(`Parameter "${pair}" is not key=value (for example -p lr=0.01).`);
    const name = pair.slice(0, eq).trim();
    checkParameterName(name);
    out[name] = parseParameterValue(pair.slice(eq + 1));
  }
  return out;
}

/** Checks parameters given programmatically (a command's arguments): names must be Python names, values JSON. */
export function checkParameters(parameters: Record<string, unknown>): Parameters {
  for (const [name, value] of Object.entries(parameters)) {
    checkParameterName(name);
    if (!isJsonValue(value)) throw new NotebookError(`Parameter "${name}" must be a string, number, boolean, null, list or object.`);
  }
  return parameters as Parameters;
}

function isJsonValue(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJsonValue);
  if (typeof v === 'object') return Object.values(v as object).every(isJsonValue);
  return false;
}

/** "cell 4 (index 3, In [2])": how a cell is named to a person; `index` is 0-based. */
export function describeCell(index: number, executionCount?: number | null): string {
  return `cell ${index + 1} (index ${index}${executionCount ? `, In [${executionCount}]` : ''})`;
}
