import * as fs from 'node:fs';
import * as path from 'node:path';
import { findPythonClient, findRemoteRunner } from '../tracking/bundledFiles';
import { commandOutput } from '../tracking/capture';
import type { TarEntry } from './tarStream';

/**
 * What a remote job needs, as archive entries: the project's files as the working
 * tree has them (tracked files with their uncommitted changes, plus new files git
 * does not ignore, plus the `extra` workspace paths even where git ignores them)
 * under code/, the Python client under client/, and the runner.
 */
export async function jobFiles(root: string, extra: string[] = []): Promise<TarEntry[]> {
  const listed = await commandOutput('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root);
  if (listed === undefined) throw new Error(`${root} is not a git repository (or git is missing): a remote run ships the files git tracks. Run "git init" and commit your code, then try again.`);
  const project = [...new Set([...listed.split('\0').filter(Boolean), ...extra.flatMap((p) => filesUnder(root, p))])]
    .filter((f) => !f.startsWith('.mlops/') && isFile(path.join(root, f))) // deleted but still tracked: nothing to ship
    .map((f) => ({ name: `code/${f}`, file: path.join(root, f) }));
  const clientRoot = findPythonClient();
  const client = fs.readdirSync(path.join(clientRoot, 'mlops_workbench'))
    .filter((f) => f.endsWith('.py'))
    .map((f) => ({ name: `client/mlops_workbench/${f}`, file: path.join(clientRoot, 'mlops_workbench', f) }));
  return [...project, ...client, { name: 'runner.py', file: findRemoteRunner() }];
}

function isFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}

/** The files at a workspace path (a file, or a folder's files at any depth) as paths from the root; none when it is missing. */
function filesUnder(root: string, rel: string): string[] {
  const full = path.join(root, rel);
  if (isFile(full)) return [rel];
  try {
    return fs.readdirSync(full, { recursive: true, encoding: 'utf8' })
      .map((f) => `${rel}/${f.split(path.sep).join('/')}`)
      .filter((f) => isFile(path.join(root, f)));
  } catch {
    return [];
  }
}
