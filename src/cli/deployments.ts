import { parseArgs } from 'node:util';
import { formatTime } from '../core/format';
import { curlExample } from '../core/serving/curl';
import { deploymentState, servedModel, type Deployments, type DeploymentView } from '../core/serving/deployments';
import { print, printJson, table } from './output';
import { UsageError } from './usage';

/** What a user reads about a deployment; --json prints this too (without secrets). */
function summary(v: DeploymentView) {
  const { deployment: d, status } = v;
  return {
    name: d.spec.name, state: deploymentState(v), on: d.spec.remote ?? 'local', host: status?.remote?.host ?? d.placement?.host ?? null,
    url: v.live ? status?.url ?? null : null, target: d.target, split: d.split ?? null, shadow: d.shadow ?? null,
    restarts: status?.restarts ?? 0, lastError: status?.lastError ?? null, tokenRequired: d.spec.token,
    batching: d.spec.batching, sampleRate: d.spec.sampleRate, threads: d.spec.threads, created: d.created, updated: d.updated,
  };
}

export async function deploymentsCommand(deployments: Deployments, sub: string | undefined, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, weight: { type: 'string' }, key: { type: 'string' }, off: { type: 'boolean' } },
    allowPositionals: true,
  });
  const need = (n: number) => {
    if (positionals.length !== n) throw new UsageError(`"deployments ${sub}" takes ${n === 1 ? 'a deployment name' : 'a deployment name and a version (or @alias)'}; it got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}.`);
  };
  const say = (text: string) => {
    if (values.json) printJson(summary(deployments.get(positionals[0])));
    else print(text + '\n');
  };
  switch (sub) {
    case 'list': {
      const all = deployments.list().map(summary);
      if (values.json) printJson(all);
      else if (!all.length) print('No deployments yet. Deploy one with: mlops serve <model[:version|@alias] | file.onnx>\n');
      else print(table(['NAME', 'STATE', 'ON', 'URL', 'SERVING', 'SPLIT', 'SHADOW', 'RESTARTS'], all.map((d) => [
        d.name, d.state, d.host ? `${d.on} (${d.host})` : d.on, d.url ?? '-', d.target, d.split ? `${d.split.target} ${Math.round(d.split.weight * 100)}%` : '-', d.shadow ?? '-', String(d.restarts),
      ])));
      return 0;
    }
    case 'show': {
      need(1);
      const view = deployments.get(positionals[0]);
      const s = summary(view);
      if (values.json) {
        printJson(s);
        return 0;
      }
      const lines = [
        `${s.name}: ${s.state}${s.url ? ` at ${s.url}` : ''}`,
        `serving   ${s.target}${s.split ? `; ${Math.round(s.split.weight * 100)}% to ${s.split.target}${s.split.stickyKey ? ` (sticky by ${s.split.stickyKey})` : ''}` : ''}${s.shadow ? `; shadow ${s.shadow}` : ''}`,
        `batching  max ${s.batching.maxBatch} rows, ${s.batching.maxDelayMs} ms; threads ${s.threads}; logging ${Math.round(s.sampleRate * 100)}% of predictions to ${deployments.dir(s.name)}`,
        ...(s.on !== 'local' ? [`runs on   target ${s.on}${s.host ? ` (${s.host})` : ''}${view.deployment.placement ? `, in ${view.deployment.placement.dir}` : ''}; forwarded to 127.0.0.1 here`] : []),
        `since     ${formatTime(s.created)}; ${s.restarts} restart(s)${s.lastError ? `; last problem: ${s.lastError}` : ''}`,
      ];
      if (s.url) {
        const model = servedModel(s.target) ?? s.name;
        const meta = (await (await fetch(`${s.url}/v2/models/${encodeURIComponent(model)}`, { headers: view.status?.token ? { Authorization: `Bearer ${view.status.token}` } : {} })).json().catch(() => undefined)) as { name: string; inputs: { name: string; datatype: string; shape: number[] }[] } | undefined;
        if (meta?.inputs?.[0]) lines.push('', curlExample(s.url, meta.name, meta.inputs[0], s.tokenRequired));
      }
      print(lines.join('\n') + '\n');
      return 0;
    }
    case 'switch': {
      need(2);
      const to = await deployments.switch(positionals[0], positionals[1]);
      say(`${positionals[0]} now serves ${to.model} version ${to.version}.`);
      return 0;
    }
    case 'split': {
      if (values.off) {
        need(1);
        await deployments.split(positionals[0], null);
        say(`${positionals[0]}: split ended; all traffic to ${deployments.get(positionals[0]).deployment.target}.`);
        return 0;
      }
      need(2);
      const weight = Number(values.weight);
      if (values.weight === undefined || !(weight > 0 && weight < 1)) throw new UsageError('split needs --weight W: the share of traffic (between 0 and 1) for the new target.');
      await deployments.split(positionals[0], { target: positionals[1], weight, ...(values.key ? { stickyKey: values.key } : {}) });
      say(`${positionals[0]}: ${Math.round(weight * 100)}% of traffic to ${positionals[1]}${values.key ? `, sticky by ${values.key}` : ''}.`);
      return 0;
    }
    case 'shadow': {
      if (values.off) {
        need(1);
        await deployments.shadow(positionals[0], null);
        say(`${positionals[0]}: shadow ended.`);
        return 0;
      }
      need(2);
      await deployments.shadow(positionals[0], positionals[1]);
      say(`${positionals[0]}: every request is mirrored to ${positionals[1]}; its answers go to the prediction log only.`);
      return 0;
    }
    case 'stop':
      need(1);
      await deployments.stop(positionals[0]);
      say(`${positionals[0]} stopped.`);
      return 0;
    default:
      throw new UsageError(`Unknown "deployments ${sub ?? ''}".`);
  }
}
