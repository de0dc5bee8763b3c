import { COMMANDS } from './commands';
import { print, printError } from './output';
import { findWorkspaceRoot } from '../core/workspace/layout';
import { helpText, isUsageError, signature, usageText, UsageError, type Command } from './usage';

const VERSION = '0.1.0';

/** Pulls `--workspace DIR` out of the arguments (it may stand anywhere before `--`). */
function takeWorkspace(argv: string[]): { root: string; rest: string[] } {
  const head = beforeDashDash(argv);
  const i = head.findIndex((a) => a === '--workspace' || a.startsWith('--workspace='));
  if (i < 0) return { root: process.env.MLOPS_WORKSPACE || findWorkspaceRoot(process.cwd()), rest: argv };
  const inline = head[i].includes('=') ? head[i].split('=').slice(1).join('=') : undefined;
  const value = inline ?? head[i + 1];
  if (!value) throw new UsageError('--workspace needs a folder');
  const rest = [...argv];
  rest.splice(i, inline === undefined ? 2 : 1);
  return { root: value, rest };
}

function beforeDashDash(argv: string[]): string[] {
  const dash = argv.indexOf('--');
  return dash < 0 ? argv : argv.slice(0, dash);
}

/** The arguments without `--json` before `--` (after it they belong to the command `run` starts). */
function withoutJson(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return argv.filter((a, i) => a !== '--json' || (end >= 0 && i > end));
}

const wantsHelp = (argv: string[]) => beforeDashDash(argv).some((a) => a === '--help' || a === '-h');

/** The command the arguments name (`runs list` before `runs`), or the group they name (`runs`). */
function findCommand(words: string[]): { command?: Command; group?: Command[]; rest: string[] } {
  const [first, second] = words;
  const exact = COMMANDS.find((c) => c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
  if (exact) return { command: exact, rest: words.slice(exact.name.split(' ').length) };
  const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  return { group: group.length ? group : undefined, rest: words.slice(1) };
}

/** Which command the user was reaching for, for the hint after an error. */
let attempted = '';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    printError(usageText(COMMANDS) + '\n');
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || (argv[0] === 'help' && argv.length === 1)) {
    print(usageText(COMMANDS) + '\n');
    return 0;
  }
  if (argv[0] === '--version') {
    print(`${VERSION}\n`);
    return 0;
  }
  const { root, rest } = takeWorkspace(argv[0] === 'help' ? [...argv.slice(1), '--help'] : argv);
  const { command, group, rest: args } = findCommand(rest);
  if (command) {
    attempted = command.name;
    if (wantsHelp(args)) {
      print(helpText([command]) + '\n');
      return 0;
    }
    // --json is global (errors as JSON): a command without JSON output of its own does not see it.
    return command.run(root, command.args.includes('--json') ? args : withoutJson(args));
  }
  if (group) {
    attempted = rest[0];
    if (wantsHelp(rest)) {
      print(helpText(group) + '\n');
      return 0;
    }
    const subs = group.map((c) => c.name.split(' ')[1]);
    throw new UsageError(rest[1] === undefined || rest[1].startsWith('-')
      ? `"${rest[0]}" needs one of: ${subs.join(', ')}.`
      : `Unknown "${rest[0]} ${rest[1]}": use one of ${subs.join(', ')}.`);
  }
  throw new UsageError(`Unknown command "${rest[0]}".`);
}

/** Errors: one line (and where the usage is); with --json, {"error": …} on stderr. Exit 2 for usage errors, else 1. */
function report(err: unknown, json: boolean): number {
  const usage = isUsageError(err);
  const command = COMMANDS.find((c) => c.name === attempted);
  // wrongArguments(): the command's own usage line, as `mlops <command> --help` shows it.
  const usageLine = err instanceof UsageError && err.withUsage && command ? `Usage: ${signature(command)}` : '';
  const message = [(err as Error)?.message ?? String(err), usageLine].filter(Boolean).join(' ');
  if (json) printError(JSON.stringify({ error: message }) + '\n');
  else {
    const hint = usage ? `\nRun "mlops ${attempted ? `${attempted} ` : ''}--help" for usage.` : '';
    printError(`mlops: ${message}${hint}\n`);
  }
  return usage ? 2 : 1;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { process.exitCode = report(err, beforeDashDash(argv).includes('--json')); },
);
