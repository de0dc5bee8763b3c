// What the variant comparison panel shows of a deployment, gathered on the extension side:
// traffic since its server started (its /metrics) and the comparison of its prediction log.
// No vscode here, so unit tests build it against a real deployment.

import { servingText, type Deployments } from '../../core/serving/deployments';
import { liveStats, scrapeMetrics } from '../../core/serving/liveStats';
import { compareVariants } from '../../core/serving/variantComparison';
import type { VariantsData } from '../../protocol/variants';

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** The deployment's variants now, as the panel shows them. */
export async function variantsData(deployments: Deployments, name: string, output?: string): Promise<VariantsData> {
  const { deployment: d, status, live } = deployments.get(name);
  const serving = `${servingText(d)}${d.shadow ? `, shadow ${d.shadow}` : ''}`;
  let traffic: VariantsData['traffic'] = null;
  let trafficNote: string | null = live ? null : `${name} is not running: traffic figures come from its server's /metrics.`;
  if (live && status?.url) {
    try {
      // Against an empty scrape: everything since the server started.
      const stats = liveStats({ time: 0, series: {} }, await scrapeMetrics(status.url));
      traffic = stats.variants.map((v) => ({ variant: v.variant, model: v.model, version: v.version, requests: v.requests, errorRate: orNull(v.errorRate), p50Ms: orNull(v.p50Ms), p99Ms: orNull(v.p99Ms) }));
    } catch (err) {
      trafficNote = (err as Error).message;
    }
  }
  let comparison: VariantsData['comparison'] = null;
  let comparisonNote: string | null = null;
  let outputs: string[] = [];
  try {
    const c = compareVariants(deployments.dir(name), name, output ? { output } : {});
    outputs = c.outputs;
    comparison = {
      output: c.output, score: orNull(c.score), classes: c.classes, bins: c.bins,
      variants: c.variants.map((v) => ({ ...v, p50Ms: orNull(v.p50Ms), p99Ms: orNull(v.p99Ms) })),
      agreement: c.agreement ? { ...c.agreement, meanAbsDifference: orNull(c.agreement.meanAbsDifference) } : null,
      distance: orNull(c.distance), records: c.records, from: orNull(c.from), to: orNull(c.to), skippedLines: c.skippedLines,
    };
    if (!d.split && !d.shadow && c.variants.length < 2) comparisonNote = `${name} serves one version: split its traffic (mlops deployments split) or add a shadow (mlops deployments shadow) to compare two.`;
  } catch (err) {
    comparisonNote = (err as Error).message;
  }
  return { deployment: name, serving, running: live, traffic, trafficNote, comparison, comparisonNote, outputs, time: Date.now() };
}
