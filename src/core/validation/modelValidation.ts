import * as path from 'node:path';
import type { AuditLog } from '../governance/audit';
import type { ModelRegistry } from '../registry/registry';
import type { SnapshotStore } from '../snapshots';
import type { Tracking } from '../tracking/tracking';
import { readObjectives } from '../workspace/objectives';
import { evaluateModel, type Evaluation, type EvaluationOptions } from './evaluate';
import { loadEvaluationData, readStandardisation, type DataColumns } from './evaluationData';
import { latestEvaluation, loadModel, recordEvaluation, resolveModel, type ModelRef } from './evaluationRun';
import { judgeGates, readGates, type GateResult } from './gates';
import { openTable } from './table';

/** How to evaluate: the holdout, its columns, the model's input standardisation and the checks' settings. */
export interface EvaluateRequest extends DataColumns, EvaluationOptions {
  /** Holdout: a .csv/.jsonl file, folder or snapshot. */
  data: string;
  /** Two-row CSV of the training means and standard deviations the model expects its input standardised with. */
  standardiseWith?: string;
}

export interface ValidationReport {
  model: string;
  version: number;
  /** The evaluation run the gates were judged on. */
  evaluationRun: string;
  champion?: { version: number; evaluationRun?: string };
  gates: GateResult[];
  passed: boolean;
}

export class GateError extends Error {
  constructor(message: string, readonly report: ValidationReport) {
    super(message);
  }
}

/** Evaluation, gates and gated promotion of model versions: every result a tracked run, every alias move audited. */
export class ModelValidation {
  constructor(
    private readonly tracking: Tracking,
    private readonly snapshots: SnapshotStore,
    private readonly registry: ModelRegistry,
    private readonly audit: AuditLog,
  ) {}

  private get root(): string {
    return this.tracking.layout.root;
  }

  /** Evaluates a model version (`name:3`, `name@alias`, or name + ref) or an .onnx file on a holdout and records the run. */
  async evaluate(spec: string, ref: string | undefined, request: EvaluateRequest): Promise<{ runId: string; model: ModelRef; evaluation: Evaluation }> {
    const model = resolveModel(this.registry, this.root, spec, ref);
    const data = await loadEvaluationData(await openTable(request.data, this.root, this.snapshots), request);
    const standardise = request.standardiseWith ? readStandardisation(path.resolve(this.root, request.standardiseWith), data.features.length) : undefined;
    const onnx = await loadModel(this.snapshots, model);
    let evaluation: Evaluation;
    try {
      evaluation = await evaluateModel(onnx, data, { ...request, standardise });
    } finally {
      await onnx.release();
    }
    const params: Record<string, string> = { data: request.data, label: request.label, noise: String(request.noise ?? 0.1), repeats: String(request.repeats ?? 3), seed: String(request.seed ?? 0) };
    if (request.group) params.group = request.group;
    if (request.standardiseWith) params.standardise_with = request.standardiseWith;
    if (model.version) params.model_version = String(model.version.version);
    const runId = await recordEvaluation(this.tracking, model, evaluation, params);
    if (model.version) this.audit.append('evaluate', [`model:${model.version.model}/${model.version.version}`, runId], { data: request.data, rows: evaluation.rows });
    return { runId, model, evaluation };
  }

  /**
   * Judges mlops.yaml's gates on a version. With a request, the version (and the champion,
   * for champion gates) is evaluated on that data first; otherwise their latest evaluations count.
   */
  async validate(name: string, ref: string, request?: EvaluateRequest): Promise<ValidationReport> {
    const objectives = readObjectives(this.root);
    const gates = readGates(this.root, objectives);
    const version = this.registry.version(name, ref);
    const championVersion = this.registry.model(name).aliases.champion;
    const needsChampion = gates.some((g) => g.against.kind === 'champion') && championVersion !== undefined && championVersion !== version.version;
    const measured = async (v: number) => {
      if (request) {
        const { runId, evaluation } = await this.evaluate(name, String(v), request);
        return { runId, evaluation };
      }
      return latestEvaluation(this.tracking, name, v);
    };
    const mine = await measured(version.version);
    if (!mine) throw new Error(`${name} v${version.version} has no evaluation yet: run mlops evaluate ${name}:${version.version} --data <holdout.csv> --label <column>, or give --data here.`);
    const theirs = needsChampion ? await measured(championVersion) : undefined;
    const metricsOf = (v: number, e?: Evaluation) => ({ ...numeric(this.registry.version(name, v).metrics), ...(e?.metrics ?? {}) });
    const champion = needsChampion ? { version: championVersion, metrics: metricsOf(championVersion, theirs?.evaluation) } : undefined;
    const results = judgeGates(gates, metricsOf(version.version, mine.evaluation), champion, objectives);
    return {
      model: name, version: version.version, evaluationRun: mine.runId,
      ...(needsChampion ? { champion: { version: championVersion, ...(theirs ? { evaluationRun: theirs.runId } : {}) } } : {}),
      gates: results, passed: results.every((r) => r.passed),
    };
  }

  /** Moves an alias (champion) to a version only when its gates pass; `force` with a reason overrides, audited. */
  async promote(name: string, ref: string, alias: string, options: { force?: boolean; reason?: string; request?: EvaluateRequest } = {}): Promise<{ report: ValidationReport; forced: boolean }> {
    if (options.force && !options.reason?.trim()) throw new Error('Forcing a promotion past failed gates needs a reason (--reason "…"): it goes into the audit trail.');
    const report = await this.validate(name, ref, options.request);
    const failed = report.gates.filter((g) => !g.passed).map((g) => g.gate);
    if (failed.length && !options.force) {
      throw new GateError(`${name} v${report.version} failed ${failed.length} gate(s): ${failed.join('; ')}. "${alias}" was not moved. Fix the model, or override with --force --reason "…" (audited).`, report);
    }
    const from = this.registry.model(name).aliases[alias] ?? null;
    this.registry.setAlias(name, alias, report.version);
    this.audit.append('promote', [`model:${name}/${report.version}`, report.evaluationRun], {
      alias, from, gates: report.gates.map((g) => ({ gate: g.gate, value: g.value ?? null, passed: g.passed })),
      ...(failed.length ? { forced: true, reason: options.reason!.trim(), failed } : {}),
    });
    return { report, forced: failed.length > 0 };
  }
}

/** Registered metrics (NaN/±Infinity stored as strings) as numbers. */
function numeric(metrics: Record<string, number | string>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number(v)]));
}
