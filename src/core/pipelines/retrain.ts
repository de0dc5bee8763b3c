import type { Project } from '../project';
import { type EvaluateRequest, type ValidationReport } from '../validation/modelValidation';
import { LoopRun, readLoops, type LoopOutcome, type LoopStep } from './loopRun';
import { retrainConfigFor } from './retrainConfig';
import { rollOut } from './rollout';
import { trainChallenger } from './retrainTraining';

export interface LoopOptions {
  /** What started it: alert, schedule, manual. */
  trigger: string;
  /** Why, in words (the alert's summary). */
  reason?: string;
  /** With `approval: manual`: shown the gate table; true lets the challenger meet traffic. Without it, the loop stops awaiting approval. */
  approve?: (report: ValidationReport) => Promise<boolean>;
  onStep?: (step: LoopStep) => void;
  onOutput?: (text: string) => void;
  signal?: AbortSignal;
}

export interface LoopResult {
  loop: string;
  deployment: string;
  outcome: LoopOutcome;
  /** Why the champion was kept, or what now serves. */
  reason: string;
  /** The version the loop registered, if it got that far. */
  version?: number;
  gates?: ValidationReport;
  steps: readonly LoopStep[];
}

export class LoopError extends Error {}

/** Stops the loop at a step, recording why; the champion keeps serving. */
class Stop extends Error {
  constructor(readonly outcome: LoopOutcome, message: string) {
    super(message);
  }
}

/**
 * The retraining loop for one deployment (mlops.yaml `retrain:`): snapshot the data → train
 * (a tracked run) → register the new version as `challenger` → evaluate it and the champion
 * and judge the gates → (approval) → shadow or A/B it on real traffic → promote it through
 * the gates and switch the deployment blue/green. Any step that says no keeps the champion,
 * and the loop says why. The whole loop is one tracked run whose steps form its timeline.
 */
