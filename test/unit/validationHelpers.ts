import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtures } from './helpers';

/** Debian's Python with numpy, scipy and scikit-learn (apt), to compare our figures with theirs. */
export const PYTHON = '/usr/bin/python3';

/** Runs a Python snippet that reads JSON on stdin (`data`) and prints JSON; returns what it printed. */
export function python<T>(code: string, input: unknown): T {
  const script = `import json, sys\ndata = json.load(sys.stdin)\n${code}`;
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 })) as T;
}

export const FEATURES = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, '0')}`);

/** The breast-cancer rows as scikit-learn ships them: 30 features and the 0/1 target. */
export function breastCancerRows(): number[][] {
  const lines = fs.readFileSync(path.join(fixtures, 'datasets', 'breast_cancer.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => l.split(',').map(Number));
}

/** Writes rows as a CSV with a header row. */
export function writeCsv(file: string, header: string[], rows: (string | number)[][]): string {
  fs.writeFileSync(file, [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return file;
}

/** Indices of scikit-learn's `train_test_split(range(569), random_state=0)` test part: the model's holdout. */
export function holdoutIndices(): number[] {
  return python<number[]>('from sklearn.model_selection import train_test_split\nprint(json.dumps([int(i) for i in train_test_split(list(range(data)), random_state=0)[1]]))', 569);
}
