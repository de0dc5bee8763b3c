import type { AuditLog } from '../governance/audit';
import { redactUrl } from '../snapshots/remote';
import type { MonitoringVerdict } from './verdict';

/** The audit action of a raised alert. */
export const ALERT_ACTION = 'monitor.alert';

/** What telling people about an alert did. */
export interface AlertDelivery {
  /** The audit entry's number. */
  audit: number;
  /** The webhook's answer, or why it could not be reached. */
  webhook?: { url: string; status?: number; error?: string };
}

/** The JSON POSTed to a webhook: what went wrong, where, and the figures behind it. */
export interface AlertPayload {
  kind: 'mlops.monitoring.alert';
  deployment: string;
  target: string;
  time: string;
  reasons: string[];
  drift: MonitoringVerdict['drift'];
  /** The drifted columns, most severe first. */
  drifted: { column: string; test: string; statistic: number | 'Infinity'; threshold: number }[];
  serving: { p99Ms?: number; errorRate?: number };
}

const WEBHOOK_TIMEOUT_MS = 10_000;

export function alertPayload(v: MonitoringVerdict): AlertPayload {
  return {
    kind: 'mlops.monitoring.alert', deployment: v.deployment, target: v.target, time: new Date(v.time).toISOString(), reasons: v.reasons, drift: v.drift,
    drifted: v.columns.filter((c) => c.drift).sort((a, b) => b.severity - a.severity).map(({ column, test, statistic, threshold }) => ({ column, test, statistic, threshold })),
    serving: { ...(v.serving.p99Ms ? { p99Ms: v.serving.p99Ms.value } : {}), ...(v.serving.errorRate ? { errorRate: v.serving.errorRate.value } : {}) },
  };
}

/** POSTs the alert as JSON; never throws: an unreachable hook is reported, the check stands. */
export async function postWebhook(url: string, payload: AlertPayload): Promise<NonNullable<AlertDelivery['webhook']>> {
  const shown = redactUrl(url);
  try {
    const res = await fetch(url, {
      method: 'POST', body: JSON.stringify(payload), headers: { 'Content-Type': 'application/json', 'User-Agent': 'mlops-workbench' }, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? { url: shown, status: res.status } : { url: shown, status: res.status, error: `the webhook answered ${res.status} ${res.statusText}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { url: shown, error: `could not reach the webhook: ${cause?.code ?? cause?.message ?? (err as Error).message}` };
  }
}

/**
 * An alert a check raised: an audit entry (the trail says when monitoring found what), then
 * the optional webhook. The editor's notification and badge read the verdict itself.
 */
export async function raiseAlert(verdict: MonitoringVerdict, options: { audit: AuditLog; webhook?: string }): Promise<AlertDelivery> {
  const entry = options.audit.append(ALERT_ACTION, [`deployment:${verdict.deployment}`], {
    target: verdict.target, reasons: verdict.reasons, driftShare: verdict.drift.share, reference: verdict.reference.source,
  });
  if (!options.webhook) return { audit: entry.seq };
  return { audit: entry.seq, webhook: await postWebhook(options.webhook, alertPayload(verdict)) };
}
