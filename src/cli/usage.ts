/** A mistake in how the CLI was called: printed in one line with where to find the usage, exit code 2. */
export class UsageError extends Error {
  /** Set by wrongArguments(): the CLI adds the command's usage line. */
  withUsage = false;
}

/**
 * Arguments that do not fit the command (`why`: what is wrong, when more than the count): the CLI
 * adds the command's usage line from the command table (commands.ts), so no command keeps a copy
 * of it that could drift.
 */
export function wrongArguments(why = ''): UsageError {
  const err = new UsageError(why);
  err.withUsage = true;
  return err;
}

/** For commands that take no arguments: anything given is a mistake, not something to ignore. */
export function refuseArguments(command: string, argv: readonly string[]): void {
  if (argv.length) throw new UsageError(`"${command}" takes no arguments (got "${argv[0]}").`);
}

/** A UsageError, or node's parseArgs refusing an option: exit code 2, and the usage hint. */
export function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || Boolean((err as { code?: string } | undefined)?.code?.startsWith('ERR_PARSE_ARGS'));
}

/**
 * One `mlops` command, as the command table (commands.ts) lists it: the top-level usage and
 * `mlops <name> --help` are written from these fields, and `run` does the work.
 */
export interface Command {
  /** What follows `mlops`: a word, or a group and its sub-command ("runs list"). */
  name: string;
  /** Its arguments and options, as the usage shows them ("<run-id> [--json]"). */
  args: string;
  /** One line: what it does. */
  summary: string;
  /** The usage's heading it is listed under; commands of a group stay together. */
  section: string;
  /** More for `mlops <name> --help`: options, examples, exit codes. */
  details?: readonly string[];
  /**
   * The arguments after the name; returns the exit code. `root` is the workspace folder.
   * Commands that pass arguments on (`run -- <command…>`) see `--help` only before `--`.
   */
  run(root: string, argv: string[]): number | Promise<number>;
}

const GLOBAL_OPTIONS = `Options:
  --workspace DIR   the project folder (default: the nearest folder upwards with .mlops/ or mlops.yaml)
  --json            machine-readable output, and errors as {"error": "…"} on stderr
  --help, -h        this text; "mlops <command> --help" for one command
  --version         the version`;

const EXIT_CODES = 'Exit codes: 0 success; for "run", the command\'s own exit code; for "notebook run", 1 when a cell failed; 1 other errors; 2 usage errors.';

/** The top-level usage: every command's one line, by section. */
export function usageText(commands: readonly Command[]): string {
  const sections = [...new Set(commands.map((c) => c.section))];
  const lines = ['mlops — MLOps Workbench on the command line', '', 'Usage:'];
  const width = Math.max(...commands.map((c) => signature(c).length));
  for (const section of sections) {
    lines.push(`  ${section}:`);
    for (const c of commands.filter((x) => x.section === section)) {
      const sig = signature(c);
      lines.push(sig.length <= width && sig.length <= 52 ? `    ${sig.padEnd(Math.min(width, 52))}  ${c.summary}` : `    ${sig}\n    ${''.padEnd(Math.min(width, 52))}  ${c.summary}`);
    }
    lines.push('');
  }
  return [...lines, GLOBAL_OPTIONS, '', EXIT_CODES].join('\n');
}

/** `mlops <name> --help`: the commands named (one, or a group's), with their details. */
export function helpText(commands: readonly Command[]): string {
  const blocks = commands.map((c) => [`Usage: ${signature(c)}`, '', `  ${c.summary}`, ...(c.details?.length ? ['', ...c.details.map((d) => `  ${d}`)] : [])].join('\n'));
  return [...blocks, '', 'Every command also takes --workspace DIR; "mlops --help" lists them all.'].join('\n\n').replace(/\n{3,}/g, '\n\n');
}

/** `mlops <name> <args>`: a command's usage line. */
export function signature(c: Command): string {
  return `mlops ${c.name}${c.args ? ` ${c.args}` : ''}`;
}