export async function runRetrainLoop(project: Project, deploymentName: string, options: LoopOptions): Promise<LoopResult> {
  const deployments = project.deployments;
  const before = deployments.get(deploymentName);
  const config = retrainConfigFor(project.layout.root, before.deployment.target);
  const running = readLoops(project.layout).find((l) => l.deployment === deploymentName && l.state === 'running');
  if (running) throw new LoopError(`A retraining loop for ${deploymentName} is already running (loop run ${running.loop.slice(0, 8)}, started ${new Date(running.started).toISOString()}); wait for it to end.`);
  const loop = new LoopRun(project.tracking, deploymentName, config.model);
  loop.start(options.trigger, options.reason, { train: config.train.kind === 'cmd' ? config.train.cmd : config.train.kind, holdout: config.holdout.data, rollout: config.rollout.mode, approval: config.approval });
  project.audit.append('retrain', [`deployment:${deploymentName}`, loop.id], { trigger: options.trigger, ...(options.reason ? { reason: options.reason } : {}), model: config.model });
  const step = (...args: Parameters<LoopRun['step']>) => {
    const done = loop.step(...args);
    options.onStep?.(done);
  };
  let version: number | undefined;
  let gates: ValidationReport | undefined;
  const finish = (outcome: LoopOutcome, reason: string): LoopResult => {
    loop.end(outcome, reason, version);
    project.audit.append('retrain.end', [`deployment:${deploymentName}`, loop.id, ...(version ? [`model:${config.model}/${version}`] : [])], { outcome, reason });
    return { loop: loop.id, deployment: deploymentName, outcome, reason, ...(version !== undefined ? { version } : {}), ...(gates ? { gates } : {}), steps: loop.timeline };
  };
  const champion = () => project.registry.model(config.model).aliases.champion;
  const oldChampion = (() => {
    try {
      return champion();
    } catch {
      return undefined; // no version of the model yet: the first one has nothing to beat
    }
  })();
  try {
    // 1. The data the new version learns from.
    const snap = config.data.length ? await project.snapshot(config.data, { message: `Data for retraining ${deploymentName}`, reuseUnchanged: true }) : undefined;
    step('snapshot', snap ? 'done' : 'skipped', snap ? `${snap.reused ? 'unchanged since' : 'new'} snapshot ${snap.id.slice(0, 8)} of ${config.data.join(', ')} (${snap.fileCount} files)` : 'no data paths (retrain.data or data: in mlops.yaml)');
    if (options.signal?.aborted) throw new Stop('failed', 'stopped by the user');

    // 2. Training, a tracked run.
    const trained = await trainChallenger(project, config, loop.id, snap ? [{ snapshot: snap.id, paths: snap.paths }] : [], options.onOutput, options.signal);
    for (const run of trained.runs) if (run !== trained.producer) loop.adopt(run);
    step('train', trained.file ? 'done' : trained.unchanged ? 'kept' : 'failed', trained.detail, trained.producer ?? trained.runs[0]);
    if (trained.unchanged) throw new Stop('kept', `the champion stays: ${trained.detail}`);
    if (!trained.file) throw new Stop('failed', `training failed: ${trained.detail}`);

    // 3. The new version, as challenger.
    const v = await project.registerModel(config.model, trained.file, trained.producer, { description: `Retrained by loop ${loop.id.slice(0, 8)} (${options.trigger})` });
    version = v.version;
    project.registry.setAlias(config.model, 'challenger', v.version);
    step('register', 'done', `${config.model} v${v.version} registered as challenger${oldChampion !== undefined ? ` (champion: v${oldChampion})` : ''}`);

    // 4. Evaluation and gates: the challenger and the champion on the same holdout.
    const request: EvaluateRequest = { data: config.holdout.data, label: config.holdout.label, ...(config.holdout.standardiseWith ? { standardiseWith: config.holdout.standardiseWith } : {}) };
    gates = await project.validation.validate(config.model, String(v.version), request);
    for (const run of [gates.evaluationRun, gates.champion?.evaluationRun]) if (run) loop.adopt(run);
    const failed = gates.gates.filter((g) => !g.passed);
    if (!gates.gates.length) {
      step('gates', 'kept', 'mlops.yaml has no gates, so nothing shows the challenger is better');
      throw new Stop('kept', `the champion stays: mlops.yaml has no gates to judge ${config.model} v${v.version} by (add e.g. "accuracy >= champion + 0.01")`);
    }
    const table = gates.gates.map((g) => `${g.passed ? '✓' : '✗'} ${g.gate}${g.value !== undefined ? ` (${fmt(g.value)}${g.bound !== undefined ? ` vs ${fmt(g.bound)}` : ''})` : ''}`).join('; ');
    step('gates', failed.length ? 'kept' : 'done', table, gates.evaluationRun);
    if (failed.length) throw new Stop('kept', `the champion stays: v${v.version} failed ${failed.length} gate(s): ${failed.map((g) => `${g.gate}${g.value !== undefined ? ` (${fmt(g.value)})` : ''}${g.note ? ` — ${g.note}` : ''}`).join('; ')}`);

    // 5. A person's approval, when asked for.
    if (config.approval === 'manual') {
      if (!options.approve) {
        step('approval', 'skipped', 'approval: manual and nobody to ask here');
        throw new Stop('awaiting-approval', `v${v.version} passed its gates and waits for approval (retrain.approval: manual): run "mlops monitor run ${deploymentName} --force --approve" or approve it in the editor (MLOps: Retrain Deployment)`);
      }
      const approved = await options.approve(gates);
      step('approval', approved ? 'done' : 'kept', approved ? 'approved' : 'declined');
      if (!approved) throw new Stop('kept', `the champion stays: v${v.version} passed its gates but was not approved`);
    }

    // 6. Real traffic, beside the champion.
    const live = deployments.get(deploymentName).live;
    if (config.rollout.mode === 'none' || !live) {
      step('rollout', 'skipped', config.rollout.mode === 'none' ? 'retrain.rollout: none' : `${deploymentName} is not running: no traffic to try v${v.version} on`);
    } else {
      const tried = await rollOut(deployments, deploymentName, { model: config.model, version: v.version }, config.rollout, options.signal);
      step('rollout', tried.passed ? 'done' : 'kept', tried.detail);
      if (!tried.passed) throw new Stop('kept', `the champion stays: v${v.version} ${tried.detail}`);
    }

    // 7. Promotion through the gates (judged again on the evaluations just made), then the blue/green switch.
    await project.validation.promote(config.model, String(v.version), 'champion');
    step('promote', 'done', `${config.model}@champion → v${v.version}${oldChampion !== undefined ? ` (was v${oldChampion})` : ''}`);
    const target = deployments.get(deploymentName).deployment.target;
    const follows = target.startsWith(`${config.model}@`) && target.slice(config.model.length + 1) === 'champion';
    try {
      await deployments.switch(deploymentName, follows ? target : `${config.model}:${v.version}`, `retraining loop ${loop.id.slice(0, 8)}`);
    } catch (err) {
      // The deployment still serves the old champion: the alias goes back to it.
      if (oldChampion !== undefined) project.registry.setAlias(config.model, 'champion', oldChampion);
      step('switch', 'failed', (err as Error).message);
      throw new Stop('failed', `the switch failed and ${deploymentName} keeps serving ${before.deployment.target}: ${(err as Error).message}`);
    }
    step('switch', 'done', `${deploymentName} switched blue/green to v${v.version}`);
    return finish('promoted', `${config.model} v${v.version} serves ${deploymentName} now: ${table}`);
  } catch (err) {
    // Anything else (a holdout that cannot be read, a model that cannot load) ends the loop as failed, the champion serving.
    return err instanceof Stop ? finish(err.outcome, err.message) : finish('failed', (err as Error).message);
  }
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
