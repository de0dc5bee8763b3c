// The entry of one deployment's server process (bundled as dist/modelServer.js; see
// supervisor.ts). Reads its config.json, serves, and tells its supervisor over IPC when it is
// ready or why it could not start. It stops with its owner: when the IPC channel closes.
import * as fs from 'node:fs';
import { ModelServer, type ServerConfig } from './server';

const STOP_GRACE_MS = 5000;

async function main(): Promise<void> {
  const configFile = process.argv[2];
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as ServerConfig;
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  let server: ModelServer;
  try {
    server = await ModelServer.start(config, log);
  } catch (err) {
    process.send?.({ type: 'failed', message: (err as Error).message });
    log(`could not start: ${(err as Error).message}`);
    process.exit(3);
  }
  process.send?.({ type: 'ready', port: server.port, url: server.url, model: server.modelName });
  log(`serving ${config.deployment} at ${server.url}`);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('owner gone'));
}

void main();
