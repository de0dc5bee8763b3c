import * as fs from 'node:fs';
import * as path from 'node:path';

let found: string | undefined;

/**
 * The folder that holds the `mlops_workbench` Python package, put on PYTHONPATH of
 * tracked runs. Found by walking up from this file, so it works from the bundle
 * (dist/), the compiled tests (out/) and an installed extension alike.
 */
export function findPythonClient(): string {
  if (found) return found;
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'python');
    if (fs.existsSync(path.join(candidate, 'mlops_workbench', '__init__.py'))) return (found = candidate);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`The MLOps Python client (python/mlops_workbench) was not found above ${__dirname}; reinstall the extension.`);
    dir = parent;
  }
}
