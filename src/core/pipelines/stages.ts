import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';

/**
 * Stages from `stages:` in mlops.yaml, e.g.
 *
 *   stages:
 *     train:
 *       cmd: python3 train.py
 *       deps: [train.py, data/features/]
 *       params: [train.lr, params.yaml:epochs]
 *       outs: [models/model.onnx]
 *       metrics: [metrics/train.json]
 *
 * Every stage and every problem carries its 1-based line in mlops.yaml, so the CLI, the
 * Pipelines view and the language server point at the same place.
 */
export interface PipelineProblem {
  message: string;
  /** 1-based line in mlops.yaml. */
  line: number;
  stage?: string;
}

/** A parameter a stage reads: a key of mlops.yaml (dots go into mappings) or `file.yaml:key`. */
export interface StageParam {
  /** As written, e.g. `train.lr` or `params.yaml:train.lr`. */
  text: string;
  /** Workspace-relative file holding it ('mlops.yaml' unless written as `file:key`). */
  file: string;
  key: string;
}

export interface Stage {
  name: string;
  /** Line of the stage's name. */
  line: number;
  cmd: string;
  /** Workspace-relative files and folders ('/' separators, no trailing '/'). */
  deps: string[];
  params: StageParam[];
  outs: string[];
  metrics: string[];
  /** 1-based lines of each entry, for pointing at a single dep or out. */
  lines: { cmd: number; deps: number[]; params: number[]; outs: number[]; metrics: number[] };
}

const FIELDS = ['cmd', 'deps', 'params', 'outs', 'metrics'] as const;
const LISTS = ['deps', 'params', 'outs', 'metrics'] as const;
const NAME = /^[A-Za-z0-9][\w.-]*$/;
const EXAMPLE = 'stages:\n  train:\n    cmd: python3 train.py\n    deps: [train.py, data/]\n    outs: [models/]';

/** Workspace-relative path with '/' separators, no './' and no trailing '/'. */
export function normalisePath(p: string): string {
  const parts: string[] = [];
  for (const part of p.trim().replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/') || '.';
}

export function parseParam(text: string): StageParam {
  const t = text.trim();
  const colon = t.indexOf(':');
  if (colon > 0) return { text: t, file: normalisePath(t.slice(0, colon)), key: t.slice(colon + 1).trim() };
  return { text: t, file: 'mlops.yaml', key: t };
}

/** The stages of mlops.yaml's text (none when it declares none) and what is wrong with them. */
export function parseStages(text: string, file: string): { stages: Stage[]; problems: PipelineProblem[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  // A pair has no range of its own: its line is its key's.
  const lineOf = (node: Node | Pair | null | undefined, fallback = 1): number => {
    const n = (isPair(node) ? node.key : node) as Node | null | undefined;
    return n?.range ? counter.linePos(n.range[0]).line : fallback;
  };
  const problems: PipelineProblem[] = [];
  const stages: Stage[] = [];
  if (doc.errors.length) {
    const e = doc.errors[0];
    problems.push({ message: `${file} is not valid YAML: ${e.message.split('\n')[0]}. Fix the file.`, line: e.linePos?.[0].line ?? 1 });
    return { stages, problems };
  }
  if (!isMap(doc.contents)) return { stages, problems };
  const top = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'stages');
  if (!top || top.value === null || (isScalar(top.value) && top.value.value === null)) return { stages, problems };
  if (!isMap(top.value)) {
    problems.push({ message: `${file}: "stages" must map stage names to their settings, e.g.\n${EXAMPLE}`, line: lineOf(top) });
    return { stages, problems };
  }
  for (const pair of (top.value as YAMLMap).items) {
    const line = lineOf(pair);
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!NAME.test(name)) {
      problems.push({ message: `${file}: stage name "${name}" may hold letters, digits, ".", "_" and "-" only.`, line, stage: name || undefined });
      continue;
    }
    const stage = parseStage(name, pair.value as Node | null, line, file, lineOf, problems);
    if (stage) stages.push(stage);
  }
  return { stages, problems };
}

function parseStage(
  name: string,
  value: Node | null,
  line: number,
  file: string,
  lineOf: (n: Node | Pair | null | undefined, fallback?: number) => number,
  problems: PipelineProblem[],
): Stage | undefined {
  const where = `${file}: stage "${name}"`;
  const problem = (message: string, at = line) => problems.push({ message, line: at, stage: name });
  if (!isMap(value)) {
    problem(`${where} must be a mapping with at least "cmd", e.g.\n${EXAMPLE}`);
    return undefined;
  }
  const stage: Stage = { name, line, cmd: '', deps: [], params: [], outs: [], metrics: [], lines: { cmd: line, deps: [], params: [], outs: [], metrics: [] } };
  let ok = true;
  for (const pair of value.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const at = lineOf(pair, line);
    if (!(FIELDS as readonly string[]).includes(key)) {
      problem(`${where}: unknown key "${key}"; a stage has ${FIELDS.join(', ')}.`, at);
      ok = false;
      continue;
    }
    const v = pair.value as Node | null;
    if (key === 'cmd') {
      if (!isScalar(v) || typeof v.value !== 'string' || !v.value.trim()) {
        problem(`${where}: "cmd" must be the command line to run, e.g. cmd: python3 train.py`, at);
        ok = false;
      } else {
        stage.cmd = v.value.trim();
        stage.lines.cmd = at;
      }
      continue;
    }
    const list = key as (typeof LISTS)[number];
    const items = isSeq(v) ? v.items : v === null || (isScalar(v) && v.value === null) ? [] : [v];
    for (const item of items) {
      const itemLine = lineOf(item as Node, at);
      if (!isScalar(item) || typeof item.value !== 'string' || !item.value.trim()) {
        problem(`${where}: each entry of "${key}" must be a ${key === 'params' ? 'parameter name (train.lr, or params.yaml:train.lr)' : 'path'}.`, itemLine);
        ok = false;
        continue;
      }
      const text = item.value;
      if (list === 'params') {
        const param = parseParam(text);
        if (!param.key) {
          problem(`${where}: parameter "${text}" names no key; write ${param.file}:some.key.`, itemLine);
          ok = false;
          continue;
        }
        stage.params.push(param);
      } else {
        const p = normalisePath(text);
        if (p === '.' || p.startsWith('../') || p === '..' || text.trim().startsWith('/')) {
          problem(`${where}: "${text}" in "${key}" must be a path inside the workspace (relative to mlops.yaml).`, itemLine);
          ok = false;
          continue;
        }
        if (p === '.mlops' || p.startsWith('.mlops/')) {
          problem(`${where}: "${text}" in "${key}" is inside .mlops, which belongs to MLOps Workbench; use a path of your project.`, itemLine);
          ok = false;
          continue;
        }
        stage[list].push(p);
      }
      stage.lines[list].push(itemLine);
    }
  }
  if (!stage.cmd && ok) {
    problem(`${where} has no "cmd": add the command line to run, e.g. cmd: python3 train.py`);
    ok = false;
  }
  return ok ? stage : undefined;
}
