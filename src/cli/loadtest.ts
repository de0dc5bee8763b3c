import { parseArgs } from 'node:util';
import type { Deployments } from '../core/serving/deployments';
import { print, printError, printJson } from './output';
import { UsageError } from './usage';

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new UsageError(`--${name} needs a number above 0, not "${value}".`);
  return n;
}

/** `mlops loadtest`: the capacity and cost estimate of a running deployment. */
export async function loadtestCommand(deployments: Deployments, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'p99-ms': { type: 'string' }, 'target-rps': { type: 'string' }, 'core-hour-usd': { type: 'string' }, 'step-seconds': { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('loadtest needs one deployment name.');
  const report = await deployments.loadTest(positionals[0], {
    p99Ms: positive('p99-ms', values['p99-ms']), targetRps: positive('target-rps', values['target-rps']),
    coreHourUsd: positive('core-hour-usd', values['core-hour-usd']), stepSeconds: positive('step-seconds', values['step-seconds']),
    onStep: values.json ? undefined : (s) => printError(`  ${String(s.rate).padStart(6)} req/s offered: ${s.achieved.toFixed(0)} answered, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms${s.errors ? `, ${s.errors} failed` : ''}${s.cores !== undefined ? `, ${s.cores.toFixed(2)} cores` : ''}\n`),
  });
  if (values.json) {
    printJson(report);
    return 0;
  }
  const lines = [
    `${positionals[0]}: ${report.maxRps.toFixed(0)} req/s with p99 ${report.p99Ms.toFixed(1)} ms (target ${report.p99TargetMs} ms), p50 ${report.p50Ms.toFixed(1)} ms`,
    ...(report.rpsPerCore !== undefined ? [`${report.rpsPerCore.toFixed(0)} req/s per core`] : []),
    ...(report.instances !== undefined ? [`${report.instances} instance(s) for ${report.targetRps} req/s`] : []),
    ...(report.costPerMillionUsd !== undefined ? [`$${report.costPerMillionUsd.toFixed(4)} per million predictions at $${report.coreHourUsd}/core-hour`] : []),
    'Loopback figures: the client shares this machine with the server.',
  ];
  print(lines.join('\n') + '\n');
  return 0;
}
