import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { checkColumnTests, checkGates, checkObjectives, checkTargets, problem } from './configChecks';
import { checkNames } from './nameChecks';
import type { MlopsSchema } from './schema';
import { checkSchema } from './schemaChecks';
import { checkStages } from './stageChecks';
import type { WorkspaceFacts } from './workspaceFacts';
import type { YamlDocument, YamlPath } from './yamlDocument';

/**
 * Everything wrong with one mlops.yaml, each on the key, value or line it is about: YAML
 * syntax first (nothing else can be judged then), then the engine's readers (targets,
 * objectives, gates, drift tests, stages and their DAG), the schema for the rest, and names
 * that nothing declares.
 */
export async function diagnose(doc: YamlDocument, root: string, schema: MlopsSchema, facts: WorkspaceFacts): Promise<Diagnostic[]> {
  if (doc.hasErrors) {
    return doc.doc.errors.map((e) => ({ range: doc.range(e.pos[0], Math.max(e.pos[1], e.pos[0] + 1)), message: `Not valid YAML: ${e.message.split('\n')[0]}`, severity: DiagnosticSeverity.Error, source: 'mlops' }));
  }
  const out: Diagnostic[] = [];
  const objectives = checkObjectives(doc, out);
  checkTargets(doc, root, out);
  checkGates(doc, objectives, out);
  checkColumnTests(doc, out);
  const stages = checkStages(doc, root, out);
  // Places the engine judged are left to it: one message per mistake.
  const judged: YamlPath[] = [['stages'], ...out.flatMap((d) => {
    const path = (d.data as { path?: YamlPath } | undefined)?.path;
    return path ? [path] : [];
  })];
  out.push(...checkSchema(doc, schema, judged));
  checkTopLevelKeys(doc, schema, stages.flatMap((s) => s.params.filter((p) => p.file === 'mlops.yaml').map((p) => p.key.split('.')[0])), out);
  await checkNames(doc, facts, out);
  return out;
}

/** Top-level keys are the schema's, or parameter blocks a stage reads (params: [train.lr] reads train:); anything else is likely a typo. */
function checkTopLevelKeys(doc: YamlDocument, schema: MlopsSchema, paramBlocks: string[], out: Diagnostic[]): void {
  const known = Object.keys(schema.root.properties ?? {});
  for (const e of doc.entries([])) {
    const key = String(e.path[0]);
    if (known.includes(key) || paramBlocks.includes(key)) continue;
    out.push(problem(doc, e.path, `Unknown key "${key}": mlops.yaml takes ${known.join(', ')}, and parameter blocks that a stage lists under params.`, { severity: DiagnosticSeverity.Warning }));
  }
}
