import * as path from 'node:path';
import { findNotebookRunner, pythonPathWithClient } from '../tracking/bundledFiles';
import { commandOutput } from '../tracking/capture';
import { NotebookError } from './notebookFile';

/** Where else an interpreter that can run notebooks is often found, after the one the user chose. */
export const USUAL_NOTEBOOK_INTERPRETERS = ['python3', '/usr/bin/python3'];

const CHECK_TIMEOUT_MS = 30_000;

/**
 * The modules `python` lacks to run a notebook (nbclient, ipykernel…), [] when
 * it has them all, undefined when it does not start. Asks the runner itself, so
 * the list is the one it checks before running.
 */
export async function missingNotebookModules(python: string): Promise<string[] | undefined> {
  const env = { ...process.env, PYTHONPATH: pythonPathWithClient(process.env.PYTHONPATH) };
  const out = await commandOutput(python, [findNotebookRunner(), '--missing-modules'], path.dirname(findNotebookRunner()), CHECK_TIMEOUT_MS, env);
  try {
    const missing = JSON.parse(out ?? '') as unknown;
    return Array.isArray(missing) ? missing.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/** The first of `candidates` (duplicates skipped) that can run notebooks, or undefined. */
export async function findNotebookInterpreter(candidates: string[]): Promise<string | undefined> {
  for (const python of [...new Set(candidates)]) {
    if ((await missingNotebookModules(python))?.length === 0) return python;
  }
  return undefined;
}

/** What `python` lacks to run notebooks, and an interpreter among `candidates` that has it all. */
export interface NotebookInterpreterCheck {
  python: string;
  /** Undefined: the interpreter did not start. */
  missing: string[] | undefined;
  alternative: string | undefined;
}

/** Undefined when `python` can run notebooks; else what it lacks and where to turn instead. */
export async function checkNotebookInterpreter(python: string, candidates: string[] = USUAL_NOTEBOOK_INTERPRETERS): Promise<NotebookInterpreterCheck | undefined> {
  const missing = await missingNotebookModules(python);
  if (missing?.length === 0) return undefined;
  return { python, missing, alternative: await findNotebookInterpreter(candidates.filter((c) => c !== python)) };
}

/** The check as one sentence naming the problem and the fix. */
export function describeInterpreterCheck(check: NotebookInterpreterCheck): string {
  const problem = check.missing
    ? `The interpreter ${check.python} cannot run notebooks: it lacks ${check.missing.join(', ')}.`
    : `The interpreter ${check.python} did not start.`;
  const fix = check.alternative
    ? ` ${check.alternative} has them: choose it instead (mlops notebook run --python ${check.alternative}), or install them (pip install nbclient ipykernel).`
    : ' Install them (pip install nbclient ipykernel; on Debian: apt-get install python3-nbclient python3-ipykernel) or choose another interpreter.';
  return problem + fix;
}

/** Throws a NotebookError (before any run exists) when `python` cannot run notebooks. */
export async function requireNotebookInterpreter(python: string): Promise<void> {
  const check = await checkNotebookInterpreter(python);
  if (check) throw new NotebookError(describeInterpreterCheck(check));
}
