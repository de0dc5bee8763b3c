import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicFile';
import type { MlopsLayout } from '../workspace/layout';
import type { ShellTarget } from './shell';

/**
 * What one target's host is known to hold in its object cache (`<workdir>/.cache/objects/`), so
 * a run sends only the files the host lacks. It is a belief, not the truth: a host whose cache
 * was wiped answers "missing" and gets those objects again.
 *
 * File: `.mlops/targets/<name>/shipped.json`, written atomically:
 *   { "version": 1, "where": "<host> <workdir>", "objects": ["<blob id>", …] }
 * A record made for another host or workdir (the target was changed in mlops.yaml) is dropped.
 */
export class ShipRecord {
  private constructor(private readonly file: string, private readonly where: string, private readonly objects: Set<string>) {}

  /** The record of `target`, whose commands run in `shell`, for its cache under `workdir` (a shell word). */
  static load(layout: MlopsLayout, target: string, shell: ShellTarget, workdir: string): ShipRecord {
    const file = path.join(layout.dir, 'targets', target, 'shipped.json');
    const where = `${shell.type === 'ssh' ? shell.host : 'local'} ${workdir}`;
    return new ShipRecord(file, where, ShipRecord.read(file, where));
  }

  private static read(file: string, where: string): Set<string> {
    let objects: string[] = [];
    try {
      const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: number; where?: string; objects?: unknown };
      if (data.version === 1 && data.where === where && Array.isArray(data.objects)) objects = data.objects.filter((o): o is string => typeof o === 'string');
    } catch {
      // missing or damaged: the host is taken to hold nothing, and is sent everything once
    }
    return new Set(objects);
  }

  has(oid: string): boolean {
    return this.objects.has(oid);
  }

  /** Records that the host now holds these objects, merged onto the record as it is now (others' saves kept, a clean's pruning not undone). */
  save(held: Iterable<string>): void {
    const merged = ShipRecord.read(this.file, this.where);
    for (const oid of held) merged.add(oid);
    this.write(merged);
  }

  /** Records that the host no longer holds these objects (pruned from its cache). */
  forget(gone: Iterable<string>): void {
    const kept = ShipRecord.read(this.file, this.where);
    for (const oid of gone) kept.delete(oid);
    this.write(kept);
  }

  private write(objects: Set<string>): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, JSON.stringify({ version: 1, where: this.where, objects: [...objects] }));
  }
}
