import type { NameKind } from './references';
import type { WorkspaceFacts } from './workspaceFacts';
import type { YamlDocument } from './yamlDocument';

/** A name to offer, with a line saying where it comes from. */
export interface KnownName {
  name: string;
  detail: string;
}

const keysOf = (value: unknown): string[] => (value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : []);

/** The names of a kind that exist: metrics and params from the runs, models and aliases from the registry, stages and targets from the file. */
export async function knownNames(kind: NameKind, doc: YamlDocument, facts: WorkspaceFacts): Promise<KnownName[]> {
  const data = doc.data;
  switch (kind) {
    case 'metric': {
      const logged = await facts.metricNames();
      const declared = keysOf(data.objectives).filter((m) => !logged.includes(m));
      return [...logged.map((name) => ({ name, detail: 'metric logged by runs' })), ...declared.map((name) => ({ name, detail: 'objective' }))];
    }
    case 'param':
      return (await facts.paramNames()).map((name) => ({ name, detail: 'parameter logged by runs' }));
    case 'stage':
      return keysOf(data.stages).map((name) => ({ name, detail: 'stage' }));
    case 'target':
      return ['local', ...keysOf(data.targets).filter((t) => t !== 'local')].map((name) => ({ name, detail: 'target' }));
    case 'model':
      return (await facts.models()).flatMap((m) => [
        { name: m.name, detail: `model, ${m.versions.length} version${m.versions.length === 1 ? '' : 's'}` },
        ...Object.entries(m.aliases).map(([alias, v]) => ({ name: `${m.name}@${alias}`, detail: `${m.name} version ${v}` })),
      ]);
  }
}
