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

/** mlops.yaml's top-level mapping (empty when there is no file); a clear error when it is not one. */
export function readConfigDocument(root: string): { file: string; doc: Record<string, unknown> } {
  const file = path.join(root, 'mlops.yaml');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { file, doc: {} };
  }
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}. Fix the file or remove it.`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${file} must be a mapping (key: value lines), e.g. "data: [data/]".`);
  return { file, doc: doc as Record<string, unknown> };
}

export function readProjectConfig(root: string): ProjectConfig {
  const { file, doc: d } = readConfigDocument(root);
  return { data: pathList(d.data, 'data', file), models: pathList(d.models, 'models', file) };
}
