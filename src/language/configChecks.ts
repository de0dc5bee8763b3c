import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { parseTarget } from '../core/compute/targets';
import { parseColumnTest } from '../core/monitoring/config';
import { parseGate } from '../core/validation/gates';
import { parseObjectives, type Objective } from '../core/workspace/objectives';
import { scalarText, type YamlDocument, type YamlPath } from './yamlDocument';

/** The file name the engine's messages start with: the diagnostic is already in it. */
export const FILE = 'mlops.yaml';

export function problem(doc: YamlDocument, path: YamlPath, message: string, options: { prefer?: 'key' | 'value'; severity?: DiagnosticSeverity } = {}): Diagnostic {
  // `data.path` lets the schema check leave places the engine already judged alone.
  return { range: doc.rangeOf(path, options.prefer), message: withoutFile(message), severity: options.severity ?? DiagnosticSeverity.Error, source: 'mlops', data: { path } };
}

/** "mlops.yaml: target "x" needs…" reads "target "x" needs…" where it is shown in mlops.yaml. */
export function withoutFile(message: string): string {
  return message.startsWith(`${FILE}: `) ? message.slice(FILE.length + 2) : message;
}

/** Objectives that parse, by metric; each broken one is a diagnostic on its key. */
export function checkObjectives(doc: YamlDocument, out: Diagnostic[]): Map<string, Objective> {
  const objectives = new Map<string, Objective>();
  const value = doc.data.objectives;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return objectives;
  for (const [metric, settings] of Object.entries(value)) {
    try {
      for (const [k, o] of parseObjectives({ [metric]: settings }, FILE)) objectives.set(k, o);
    } catch (err) {
      out.push(problem(doc, ['objectives', metric], (err as Error).message));
    }
  }
  return objectives;
}

/**
 * The engine's own reading of each target, gate and drift test (src/core: the same words
 * as the CLI's errors), on the entry it is about.
 */
export function checkTargets(doc: YamlDocument, root: string, out: Diagnostic[]): void {
  const targets = doc.data.targets;
  if (!targets || typeof targets !== 'object' || Array.isArray(targets)) return;
  for (const [name, settings] of Object.entries(targets)) {
    try {
      parseTarget(name, settings, FILE, root);
    } catch (err) {
      out.push(problem(doc, ['targets', name], (err as Error).message));
    }
  }
}

export function checkGates(doc: YamlDocument, objectives: Map<string, Objective>, out: Diagnostic[]): void {
  for (const item of doc.entries(['gates'])) {
    const text = scalarText(item.value);
    if (text === undefined) continue;
    try {
      const gate = parseGate(text);
      if (gate.against.kind === 'objective' && objectives.get(gate.metric)?.target === undefined) {
        out.push(problem(doc, item.path, `Gate "${text}" needs an objective with a target, e.g.\nobjectives:\n  ${gate.metric}: {goal: maximize, target: 0.9}`, { prefer: 'value' }));
      }
    } catch (err) {
      out.push(problem(doc, item.path, (err as Error).message, { prefer: 'value' }));
    }
  }
}

export function checkColumnTests(doc: YamlDocument, out: Diagnostic[]): void {
  for (const e of doc.entries(['monitoring', 'column_tests'])) {
    const text = scalarText(e.value);
    if (text === undefined) continue;
    try {
      parseColumnTest(text, `monitoring.column_tests.${e.path[2]}`);
    } catch (err) {
      out.push(problem(doc, e.path, (err as Error).message, { prefer: 'value' }));
    }
  }
}
