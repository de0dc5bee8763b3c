import { parseArgs } from 'node:util';
import type { Project } from '../core/project';
import type { Evaluation } from '../core/validation/evaluate';
import type { EvaluateRequest, ValidationReport } from '../core/validation/modelValidation';
import { print, printJson, table } from './output';
import { UsageError, wrongArguments } from './usage';

/** Options shared by evaluate, validate and models promote. */
export const EVALUATE_OPTIONS = {
  data: { type: 'string' }, label: { type: 'string' }, group: { type: 'string' }, features: { type: 'string' }, standardise: { type: 'string' },
  task: { type: 'string' }, noise: { type: 'string' }, repeats: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
} as const;

type Values = { [K in keyof typeof EVALUATE_OPTIONS]?: (typeof EVALUATE_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function count(value: string | undefined, name: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} takes a ${integer ? 'whole ' : ''}number ≥ 0, not "${value}".`);
  return n;
}

/** The evaluation request the options describe; undefined without --data. */
export function evaluateRequest(values: Values): EvaluateRequest | undefined {
  if (!values.data) return undefined;
  if (!values.label) throw new UsageError('--data needs --label <column>: the column holding the true class or value.');
  if (values.task && values.task !== 'classification' && values.task !== 'regression') throw new UsageError('--task is classification or regression.');
  return {
    data: values.data, label: values.label, group: values.group, features: values.features?.split(',').map((f) => f.trim()),
    standardiseWith: values.standardise, task: values.task as EvaluateRequest['task'],
    noise: count(values.noise, 'noise', false), repeats: count(values.repeats, 'repeats', true), seed: count(values.seed, 'seed', true),
  };
}

const fmt = (v: number | undefined) => (v === undefined ? '–' : Number.isInteger(v) ? String(v) : v.toPrecision(4));

function printEvaluation(label: string, runId: string, e: Evaluation): void {
  print(`${label} on ${e.rows} rows (${e.task}); evaluation run ${runId}\n\n`);
  print(table(['METRIC', 'VALUE'], Object.entries(e.metrics).map(([k, v]) => [k, fmt(v)])));
  if (e.confusionMatrix) print(`\nConfusion matrix (rows: true class, columns: predicted):\n${e.confusionMatrix.map((r) => `  ${r.join('\t')}`).join('\n')}\n`);
  if (e.slices) {
    const keys = Object.keys(e.slices.groups[0].metrics).slice(0, 4);
    print(`\n${table(['GROUP', 'ROWS', ...keys.map((k) => k.toUpperCase())], e.slices.groups.map((g) => [g.value, String(g.rows), ...keys.map((k) => fmt(g.metrics[k]))]))}`);
  }
  if (e.importance) print(`\nMost important features (permutation):\n${table(['FEATURE', 'IMPORTANCE', 'STD'], e.importance.slice(0, 10).map((f) => [f.feature, fmt(f.importance), fmt(f.std)]))}`);
}

/** `mlops evaluate <model:version | model@alias | file.onnx> --data <holdout> --label <column> […]` */
export async function evaluateCommand(project: Project, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: EVALUATE_OPTIONS, allowPositionals: true });
  if (positionals.length < 1 || positionals.length > 2 || !values.data) {
    throw wrongArguments();
  }
  const { runId, model, evaluation } = await project.validation.evaluate(positionals[0], positionals[1], evaluateRequest(values)!);
  if (values.json) printJson({ runId, model: model.label, evaluation });
  else printEvaluation(model.label, runId, evaluation);
  return 0;
}

export function printGateTable(report: ValidationReport): void {
  print(`Gates of ${report.model} v${report.version} (evaluation run ${report.evaluationRun.slice(0, 8)}${report.champion ? `; champion v${report.champion.version}` : ''}):\n`);
  if (!report.gates.length) {
    print('  No gates in mlops.yaml: nothing to check. Add some, e.g.\n  gates:\n    - accuracy >= 0.9\n    - roc_auc >= champion + 0.01\n');
    return;
  }
  print(table(['', 'GATE', 'VALUE', 'BOUND', 'NOTE'], report.gates.map((g) => [g.passed ? '✓' : '✗', g.gate, fmt(g.value), fmt(g.bound), g.note ?? ''])));
  print(report.passed ? 'All gates pass.\n' : `${report.gates.filter((g) => !g.passed).length} gate(s) failed.\n`);
}

/** Splits `model:3`, `model@champion` or `model 3` into name and version/alias. */
export function versionArgs(positionals: string[]): [string, string] {
  if (positionals.length === 2) return [positionals[0], positionals[1]];
  const m = positionals.length === 1 ? /^([^:@]+)[:@](.+)$/.exec(positionals[0]) : null;
  if (!m) throw wrongArguments();
  return [m[1], m[2]];
}

/** `mlops validate <model:version | model version> [--data … --label …]`: prints each gate ✓/✗, exit 1 on a failure. */
export async function validateCommand(project: Project, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: EVALUATE_OPTIONS, allowPositionals: true });
  const [name, ref] = versionArgs(positionals);
  const report = await project.validation.validate(name, ref, evaluateRequest(values));
  if (values.json) printJson(report);
  else printGateTable(report);
  return report.passed ? 0 : 1;
}
