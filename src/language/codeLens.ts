import type { CodeLens } from 'vscode-languageserver';
import type { WorkspaceFacts } from './workspaceFacts';
import type { YamlDocument } from './yamlDocument';

/** The extension's commands the lenses run (package.json): the pipelines view's, and the gated promotion. */
export const RUN_STAGE = 'mlops.pipelines.runStage';
export const RUN_PIPELINE = 'mlops.pipelines.run';
export const VALIDATE = 'mlops.promoteModelVersion';

/**
 * "Run pipeline" over `stages:`, "Run stage" over each stage, and over `gates:` one
 * "Validate" per registered model, on its newest version (the gate table, then promotion).
 */
export async function codeLenses(doc: YamlDocument, facts: WorkspaceFacts): Promise<CodeLens[]> {
  const lenses: CodeLens[] = [];
  const stages = doc.entry(['stages']);
  if (stages?.key) {
    lenses.push({ range: doc.nodeRange(stages.key), command: { title: '$(play) Run pipeline', command: RUN_PIPELINE, arguments: [] } });
    for (const s of doc.entries(['stages'])) {
      if (s.key) lenses.push({ range: doc.nodeRange(s.key), command: { title: '$(play) Run stage', command: RUN_STAGE, arguments: [String(s.path[1])] } });
    }
  }
  const gates = doc.entry(['gates']);
  if (gates?.key) {
    for (const m of await facts.models()) {
      if (!m.versions.length) continue;
      const newest = m.versions.reduce((a, b) => (b.version > a.version ? b : a));
      lenses.push({ range: doc.nodeRange(gates.key), command: { title: `$(checklist) Validate ${m.name} v${newest.version}`, command: VALIDATE, arguments: [{ model: m.name, version: newest.version }] } });
    }
  }
  return lenses;
}
