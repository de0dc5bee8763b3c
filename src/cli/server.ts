import { parseArgs } from 'node:util';
import { startMlflowServer } from '../core/mlflow';
import { TO_WRITE, withProject } from './open';
import { UsageError, wrongArguments } from './usage';
import { print, printError } from './output';

const SAVE_EVERY_MS = 2000;

/**
 * `mlops server [--port P]`: the MLflow-compatible endpoint, headless. Prints the two lines to
 * paste into a shell, serves until Ctrl-C or SIGTERM, then stops and saves the index.
 */
export async function serverCommand(root: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { port: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length) throw wrongArguments(`server takes no arguments (got "${positionals[0]}").`);
  let port = 0;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port needs a port number from 0 to 65535 (0: a free port), not "${values.port}".`);
  }
  // The index stays open while serving; withProject closes (saves) it once the endpoint has stopped.
  await withProject(root, async (project) => {
    const { tracking } = project;
    if (tracking.readOnly) {
      throw new Error(`This workspace's tracking index cannot be owned here: ${tracking.whyReadOnly}. With VS Code open, its extension already serves an MLflow endpoint: run "MLOps: Copy MLflow Connection". Otherwise close the other process (VS Code, another mlops command) and try again.`);
    }
    const endpoint = await startMlflowServer(tracking, { port, project, log: (m) => printError(`mlops: ${m}\n`) });
    print(`export MLFLOW_TRACKING_URI=${endpoint.uri}\nexport MLFLOW_TRACKING_TOKEN=${endpoint.token}\n`);
    printError(`mlops: serving MLflow's tracking API for ${tracking.layout.root}; Ctrl-C stops it.\n`);
    const saver = setInterval(() => {
      try {
        tracking.save();
      } catch (err) {
        printError(`mlops: saving tracking.db failed: ${(err as Error).message}\n`);
      }
    }, SAVE_EVERY_MS);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    printError(`mlops: ${signal}: stopping the MLflow endpoint…\n`);
    clearInterval(saver);
    await endpoint.stop();
  }, TO_WRITE);
  printError('mlops: stopped; tracking index saved.\n');
  return 0;
}
