import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Deployments, deploymentSpec, servedModel } from '../core/serving/deployments';
import { readNormalisation } from '../core/serving/processing';
import { readStatus } from '../core/serving/supervisor';
import { UsageError } from './usage';
import { print, printError } from './output';

const DETACHED_ENV = 'MLOPS_SERVE_DETACHED';

function count(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${name} needs a whole number from ${min} to ${max}, not "${value}".`);
  return n;
}

/**
 * `mlops serve`: deploys a model version or an .onnx file as a supervised server process and
 * serves until Ctrl-C (which stops it), or with --detach hands it to a background supervisor
 * and returns once it serves.
 */
export async function serveCommand(root: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' }, port: { type: 'string' }, 'max-batch': { type: 'string' }, 'max-delay-ms': { type: 'string' },
      threads: { type: 'string' }, 'sample-rate': { type: 'string' }, normalize: { type: 'string' }, softmax: { type: 'boolean' },
      labels: { type: 'string' }, token: { type: 'boolean' }, 'max-body-bytes': { type: 'string' }, detach: { type: 'boolean' },
      target: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`"serve" takes one model: a registered one (name, name:3 or name@alias) or an .onnx file; it got ${positionals.length}.`);
  const target = positionals[0];
  const name = values.name ?? (servedModel(target) ?? path.basename(target, '.onnx')).replace(/[^A-Za-z0-9._-]/g, '-');
  const sampleRate = values['sample-rate'] === undefined ? undefined : Number(values['sample-rate']);
  if (sampleRate !== undefined && !(sampleRate >= 0 && sampleRate <= 1)) throw new UsageError(`--sample-rate needs a share from 0 to 1, not "${values['sample-rate']}".`);
  const maxBatch = count('max-batch', values['max-batch'], 1, 4096);
  const maxDelayMs = count('max-delay-ms', values['max-delay-ms'], 0, 10_000);
  const spec = deploymentSpec(name, target, {
    ...(values.port !== undefined ? { port: count('port', values.port, 0, 65535) } : {}),
    ...(maxBatch !== undefined || maxDelayMs !== undefined ? { batching: { maxBatch: maxBatch ?? 32, maxDelayMs: maxDelayMs ?? 0 } } : {}),
    ...(values.threads !== undefined ? { threads: count('threads', values.threads, 0, 256) } : {}),
    ...(sampleRate !== undefined ? { sampleRate } : {}),
    ...(values['max-body-bytes'] !== undefined ? { maxBodyBytes: count('max-body-bytes', values['max-body-bytes'], 1024) } : {}),
    token: !!values.token,
    ...(values.target && values.target !== 'local' ? { remote: values.target } : {}),
    processing: {
      ...(values.normalize ? { standardize: readNormalisation(path.resolve(values.normalize)) } : {}),
      ...(values.softmax ? { softmax: {} } : {}),
      ...(values.labels ? { labels: { names: values.labels.split(',') } } : {}),
    },
  });
  if (values.detach) return detach(root, name, argv.filter((a) => a !== '--detach'));

  const deployments = await Deployments.open(root);
  const running = await deployments.deploy(spec, { owner: process.env[DETACHED_ENV] ? 'detached' : 'cli', onStatus: (s) => { if (s.state !== 'running' && s.state !== 'stopped') printError(`mlops: ${name}: ${s.state}${s.lastError ? `: ${s.lastError}` : ''}\n`); } });
  const remote = running.status.remote;
  print(`${name} serving ${target} at ${running.status.url}${remote ? ` (forwarded from target ${remote.target}, ${remote.host})` : ''}\n`);
  if (running.status.token) print(`token: ${running.status.token}\n`);
  if (!process.env[DETACHED_ENV]) printError(`mlops: Open Inference Protocol at ${running.status.url}/v2, MLflow scoring at ${running.status.url}/invocations, metrics at ${running.status.url}/metrics. Ctrl-C stops it.\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // `mlops deployments stop` records the stop before it signals; Ctrl-C here records it now.
  if (deployments.get(name).deployment.state === 'running') await deployments.stop(name);
  else await running.stop();
  printError(`mlops: ${signal}: ${name} stopped.\n`);
  return 0;
}

/** Starts this same command in a background process of its own, and returns once it serves (or says why it could not). */
async function detach(root: string, name: string, argv: string[]): Promise<number> {
  const dir = path.join(root, '.mlops', 'serving', name);
  fs.mkdirSync(dir, { recursive: true });
  const log = fs.openSync(path.join(dir, 'supervisor.log'), 'a');
  const child = spawn(process.execPath, [process.argv[1], '--workspace', root, 'serve', ...argv], {
    detached: true, stdio: ['ignore', log, log], env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  fs.closeSync(log);
  let exited: number | null = null;
  child.once('exit', (code) => { exited = code ?? 1; });
  child.unref();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const found = readStatus(dir);
    const status = found && found.supervisor === child.pid ? found : undefined;
    if (status?.state === 'running') {
      print(`${name} serving at ${status.url} (detached, supervisor pid ${child.pid}); stop it with: mlops deployments stop ${name}\n`);
      if (status.token) print(`token: ${status.token}\n`);
      return 0;
    }
    if (exited !== null || status?.state === 'failed') {
      const tail = fs.readFileSync(path.join(dir, 'supervisor.log'), 'utf8').trim().split('\n').slice(-3).join('\n');
      throw new Error(`${name} did not start: ${status?.lastError ?? tail}`);
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start within 2 minutes; see ${path.join(dir, 'supervisor.log')}.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
