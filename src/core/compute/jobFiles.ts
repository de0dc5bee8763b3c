import * as fs from 'node:fs';
import * as path from 'node:path';
import { findPythonClient, findRemoteRunner } from '../tracking/bundledFiles';
import { commandOutput } from '../tracking/capture';
import type { TarEntry } from './tarStream';

/**
 * What a remote job needs, as archive entries: the project's files as the working
 * tree has them (tracked files with their uncommitted changes, plus new files git
 * does not ignore) under code/, the Python client under client/, and the runner.
 */
export async function jobFiles(root: string): Promise<TarEntry[]> {
  const listed = await commandOutput('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root);
  if (listed === undefined) throw new Error(`${root} is not a git repository (or git is missing): a remote run ships the files git tracks. Run "git init" and commit your code, then try again.`);
  const project = [...new Set(listed.split('\0').filter(Boolean))]
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
