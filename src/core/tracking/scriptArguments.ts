import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pythonPathWithClient } from './bundledFiles';
import { commandOutput, isPythonCommand } from './capture';
import type { Tracking } from './tracking';

/**
 * A script's command-line arguments as a person types them, and the options an
 * argparse script declares (read from its `--help`), for "Run with Arguments…".
 */

/** `--lr 0.1 --name 'my run'` → ['--lr', '0.1', '--name', 'my run'], as a POSIX shell splits words. */
export function splitArguments(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`The quote ' at position ${i + 1} is never closed: close it, or write \\' for a quote character.`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let quoted = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\' || text[j + 1] === '$' || text[j + 1] === '`')) j++;
        quoted += text[j];
      }
      if (j >= text.length) throw new Error(`The quote " at position ${i + 1} is never closed: close it, or write \\" for a quote character.`);
      word = (word ?? '') + quoted;
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The inverse of splitArguments: words quoted only where a shell would need it. */
export function joinArguments(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** One option of an argparse script, as its `--help` shows it. */
export interface ScriptOption {
  /** All its spellings, e.g. ['-e', '--epochs']. */
  flags: string[];
  /** What follows the flag (`EPOCHS`, `{sgd,adam}`, `N [N ...]`); '' for a switch such as --verbose. */
  metavar: string;
  help: string;
  /** The default the help states ("(default: 0.1)"), if any. */
  default?: string;
  choices?: string[];
}

/**
 * The options of argparse's help text (every section: "options:", "optional
 * arguments:", argument groups), without -h/--help. Positional arguments are left out.
 */
export function parseArgparseHelp(text: string): ScriptOption[] {
  const options: ScriptOption[] = [];
  let inOptions = false;
  let last: ScriptOption | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^\S.*:$/.test(line)) {
      inOptions = !/^positional arguments:$/i.test(line);
      last = undefined;
      continue;
    }
    if (!inOptions) continue;
    const entry = /^ {2}(-\S.*?)(?: {2,}(\S.*))?$/.exec(line);
    if (entry) {
      const parts = entry[1].split(/, (?=-)/);
      const flags = parts.map((p) => p.split(' ')[0]);
      // Python ≤3.12 repeats the metavar after each flag, 3.13 writes it after the last.
      const metavar = parts.map((p, i) => p.slice(flags[i].length).trim()).find(Boolean) ?? '';
      const choices = /^\{([^}]*)\}$/.exec(metavar)?.[1].split(',');
      last = { flags, metavar, help: entry[2] ?? '', ...(choices ? { choices } : {}) };
      if (!flags.includes('-h') && !flags.includes('--help')) options.push(last);
      continue;
    }
    const more = /^ {3,}(\S.*)$/.exec(line);
    if (more && last) last.help = last.help ? `${last.help} ${more[1]}` : more[1];
    else last = undefined;
  }
  for (const option of options) {
    const stated = /\(default: (.*)\)$/.exec(option.help)?.[1];
    if (stated !== undefined && stated !== 'None' && !(option.metavar === '' && stated === 'False')) option.default = stated;
  }
  return options;
}

/** The flag a person reads best: the first long one. */
export function optionName(option: ScriptOption): string {
  return option.flags.find((f) => f.startsWith('--')) ?? option.flags[0];
}

/** Where `option` appears in `args`: [index, number of words] (its values included), or undefined. */
function findOption(args: string[], option: ScriptOption): [number, number] | undefined {
  const at = args.findIndex((a) => option.flags.includes(a) || option.flags.some((f) => f.startsWith('--') && a.startsWith(`${f}=`)));
  if (at < 0) return undefined;
  if (!option.metavar || args[at].includes('=')) return [at, 1];
  const many = option.metavar.includes('...');
  let count = 1;
  while (at + count < args.length && !args[at + count].startsWith('-') && (many || count < 2)) count++;
  return [at, count];
}

/** Whether `args` already give `option`. */
export function hasOption(args: string[], option: ScriptOption): boolean {
  return findOption(args, option) !== undefined;
}

/**
 * `args` with the options in `picked` present (added at the end with their
 * default, first choice or metavar) and the other `options` removed; words that
 * belong to no known option stay where they are.
 */
export function withOptions(args: string[], options: ScriptOption[], picked: ScriptOption[]): string[] {
  let out = [...args];
  for (const option of options) {
    if (picked.includes(option)) continue;
    const found = findOption(out, option);
    if (found) out = [...out.slice(0, found[0]), ...out.slice(found[0] + found[1])];
  }
  for (const option of picked) {
    if (hasOption(out, option)) continue;
    out.push(optionName(option), ...valueWords(option));
  }
  return out;
}

/** The words an added option gets: its default (a list default `[64, 32]` as `64 32` when it takes many), first choice, or metavar. */
function valueWords(option: ScriptOption): string[] {
  if (!option.metavar) return [];
  const list = option.metavar.includes('...') ? /^\[(.*)\]$/.exec(option.default ?? '') : null;
  if (list) return list[1].split(', ').map((w) => w.replace(/^'(.*)'$/, '$1'));
  return [option.default ?? option.choices?.[0] ?? option.metavar];
}

const HELP_TIMEOUT_MS = 15_000;

/**
 * The argparse options of a Python script, from running `python script --help`
 * (only when its source mentions argparse: other scripts would simply run).
 * The help runs as a tracked run would (the client importable) but with a
 * throwaway MLOPS_DIR, so a script that logs before parsing its arguments
 * leaves no run in the workspace. [] when there are none
 * or the help cannot be read.
 */
export async function scriptOptions(python: string, script: string, cwd: string): Promise<ScriptOption[]> {
  let source: string;
  try {
    source = fs.readFileSync(script, 'utf8');
  } catch {
    return [];
  }
  if (!/\bargparse\b/.test(source)) return [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-help-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env, PYTHONPATH: pythonPathWithClient(process.env.PYTHONPATH), MLOPS_DIR: path.join(scratch, '.mlops'), COLUMNS: '100', NO_COLOR: '1', PYTHON_COLORS: '0',
    };
    for (const key of ['MLOPS_RUN_ID', 'MLOPS_RUN_DIR', 'MLFLOW_RUN_ID']) delete env[key];
    const help = await commandOutput(python, [script, '--help'], cwd, HELP_TIMEOUT_MS, env);
    return help ? parseArgparseHelp(help) : [];
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** A recorded command split as `python [flags] script args`. */
export interface ScriptCommand {
  python: string;
  /** The interpreter's own flags (`-u`). */
  flags: string[];
  /** Absolute path of the script. */
  script: string;
  args: string[];
}

/** `argv` (as captured, run in `cwd`) as a Python script's command, or undefined when it runs no script file. */
export function scriptCommand(argv: string[], cwd: string): ScriptCommand | undefined {
  if (!argv.length || !isPythonCommand(argv[0])) return undefined;
  const at = argv.findIndex((a, i) => i > 0 && !a.startsWith('-'));
  if (at < 0 || argv.slice(1, at).some((f) => f === '-c' || f === '-m')) return undefined;
  return { python: argv[0], flags: argv.slice(1, at), script: path.resolve(cwd, argv[at]), args: argv.slice(at + 1) };
}

/** How many of the latest runs lastRecordedArguments looks through (each is one read of the index). */
const RECENT_RUNS = 50;

/** The arguments of the latest recorded run of `script` among the recent runs (any front end), or undefined. */
export function lastRecordedArguments(tracking: Tracking, script: string): string[] | undefined {
  for (const summary of tracking.listRuns().slice(0, RECENT_RUNS)) {
    const capture = tracking.getRun(summary.id)?.capture;
    const command = capture?.argv && capture.cwd ? scriptCommand(capture.argv, capture.cwd) : undefined;
    if (command?.script === script) return command.args;
  }
  return undefined;
}
