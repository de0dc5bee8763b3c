import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MlopsLayout } from '../../src/core/workspace/layout';
import { tmpWorkspace } from './helpers';

/** A committed git project holding `files`, with `mlopsYaml` as its mlops.yaml (a remote run ships what git tracks). */
export function gitProject(mlopsYaml: string, files: Record<string, string>): MlopsLayout {
  const ws = tmpWorkspace();
  fs.writeFileSync(path.join(ws.root, 'mlops.yaml'), mlopsYaml);
  fs.writeFileSync(path.join(ws.root, '.gitignore'), '.mlops/\n');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(ws.root, name)), { recursive: true });
    fs.writeFileSync(path.join(ws.root, name), text);
  }
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ws.root, encoding: 'utf8' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'code');
  return ws;
}

/** Polls `probe` until it returns something truthy. */
export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const value = probe();
    if (value) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}
