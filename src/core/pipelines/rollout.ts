import type { Deployments } from '../serving/deployments';
import type { RolloutConfig } from './retrainConfig';

/** What the challenger did with the traffic it met. */
export interface RolloutResult {
  answered: number;
  failed: number;
  /** Whether it answered enough requests, few enough of them failing. */
  passed: boolean;
  detail: string;
}

const POLL_MS = 250;
const REQUESTS = /^mlops_serving_requests_total\{([^}]*)\}\s+(\S+)$/gm;

/** Requests a version answered as `variant`, by outcome, from a deployment's Prometheus `/metrics` text. */
export function answeredBy(metricsText: string, version: string, variant: string): { success: number; failed: number } {
  const out = { success: 0, failed: 0 };
  for (const m of metricsText.matchAll(REQUESTS)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.version !== version || labels.variant !== variant) continue;
    if (labels.outcome === 'success') out.success += Number(m[2]);
    else if (labels.outcome === 'server_error') out.failed += Number(m[2]);
  }
  return out;
}

/**
 * Puts the challenger beside the champion on a running deployment (a shadow, or an A/B arm
 * with a share of the traffic) until it has answered `requests` requests or the timeout
 * passes, then takes it off again. Counted from the server's own request counter, so it
 * measures real traffic, whoever sends it.
 */
export async function rollOut(deployments: Deployments, name: string, challenger: { model: string; version: number }, config: RolloutConfig, signal?: AbortSignal): Promise<RolloutResult> {
  const target = `${challenger.model}:${challenger.version}`;
  const variant = config.mode === 'shadow' ? 'shadow' : 'b';
  const { status } = deployments.get(name);
  const read = async () => {
    const res = await fetch(`${status!.url}/metrics`);
    return answeredBy(await res.text(), String(challenger.version), variant);
  };
  const before = await read();
  if (config.mode === 'shadow') await deployments.shadow(name, target);
  else await deployments.split(name, { target, weight: config.weight });
  const deadline = Date.now() + config.timeoutMs;
  let now = before;
  try {
    while (now.success + now.failed - before.success - before.failed < config.requests && Date.now() < deadline && !signal?.aborted) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      now = await read();
    }
  } finally {
    if (config.mode === 'shadow') await deployments.shadow(name, null);
    else await deployments.split(name, null);
  }
  const answered = now.success - before.success, failed = now.failed - before.failed;
  const total = answered + failed;
  const how = config.mode === 'shadow' ? 'as a shadow' : `in an A/B split (${Math.round(config.weight * 100)}% of traffic)`;
  if (total < config.requests) {
    return { answered, failed, passed: false, detail: `met only ${total} of ${config.requests} requests ${how} within ${Math.round(config.timeoutMs / 1000)} s${signal?.aborted ? ' (stopped)' : ''}` };
  }
  const rate = failed / total;
  if (rate > config.maxErrorRate) return { answered, failed, passed: false, detail: `${failed} of ${total} requests failed ${how} (${(rate * 100).toFixed(1)}%, limit ${(config.maxErrorRate * 100).toFixed(1)}%)` };
  return { answered, failed, passed: true, detail: `answered ${answered} requests ${how}, ${failed} failed` };
}
