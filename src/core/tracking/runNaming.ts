import * as fs from 'node:fs';
import * as path from 'node:path';
import { isPythonCommand } from './capture';

/**
 * Default names of runs started without one: the script's name and a sequence
 * number (`train-1`, `train-2`…), so the tree, the table and a comparison's
 * legend tell runs apart. The Python client's self-started runs follow the same
 * rule (python/mlops_workbench/_names.py); MLflow-created runs keep MLflow's
 * names (mlflow/runNames.ts).
 */

/** What a run of `command args` is called before its number: `train` for `python train.py`, else the command's name. */
export function runNameBase(command: string, args: string[]): string {
  const script = isPythonCommand(command) ? args.find((a) => !a.startsWith('-')) : undefined;
  return path.basename(script ?? command).replace(/\.py$/, '');
}

/**
 * `<base>-<n>`, n one above the highest number any run in `runsDir` started with under that base,
 * and claimed: runs started at the same moment (two terminals, a sweep, the Python client) have
 * not written their names yet, so each name is taken by creating its file in
 * `.mlops/index/run-names/` (only one process can), and a taken one moves on to the next number.
 */
export function nextRunName(runsDir: string, base: string): string {
  const prefix = `${base}-`;
  let highest = 0;
  for (const name of startNames(runsDir)) {
    const number = name.startsWith(prefix) ? name.slice(prefix.length) : '';
    if (/^\d+$/.test(number)) highest = Math.max(highest, Number(number));
  }
  const name = (n: number): string => `${base}-${n}`;
  // No workspace folder yet: nothing to claim in (nor anyone to race with).
  if (!fs.existsSync(path.dirname(runsDir))) return name(highest + 1);
  const claims = path.join(path.dirname(runsDir), 'index', 'run-names');
  try {
    fs.mkdirSync(claims, { recursive: true });
  } catch {
    return name(highest + 1); // a read-only or full disk: the name unclaimed, as before
  }
  for (let n = highest + 1; ; n++) {
    try {
      // The file name as Python's quote(name, safe="!*'()") writes it (python/mlops_workbench/_names.py).
      fs.closeSync(fs.openSync(path.join(claims, encodeURIComponent(name(n))), 'wx'));
      return name(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return name(n); // a read-only or full disk: the name unclaimed, as before
    }
  }
}

const FIRST_LINE_BYTES = 4096;

/** The names runs started with (their run_start line), read from the head of each event log. */
function startNames(runsDir: string): string[] {
  let ids: string[];
  try {
    ids = fs.readdirSync(runsDir);
  } catch {
    return [];
  }
  const names: string[] = [];
  const buffer = Buffer.alloc(FIRST_LINE_BYTES);
  for (const id of ids) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(path.join(runsDir, id, 'events.jsonl'), 'r');
      const read = fs.readSync(fd, buffer, 0, FIRST_LINE_BYTES, 0);
      const head = buffer.toString('utf8', 0, read);
      const end = head.indexOf('\n');
      const event = JSON.parse(end < 0 ? head : head.slice(0, end)) as { type?: string; name?: unknown };
      if (event.type === 'run_start' && typeof event.name === 'string') names.push(event.name);
    } catch {
      // Not a run folder, or a log still being written: it names nothing.
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  return names;
}
