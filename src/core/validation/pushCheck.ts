import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SnapshotStore } from '../snapshots';
import { writeFileAtomic } from '../workspace/atomicFile';
import type { MlopsLayout } from '../workspace/layout';
import { PersonalDataScan, type PersonalDataKind } from './personalData';
import { openTable, TABULAR } from './table';

export interface PersonalDataFinding { snapshot: string; file: string; column: string; kind: PersonalDataKind; share: number; example: string }

export class PersonalDataError extends Error {
  constructor(readonly findings: PersonalDataFinding[]) {
    const shown = findings.slice(0, 5).map((f) => `${f.file} (snapshot ${f.snapshot.slice(0, 12)}) column "${f.column}": ${f.kind}, e.g. ${f.example}`);
    super(`The snapshots hold what looks like personal data:\n  ${shown.join('\n  ')}${findings.length > 5 ? `\n  … and ${findings.length - 5} more` : ''}\nNothing was pushed. Remove it, or push anyway with --allow-personal-data.`);
  }
}

type Cache = Record<string, Omit<PersonalDataFinding, 'snapshot' | 'file'>[]>;

/** Columns of the first rows of one table that look like personal data (the scan looks at up to 1,000 values a column). */
async function scanTable(source: string, root: string, snapshots: SnapshotStore): Promise<Cache[string]> {
  const table = await openTable(source, root, snapshots);
  const scans = table.columns.map(() => new PersonalDataScan());
  let rows = 0;
  for await (const row of table.rows) {
    row.forEach((v, i) => { if (v !== null && v !== undefined && v !== '') scans[i].add(String(v)); });
    if (++rows >= PersonalDataScan.LIMIT) break;
  }
  return scans.flatMap((s, i) => {
    const f = s.finding();
    return f ? [{ column: table.columns[i], ...f }] : [];
  });
}

/**
 * Scans the tables (.csv/.tsv/.jsonl) of every snapshot a push would send for personal
 * data. Each file content (git blob) is scanned once; results are kept in `.mlops/profiles/`.
 */
export async function personalDataInSnapshots(layout: MlopsLayout, snapshots: SnapshotStore): Promise<PersonalDataFinding[]> {
  const cacheFile = path.join(layout.dir, 'profiles', 'personal-data.json');
  let cache: Cache = {};
  try {
    cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as Cache;
  } catch {
    // First scan, or an unreadable cache: scan again.
  }
  const findings: PersonalDataFinding[] = [];
  let scanned = false;
  for (const info of await snapshots.list()) {
    for (const file of (await snapshots.show(info.id)).files) {
      if (!TABULAR.test(file.path)) continue;
      if (!cache[file.blob]) {
        try {
          cache[file.blob] = await scanTable(`${info.id}:${file.path}`, layout.root, snapshots);
        } catch {
          cache[file.blob] = []; // Not a readable table (a malformed CSV): nothing to judge.
        }
        scanned = true;
      }
      for (const f of cache[file.blob]) findings.push({ snapshot: info.id, file: file.path, ...f });
    }
  }
  if (scanned) {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    writeFileAtomic(cacheFile, JSON.stringify(cache));
  }
  return findings;
}
