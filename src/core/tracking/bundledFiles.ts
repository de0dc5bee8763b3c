import * as fs from 'node:fs';
import * as path from 'node:path';

const found = new Map<string, string>();

/**
 * Finds a file shipped with the extension by walking up from this module, so it
 * works from the bundle (dist/), the compiled tests (out/) and an installed
 * extension alike.
 */
function findUp(relative: string, what: string): string {
  const cached = found.get(relative);
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (fs.existsSync(candidate)) {
      found.set(relative, candidate);
      return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error(`${what} (${relative}) was not found above ${__dirname}; reinstall the extension or run "npm run build".`);
  }
}

/** The folder holding the `mlops_workbench` Python package, put on PYTHONPATH of tracked runs. */
export function findPythonClient(): string {
  return path.dirname(path.dirname(findUp(path.join('python', 'mlops_workbench', '__init__.py'), 'The MLOps Python client')));
}

/** PYTHONPATH with the client's folder first, so `import mlops_workbench` works in a script MLOps starts. */
export function pythonPathWithClient(...more: (string | undefined)[]): string {
  return [findPythonClient(), ...more].filter(Boolean).join(path.delimiter);
}

/** The bundled CLI, which the Python client calls for work that needs the engine (log_model). */
export function findCli(): string {
  return findUp(path.join('dist', 'cli.js'), 'The mlops CLI');
}

/** A bundle of dist/ (the model server and its host side, shipped to the host of a remote deployment). */
export function findBundle(name: string): string {
  return findUp(path.join('dist', name), `The bundle ${name}`);
}

/** The runner shipped with every remote job (src/core/compute/runner.py). */
export function findRemoteRunner(): string {
  return findUp(path.join('src', 'core', 'compute', 'runner.py'), 'The remote job runner');
}

/** The script that runs a notebook headless inside the user's Python (src/core/notebooks/run_notebook.py). */
export function findNotebookRunner(): string {
  return findUp(path.join('src', 'core', 'notebooks', 'run_notebook.py'), 'The notebook runner');
}
