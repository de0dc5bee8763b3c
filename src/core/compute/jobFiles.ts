import * as fs from 'node:fs';
import * as path from 'node:path';
import { findPythonClient, findRemoteRunner } from '../tracking/bundledFiles';
import { commandOutput } from '../tracking/capture';
import type { TarEntry } from './tarStream';

/**
 * The project files a remote job gets, relative to the root: the working tree's files as git
 * sees them (tracked files with their uncommitted changes, plus new files git does not ignore),
 * regular files only, never the workspace's own `.mlops/`.
 */
export async function projectFiles(root: string): Promise<string[]> {
  const listed = await commandOutput('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root);
  if (listed === undefined) throw new Error(`${root} is not a git repository (or git is missing): a remote run ships the files git tracks. Run "git init" and commit your code, then try again.`);
  return [...new Set(listed.split('\0').filter(Boolean))]
    .filter((f) => !f.startsWith('.mlops/') && isFile(path.join(root, f))); // deleted but still tracked: nothing to ship
}

/** What every job carries besides the project, as archive entries: the Python client under client/, and the runner. */
export function runnerFiles(): TarEntry[] {
  const clientRoot = findPythonClient();
  const client = fs.readdirSync(path.join(clientRoot, 'mlops_workbench'))
    .filter((f) => f.endsWith('.py'))
    .map((f) => ({ name: `client/mlops_workbench/${f}`, file: path.join(clientRoot, 'mlops_workbench', f) }));
  return [...client, { name: 'runner.py', file: findRemoteRunner() }];
}

/** A whole job as archive entries: the project under code/, plus the client and the runner. */
export async function jobFiles(root: string): Promise<TarEntry[]> {
  const project = (await projectFiles(root)).map((f) => ({ name: `code/${f}`, file: path.join(root, f) }));
  return [...project, ...runnerFiles()];
}

function isFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}
