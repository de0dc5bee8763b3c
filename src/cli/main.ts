import { AuditLog } from '../core/governance/audit';
import { importMlflowCommand } from './importMlflow';
import { modelsCommand } from './models';
import { notebookCommand } from './notebook';
import { withProject, withTracking } from './open';
import { reproduceCommand } from './reproduce';
import { runCommand } from './run';
import { runsList, runsShow } from './runs';
import { serverCommand } from './server';
import { snapshotCommand, snapshotsCommand } from './snapshots';
import { runsCancel, targetsCommand } from './targets';
import { findWorkspaceRoot, MlopsLayout } from '../core/workspace/layout';
import { USAGE, UsageError } from './usage';

const VERSION = '0.1.0';

/** Pulls `--workspace DIR` out of the arguments (it may stand anywhere before `--`). */
function takeWorkspace(argv: string[]): { root: string; rest: string[] } {
  const dash = argv.indexOf('--');
  const head = dash < 0 ? argv : argv.slice(0, dash);
  const i = head.findIndex((a) => a === '--workspace' || a.startsWith('--workspace='));
  if (i < 0) return { root: process.env.MLOPS_WORKSPACE || findWorkspaceRoot(process.cwd()), rest: argv };
  const inline = head[i].includes('=') ? head[i].split('=').slice(1).join('=') : undefined;
  const value = inline ?? head[i + 1];
  if (!value) throw new UsageError('--workspace needs a folder');
  const rest = [...argv];
  rest.splice(i, inline === undefined ? 2 : 1);
  return { root: value, rest };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(USAGE + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const { root, rest } = takeWorkspace(argv);
  const [command, sub, ...args] = rest;
  switch (command) {
    case 'run':
      return runCommand(new MlopsLayout(root), rest.slice(1));
    case 'runs':
      if (sub === 'list') return withTracking(root, (t) => runsList(t, args));
      if (sub === 'show') return withTracking(root, (t) => runsShow(t, args));
      if (sub === 'cancel') return runsCancel(root, args);
      throw new UsageError(`Unknown "runs ${sub ?? ''}": use "runs list" or "runs show <run-id>".`);
    case 'reindex':
      return withTracking(root, async (t) => {
        if (t.readOnly) throw new Error('Another process holds the tracking index; close VS Code (or the other mlops command) and try again.');
        const result = await t.reindex();
        process.stdout.write(`Reindexed ${t.listRuns().length} runs (${result.lines} log lines).\n`);
        return 0;
      });
    case 'server':
      return serverCommand(root, rest.slice(1));
    case 'import-mlflow':
      return importMlflowCommand(root, rest.slice(1));
    case 'notebook':
      return notebookCommand(new MlopsLayout(root), sub, args);
    case 'snapshot':
      return withProject(root, (p) => snapshotCommand(p, rest.slice(1)));
    case 'snapshots':
      return withProject(root, (p) => snapshotsCommand(p, sub, args));
    case 'models':
      return withProject(root, (p) => modelsCommand(p, sub, args));
    case 'reproduce':
      return withProject(root, (p) => reproduceCommand(p, rest.slice(1)));
    case 'targets':
      return targetsCommand(root, sub, args);
    case 'audit': {
      if (sub !== 'verify') throw new UsageError('Use: mlops audit verify');
      const verdict = new AuditLog(new MlopsLayout(root)).verify();
      if (verdict.ok) {
        process.stdout.write(`Audit trail intact: ${verdict.count} entries.\n`);
        return 0;
      }
      process.stderr.write(`Audit trail broken: ${verdict.message}\n`);
      return 1;
    }
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`mlops: ${(err as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`mlops: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  },
);
