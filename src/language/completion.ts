import { CompletionItemKind, type CompletionItem, type Position } from 'vscode-languageserver';
import { cursorContext, type CursorContext } from './cursorContext';
import { knownNames, type KnownName } from './names';
import { nameKindAt } from './references';
import type { MlopsSchema, SchemaNode } from './schema';
import type { WorkspaceFacts } from './workspaceFacts';
import type { YamlDocument } from './yamlDocument';

const GATE_OPERATOR = /^\s*[A-Za-z_][\w./-]*\s*(>=|>|<=|<)\s*\S*$/;
const GATE_METRIC_DONE = /^\s*[A-Za-z_][\w./-]*\s+\S*$/;

/** Completions at `position`: keys from the schema, names from the runs, the registry and the file, and gate words. */
export async function complete(doc: YamlDocument, position: Position, schema: MlopsSchema, facts: WorkspaceFacts): Promise<CompletionItem[]> {
  const at = cursorContext(doc, position);
  const range = { start: { line: position.line, character: at.wordStart }, end: position };
  const item = (label: string, kind: CompletionItemKind, detail?: string, insert?: string, documentation?: string): CompletionItem => ({
    label, kind, ...(detail ? { detail } : {}), ...(documentation ? { documentation } : {}), textEdit: { range, newText: insert ?? label },
  });
  const names = (list: KnownName[], kind: CompletionItemKind) => list.map((n) => item(n.name, kind, n.detail));

  if (at.kind === 'key') {
    if (at.path.length === 1 && at.path[0] === 'objectives') {
      return (await knownNames('metric', doc, facts)).map((n) => item(n.name, CompletionItemKind.Field, n.detail, `${n.name}: {goal: ${guessGoal(n.name)}}`));
    }
    return keysFrom(schema.at(at.path), doc, at).map(([key, node]) => item(key, CompletionItemKind.Property, summary(node), insertKey(key, node, at.indent), node.description));
  }

  if (at.kind === 'item') {
    const [top, , list] = at.path;
    if (top === 'gates' && at.path.length === 1) return gateWords(at.text, await knownNames('metric', doc, facts), item);
    if (top === 'stages' && list === 'deps') {
      const outs = Object.entries((doc.data.stages ?? {}) as Record<string, { outs?: unknown }>).flatMap(([stage, s]) => [s?.outs ?? []].flat().map((o) => ({ name: String(o), detail: `out of stage ${stage}` })));
      return names(outs, CompletionItemKind.File);
    }
    const kind = nameKindAt([...at.path, 0], 'value');
    return kind ? names(await knownNames(kind, doc, facts), CompletionItemKind.Value) : [];
  }

  const kind = nameKindAt(at.path, 'value');
  if (kind) return names(await knownNames(kind, doc, facts), CompletionItemKind.Value);
  return (schema.at(at.path)?.enum ?? []).map((v) => item(String(v), CompletionItemKind.EnumMember));
}

/** The schema's keys for the mapping at the cursor, less those already written there. */
function keysFrom(node: SchemaNode | undefined, doc: YamlDocument, at: CursorContext): [string, SchemaNode][] {
  const present = new Set(doc.entries(at.path).map((e) => String(e.path[e.path.length - 1])));
  return Object.entries(node?.properties ?? {}).filter(([key]) => !present.has(key));
}

function summary(node: SchemaNode): string | undefined {
  return node.description?.split('. ')[0];
}

/** A mapping's key opens an indented block; a list's opens its first item. */
function insertKey(key: string, node: SchemaNode, indent: number): string {
  const inner = ' '.repeat(indent + 2);
  const types = [node.type ?? node.oneOf?.map((o) => o.type)].flat();
  if (types.includes('object')) return `${key}:\n${inner}`;
  if (types.includes('array') && !types.includes('string')) return `${key}:\n${inner}- `;
  return `${key}: `;
}

/** Metrics first; after a metric, an operator or "meets objective"; after an operator, "champion". */
function gateWords(text: string, metrics: KnownName[], item: (label: string, kind: CompletionItemKind, detail?: string) => CompletionItem): CompletionItem[] {
  if (GATE_OPERATOR.test(text)) return [item('champion', CompletionItemKind.Keyword, "the current champion's value (add + δ to demand a margin)")];
  if (GATE_METRIC_DONE.test(text)) {
    return [...['>=', '>', '<=', '<'].map((op) => item(op, CompletionItemKind.Operator)), item('meets objective', CompletionItemKind.Keyword, "its objective's target, in its goal's direction")];
  }
  return metrics.map((m) => item(m.name, CompletionItemKind.Field, m.detail));
}

/** Losses, errors and latencies go down; anything else up. Only a first guess the user can change. */
function guessGoal(metric: string): 'maximize' | 'minimize' {
  return /loss|error|latency|rmse|mae|mse|_ms$|time/i.test(metric) ? 'minimize' : 'maximize';
}
