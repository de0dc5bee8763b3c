import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicFile';
import type { MlopsLayout } from '../workspace/layout';

/**
 * Which run a notebook's kernel logs into: `.mlops/notebooks/<key>.json`, written
 * by the extension that tracks the notebook and read by the Python client inside
 * the kernel (python/mlops_workbench/_locate.py, which must compute the same key).
 * See docs/notebooks.md, "How a kernel finds its run".
 */
export interface NotebookMapping {
  /** The notebook's absolute path, as VS Code's kernels put it in `__vsc_ipynb_file__`. */
  notebook: string;
  /** The run of the current kernel session (it may not have started yet: no run_start until a cell runs). */
  run_id: string;
  /** The run a new kernel session takes (after a restart the client moves to it before the extension notices). */
  next_run_id: string | null;
  /** The kernel process that logged into `run_id`, set by the client; null until one does. */
  kernel_pid: number | null;
  /** The extension host that tracks the notebook; a mapping whose owner is gone is stale. */
  owner: { pid: number; host: string };
  updated: number;
}

export const NOTEBOOKS_FOLDER = 'notebooks';

/** The path as both sides compare it: absolute, and lower-cased with backslashes on Windows (Python's normcase). */
export function normalizeNotebookPath(file: string): string {
  const abs = path.resolve(file);
  return process.platform === 'win32' ? abs.toLowerCase().replace(/\//g, '\\') : abs;
}

/** 32 hex characters of the sha256 of the normalized path (UTF-8). */
export function notebookKey(file: string): string {
  return createHash('sha256').update(normalizeNotebookPath(file), 'utf8').digest('hex').slice(0, 32);
}

export function notebooksDir(layout: MlopsLayout): string {
  return path.join(layout.dir, NOTEBOOKS_FOLDER);
}

export function mappingFile(layout: MlopsLayout, notebook: string): string {
  return path.join(notebooksDir(layout), `${notebookKey(notebook)}.json`);
}

const RUN_ID = /^[0-9a-f]{32}$/;

/** The mapping of a notebook, or undefined when there is none or it is unreadable or of another notebook. */
export function readMapping(layout: MlopsLayout, notebook: string): NotebookMapping | undefined {
  return readMappingFile(mappingFile(layout, notebook), notebook);
}

export function readMappingFile(file: string, notebook?: string): NotebookMapping | undefined {
  let m: Partial<NotebookMapping>;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<NotebookMapping>;
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || typeof m.notebook !== 'string' || typeof m.run_id !== 'string' || !RUN_ID.test(m.run_id)) return undefined;
  if (notebook !== undefined && normalizeNotebookPath(m.notebook) !== normalizeNotebookPath(notebook)) return undefined;
  return {
    notebook: m.notebook,
    run_id: m.run_id,
    next_run_id: typeof m.next_run_id === 'string' && RUN_ID.test(m.next_run_id) ? m.next_run_id : null,
    kernel_pid: Number.isSafeInteger(m.kernel_pid) ? (m.kernel_pid as number) : null,
    owner: m.owner && typeof m.owner.pid === 'number' && typeof m.owner.host === 'string' ? m.owner : { pid: 0, host: '' },
    updated: typeof m.updated === 'number' ? m.updated : 0,
  };
}

export function writeMapping(layout: MlopsLayout, mapping: Omit<NotebookMapping, 'owner' | 'updated'>): void {
  fs.mkdirSync(notebooksDir(layout), { recursive: true });
  const full: NotebookMapping = { ...mapping, owner: { pid: process.pid, host: os.hostname() }, updated: Date.now() };
  writeFileAtomic(mappingFile(layout, mapping.notebook), JSON.stringify(full, null, 2) + '\n');
}

export function removeMapping(layout: MlopsLayout, notebook: string): void {
  fs.rmSync(mappingFile(layout, notebook), { force: true });
}

/** Every mapping file of the workspace with its path (for cleaning up after a window that died). */
export function listMappings(layout: MlopsLayout): { file: string; mapping: NotebookMapping }[] {
  let names: string[];
  try {
    names = fs.readdirSync(notebooksDir(layout)).filter((n) => /^[0-9a-f]{32}\.json$/.test(n));
  } catch {
    return [];
  }
  const out: { file: string; mapping: NotebookMapping }[] = [];
  for (const name of names) {
    const file = path.join(notebooksDir(layout), name);
    const mapping = readMappingFile(file);
    if (mapping) out.push({ file, mapping });
  }
  return out;
}

/** A run set aside for a notebook but never used leaves no folder behind (a client may have made one without logging). */
export function removeUnusedRunDir(layout: MlopsLayout, runId: string): void {
  const dir = layout.runDir(runId);
  if (fs.existsSync(dir) && !fs.existsSync(layout.eventsFile(runId))) fs.rmSync(dir, { recursive: true, force: true });
}
