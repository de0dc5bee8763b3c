import * as fs from 'node:fs';
import * as path from 'node:path';
import { findPythonClient, findRemoteRunner } from '../tracking/bundledFiles';
import type { MlopsLayout } from '../workspace/layout';
import { shipManifest } from './shipManifest';
import type { TarEntry } from './tarStream';

/** What every job carries besides the project, as archive entries: the Python client under client/, and the runner. */
export function runnerFiles(): TarEntry[] {
  const clientRoot = findPythonClient();
  const client = fs.readdirSync(path.join(clientRoot, 'mlops_workbench'))
    .filter((f) => f.endsWith('.py'))
    .map((f) => ({ name: `client/mlops_workbench/${f}`, file: path.join(clientRoot, 'mlops_workbench', f) }));
  return [...client, { name: 'runner.py', file: findRemoteRunner() }];
}

/**
 * A whole job as archive entries, for a target without a cache of its own: the project under code/
 * (see shipManifest; `extra` workspace paths go too, even where git ignores them), the client and the runner.
 */
export async function jobFiles(layout: MlopsLayout, extra: string[] = []): Promise<TarEntry[]> {
  const project = (await shipManifest(layout, [], extra)).map((r) => ({ name: r.path, file: r.file }));
  return [...project, ...runnerFiles()];
}
