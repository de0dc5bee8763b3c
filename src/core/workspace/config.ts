import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

/** The optional `mlops.yaml` at the workspace root; everything has a default. */
export interface ProjectConfig {
  /** Data paths snapshotted at the start of every tracked run. */
  data: string[];
  /** Model paths offered for snapshots and registration. */
  models: string[];
}

export class ConfigError extends Error {}

function pathList(value: unknown, key: string, file: string): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && v.trim() !== '')) {
    throw new ConfigError(`${file}: "${key}" must be a path or a list of paths, e.g.\n${key}:\n  - ${key === 'data' ? 'data/train.csv' : 'models/'}`);
  }
  return list.map((p) => p.trim());
}

export function readProjectConfig(root: string): ProjectConfig {
  const file = path.join(root, 'mlops.yaml');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { data: [], models: [] };
  }
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}. Fix the file or remove it.`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${file} must be a mapping (key: value lines), e.g. "data: [data/]".`);
  const d = doc as Record<string, unknown>;
  return { data: pathList(d.data, 'data', file), models: pathList(d.models, 'models', file) };
}
