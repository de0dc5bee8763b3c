import { latestVerdict } from '../../core/monitoring/monitor';

/** The Deployments view's badge of a deployment: its latest drift verdict, short. */
export interface DriftBadge {
  text: string;
  tooltip: string;
  alert: boolean;
}

export function driftBadge(root: string, deployment: string): DriftBadge | undefined {
  const v = latestVerdict(root, deployment);
  if (!v) return undefined;
  const when = new Date(v.time).toLocaleString();
  const figures = `${v.drift.drifted} of ${v.drift.features} features drifted`;
  if (!v.alert) return { text: '✓ no drift', tooltip: `Last check ${when}: ${figures}; no alert.`, alert: false };
  const kinds = [...new Set(v.reasons.map((r) => r.split(':')[0].replace(/ [\d.]+.*$/, '')))];
  return { text: `⚠ ${kinds.join(', ')}`, tooltip: `Last check ${when}: ${v.reasons.join('\n')}`, alert: true };
}
