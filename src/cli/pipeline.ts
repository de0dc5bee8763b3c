import { parseArgs } from 'node:util';
import { dagText, mermaid } from '../core/pipelines/render';
import { loadPipeline } from '../core/pipelines/load';
import { DEFAULT_PARALLEL, runPipeline, type PipelineEvent } from '../core/pipelines/run';
import { pipelineStatus } from '../core/pipelines/status';
import { print, printError, printJson, table } from './output';
import { UsageError, wrongArguments } from './usage';

/** `mlops pipeline run [stage] [--downstream] [--parallel N] [--force] [--target T] [--json]`: exit 1 when a stage failed. */
export async function pipelineRun(root: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { downstream: { type: 'boolean' }, parallel: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, experiment: { type: 'string' }, target: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 1) throw wrongArguments('pipeline run takes at most one stage.');
  if (values.downstream && !positionals.length) throw new UsageError('--downstream needs a stage: mlops pipeline run train --downstream');
  const parallel = values.parallel === undefined ? DEFAULT_PARALLEL : Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel must be a whole number of stages, 1 or more (got "${values.parallel}").`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const record = await runPipeline(root, {
      stage: positionals[0], downstream: values.downstream, parallel, force: values.force, experiment: values.experiment, target: values.target,
      signal: stop.signal, onEvent: values.json ? undefined : printEvent(parallel > 1),
    });
    if (values.json) printJson(record);
    return record.status === 'succeeded' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Progress for people on stderr; the stages' own output on stdout, each line prefixed by its stage when several run at once. */
function printEvent(prefix: boolean): (e: PipelineEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'start':
        printError(`mlops: pipeline run ${e.pipelineRun}: ${e.stages.join(' → ') || '(no stages)'}\n`);
        return;
      case 'output':
        // The user's program's own output, passed through as a terminal would show it.
        process.stdout.write(prefix ? e.text.replace(/^(?=.)/gm, `[${e.stage}] `) : e.text);
        return;
      case 'stage': {
        const why = e.reasons.length ? ` (${e.reasons.join('; ')})` : '';
        const run = e.run ? ` run ${e.run}` : '';
        printError(`mlops: stage ${e.stage}: ${e.state}${run}${e.state === 'running' || e.state === 'not-run' || e.state === 'restored' ? why : ''}\n`);
        if (e.error) printError(`mlops: ${e.error}\n`);
        return;
      }
      case 'end':
        printError(`mlops: pipeline run ${e.pipelineRun} ${e.status}\n`);
    }
  };
}

/** `mlops pipeline status [--json]`: exit 0 either way (it reports; CI reads the JSON). */
export async function pipelineStatusCommand(root: string, argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, strict: true });
  const status = await pipelineStatus(root);
  if (values.json) {
    printJson(status.stages);
    return 0;
  }
  if (!status.stages.length) {
    print('No stages: declare them under "stages:" in mlops.yaml (docs/pipelines.md).\n');
    return 0;
  }
  const words = { 'up-to-date': 'up to date', changed: 'changed', restorable: 'outs missing' } as const;
  print(table(['STAGE', 'STATE', 'WHY'], status.stages.map((s) => [s.name, words[s.state], s.reasons.join('; ')])));
  return 0;
}

/** `mlops pipeline dag [--mermaid]`. */
export function pipelineDag(root: string, argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { mermaid: { type: 'boolean' } }, strict: true });
  const pipeline = loadPipeline(root);
  print(values.mermaid ? mermaid(pipeline) : dagText(pipeline));
  return 0;
}
