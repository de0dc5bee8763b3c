import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { buildDag } from '../core/pipelines/dag';
import { parseStages, type PipelineProblem, type Stage } from '../core/pipelines/stages';
import { FILE, withoutFile } from './configChecks';
import type { YamlDocument } from './yamlDocument';

/**
 * The pipelines engine's own reading of `stages:` (src/core/pipelines): bad stages, then,
 * over the good ones, cycles, outs claimed twice and deps that nothing makes and that are missing.
 */
export function checkStages(doc: YamlDocument, root: string, out: Diagnostic[]): Stage[] {
  const { stages, problems } = parseStages(doc.text, FILE);
  const dag = buildDag(stages, root);
  for (const p of [...problems, ...dag.problems]) out.push(toDiagnostic(doc, p));
  return stages;
}

function toDiagnostic(doc: YamlDocument, p: PipelineProblem): Diagnostic {
  return { range: doc.lineRange(p.line), message: withoutFile(p.message), severity: DiagnosticSeverity.Error, source: 'mlops' };
}
