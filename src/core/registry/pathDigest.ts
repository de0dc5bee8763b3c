import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { fileDigest } from '../workspace/digest';

/**
 * sha256 and size of a model file; for a folder, the sha256 of its manifest
 * (one "<sha256>  <relative path>" line per file, sorted) and the total size.
 */
export async function pathDigest(target: string): Promise<{ sha256: string; size: number }> {
  if (!fs.statSync(target).isDirectory()) return fileDigest(target);
  const files = (fs.readdirSync(target, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath ?? d.path, d.name))
    .sort();
  const manifest = createHash('sha256');
  let size = 0;
  for (const file of files) {
    const d = await fileDigest(file);
    size += d.size;
    manifest.update(`${d.sha256}  ${path.relative(target, file).split(path.sep).join('/')}\n`);
  }
  return { sha256: manifest.digest('hex'), size };
}
