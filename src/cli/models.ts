import { parseArgs } from 'node:util';
import { formatBytes, formatTime } from '../core/format';
import { writeModelCard } from '../core/governance/modelCard';
import type { Project } from '../core/project';
import { lineageText, modelLineage } from '../core/registry/lineage';
import { oneLine, print, printJson, table } from './output';
import { promoteCommand } from './promote';
import { UsageError, wrongArguments } from './usage';

export async function modelsCommand(project: Project, sub: string | undefined, argv: string[]): Promise<number> {
  if (sub === 'promote') return promoteCommand(project, argv);
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, name: { type: 'string' }, run: { type: 'string' }, artifact: { type: 'boolean' }, remove: { type: 'boolean' } },
    allowPositionals: true,
  });
  const { registry } = project;
  const need = (n: number) => {
    if (positionals.length !== n) throw wrongArguments();
  };
  const runId = (ref: string) => project.tracking.resolveRunId(ref) ?? ref;
  switch (sub) {
    case 'list': {
      const models = registry.models();
      if (values.json) printJson(models);
      else if (!models.length) print('No models registered yet. Register one with: mlops models register model.onnx --name my-model\n');
      else print(table(['MODEL', 'VERSION', 'ALIASES', 'FORMAT', 'SIZE', 'RUN', 'REGISTERED'], models.flatMap((m) => m.versions.map((v) => [
        m.name, String(v.version), Object.entries(m.aliases).filter(([, n]) => n === v.version).map(([a]) => a).join(','),
        v.format.framework, formatBytes(v.size), v.run_id?.slice(0, 8) ?? '-', formatTime(v.created),
      ]))));
      return 0;
    }
    case 'register': {
      need(1);
      if (!values.name) throw new UsageError('register needs --name <model>');
      if (values.artifact && !values.run) throw new UsageError('--artifact needs --run <run-id>: the path is then inside that run\'s artifacts');
      const version = values.artifact
        ? await project.registerArtifact(values.name, runId(values.run!), positionals[0])
        : await project.registerModel(values.name, positionals[0], values.run ? runId(values.run) : undefined);
      if (values.json) printJson(version);
      else print(`Registered ${version.model} version ${version.version} (${version.format.framework}, ${formatBytes(version.size)}, snapshot ${version.snapshot.slice(0, 12)}).\n`);
      return 0;
    }
    case 'alias': {
      if (values.remove) {
        need(2);
        registry.setAlias(positionals[0], positionals[1], null);
        print(`Removed alias ${positionals[1]} of ${positionals[0]}.\n`);
        return 0;
      }
      need(3);
      if (!/^\d+$/.test(positionals[2])) throw new UsageError(`The version must be a number, not "${positionals[2]}".`);
      registry.setAlias(positionals[0], positionals[1], Number(positionals[2]));
      print(`${positionals[0]}@${positionals[1]} → version ${positionals[2]}.\n`);
      return 0;
    }
    case 'delete':
      need(2);
      registry.deleteVersion(positionals[0], Number(positionals[1]));
      print(`Deleted ${positionals[0]} version ${positionals[1]}.\n`);
      return 0;
    case 'card': {
      need(2);
      const file = await writeModelCard(project.layout, registry, project.tracking, project.snapshots, positionals[0], positionals[1]);
      print(`${file}\n`);
      return 0;
    }
    case 'lineage': {
      need(2);
      const lineage = await modelLineage(registry, project.tracking, project.snapshots, positionals[0], positionals[1]);
      if (values.json) printJson(lineage);
      else print(lineageText(lineage, 0, oneLine) + '\n');
      return 0;
    }
    default:
      throw new UsageError(`Unknown "models ${sub ?? ''}": use list, register, alias, promote, delete, card or lineage.`);
  }
}
