import { checkDeployment, latestVerdict, type MonitoringVerdict } from '../monitoring';
import type { Project } from '../project';
import { deploymentState, servedModel } from '../serving/deployments';
import { readLoops, type LoopSummary } from './loopRun';
import { runRetrainLoop, type LoopOptions, type LoopResult } from './retrain';
import { readRetrainConfigs } from './retrainConfig';

/** What one deployment's check (and loop, when one ran) came to. */
export interface MonitorOutcome {
  deployment: string;
  verdict?: MonitoringVerdict;
  /** Why the check could not be made (no prediction log yet, no reference). */
  checkError?: string;
  loop?: LoopResult;
  /** Why no loop ran although one was due (the deployment serves another model). */
  skipped?: string;
}

export type MonitorOptions = Omit<LoopOptions, 'trigger' | 'reason'> & {
  /** Deployments to check; default every one that should be running. */
  names?: string[];
  /** Run the loop even without an alert. */
  force?: boolean;
};

/**
 * `mlops monitor run`: checks each deployment (drift and serving objectives) and runs the
 * retraining loop where an alert fires (or on every one with `force`). Loops run one after
 * another, so two never retrain the same model at once.
 */
export async function monitorDeployments(project: Project, options: MonitorOptions = {}): Promise<MonitorOutcome[]> {
  const root = project.layout.root;
  const all = project.deployments.list();
  const names = options.names?.length ? options.names : all.filter((v) => v.deployment.state === 'running').map((v) => v.deployment.spec.name);
  const out: MonitorOutcome[] = [];
  for (const name of names) {
    const view = project.deployments.get(name);
    const outcome: MonitorOutcome = { deployment: name };
    out.push(outcome);
    try {
      outcome.verdict = (await checkDeployment(root, name, { snapshots: project.snapshots, audit: project.audit })).verdict;
    } catch (err) {
      outcome.checkError = (err as Error).message;
    }
    if (!options.force && !outcome.verdict?.alert) continue;
    const covered = readRetrainConfigs(root).map((c) => c.model);
    if (!covered.includes(servedModel(view.deployment.target) ?? '')) {
      outcome.skipped = `${name} serves ${view.deployment.target}; retrain: in mlops.yaml covers ${covered.join(', ')}`;
      continue;
    }
    const reason = outcome.verdict?.alert ? outcome.verdict.reasons.join('; ') : 'forced (--force)';
    outcome.loop = await runRetrainLoop(project, name, { ...options, trigger: outcome.verdict?.alert ? 'alert' : 'manual', reason });
  }
  return out;
}

/** One deployment as `mlops monitor status` shows it: its state, latest verdict and latest loop. */
export interface MonitorStatus {
  deployment: string;
  state: string;
  serving: string;
  verdict?: MonitoringVerdict;
  loop?: LoopSummary;
}

export function monitorStatus(project: Project): MonitorStatus[] {
  const loops = readLoops(project.layout);
  return project.deployments.list().map((v) => {
    const name = v.deployment.spec.name;
    const verdict = latestVerdict(project.layout.root, name);
    const loop = loops.filter((l) => l.deployment === name).at(-1);
    return { deployment: name, state: deploymentState(v), serving: v.deployment.target, ...(verdict ? { verdict } : {}), ...(loop ? { loop } : {}) };
  });
}
