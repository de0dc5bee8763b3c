import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A code or markdown cell of a test notebook; tags go into its metadata. */
export interface TestCell { code?: string; markdown?: string; tags?: string[] }

/** Writes an nbformat 4.5 notebook with the given cells (a real .ipynb, as Jupyter saves it). */
export function writeNotebook(file: string, cells: TestCell[]): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const lines = (text: string) => text.split(/(?<=\n)/);
  const nb = {
    cells: cells.map((c, i) => c.markdown !== undefined
      ? { cell_type: 'markdown', id: `cell-${i}`, metadata: {}, source: lines(c.markdown) }
      : { cell_type: 'code', id: `cell-${i}`, execution_count: null, metadata: c.tags ? { tags: c.tags } : {}, outputs: [], source: lines(c.code ?? '') }),
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(file, JSON.stringify(nb, null, 1) + '\n');
  return file;
}

let found: string | undefined;

/**
 * An interpreter that can run notebooks (nbclient and ipykernel importable):
 * $MLOPS_TEST_PYTHON, else python3, else /usr/bin/python3 (Debian's, where
 * python3-nbclient and python3-ipykernel install them). Throws naming the fix.
 */
export function jupyterPython(): string {
  if (found) return found;
  const candidates = [process.env.MLOPS_TEST_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const candidate of candidates) {
    const r = spawnSync(candidate, ['-c', 'import nbclient, nbformat, ipykernel'], { encoding: 'utf8' });
    if (r.status === 0) return (found = candidate);
  }
  throw new Error(`No interpreter with nbclient and ipykernel among ${candidates.join(', ')}: apt-get install python3-nbclient python3-ipykernel (or set MLOPS_TEST_PYTHON).`);
}

/** A venv made from python3 without pip or system packages: an interpreter that cannot run notebooks. Returns its python. */
export function bareVenv(dir: string): string {
  const venv = path.join(dir, 'venv');
  const made = spawnSync('python3', ['-m', 'venv', '--without-pip', venv], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`python3 -m venv failed: ${made.stderr}`);
  return path.join(venv, 'bin', 'python');
}
