import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../workspace/atomicFile';
import type { MlopsLayout } from '../workspace/layout';

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

  static load(layout: MlopsLayout, target: string, where: string): ShipRecord {
    const file = path.join(layout.dir, 'targets', target, 'shipped.json');
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

  /** Records that the host now holds these objects, merged onto what another process may have saved since. */
  save(held: Iterable<string>): void {
    const merged = ShipRecord.read(this.file, this.where);
    for (const oid of [...this.objects, ...held]) merged.add(oid);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, JSON.stringify({ version: 1, where: this.where, objects: [...merged] }));
  }
}
