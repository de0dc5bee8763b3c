import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Deployments } from '../core/serving/deployments';
import { exportDocker, exportKubernetes } from '../core/serving/export';
import { UsageError } from './usage';
import { print, printError } from './output';

/** `mlops export`: a Docker build context, or Kubernetes manifests, for a deployment. */
export async function exportCommand(deployments: Deployments, kind: 'docker' | 'k8s', argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { out: { type: 'string', short: 'o' }, image: { type: 'string' }, model: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`export ${kind} needs one deployment name.`);
  const name = positionals[0];
  const out = path.resolve(values.out ?? path.join('deploy', name, kind));
  const files = kind === 'docker' ? await exportDocker(deployments, name, out, { model: values.model }) : exportKubernetes(deployments, name, out, { image: values.image, model: values.model });
  print(`${files.map((f) => path.join(out, f)).join('\n')}\n`);
  printError(kind === 'docker' ? `mlops: build with: docker build -t ${name} ${out}\n` : `mlops: apply with: kubectl apply -f ${out}\n`);
  return 0;
}
