import type { Evaluation } from './evaluate';

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** The model card's "Evaluation" section: the newest evaluation run's metrics, slices, robustness and importance. */
export function evaluationCardSection(runId: string, e: Evaluation, cell: (text: string) => string): string[] {
  const lines = ['## Evaluation', '', `Run \`${runId}\` on ${e.rows} holdout rows (${e.task}, ${e.features.length} features).`, ''];
  lines.push('| metric | value |', '| --- | --- |', ...Object.entries(e.metrics).map(([k, v]) => `| ${cell(k)} | ${fmt(v)} |`), '');
  if (e.confusionMatrix) {
    const k = e.confusionMatrix.length;
    lines.push(`| true \\ predicted | ${Array.from({ length: k }, (_, i) => i).join(' | ')} |`, `| --- |${' --- |'.repeat(k)}`);
    e.confusionMatrix.forEach((row, i) => lines.push(`| ${i} | ${row.join(' | ')} |`));
    lines.push('');
  }
  if (e.slices) {
    const keys = Object.keys(e.slices.groups[0]?.metrics ?? {}).slice(0, 5);
    lines.push('Per slice:', '', `| group | rows | ${keys.map(cell).join(' | ')} |`, `| --- | --- |${' --- |'.repeat(keys.length)}`);
    for (const g of e.slices.groups) lines.push(`| ${cell(g.value)} | ${g.rows} | ${keys.map((k) => fmt(g.metrics[k])).join(' | ')} |`);
    lines.push('');
    if (e.slices.demographicParityDifference !== undefined) {
      lines.push(`Demographic parity difference ${fmt(e.slices.demographicParityDifference)}, equalised odds difference ${fmt(e.slices.equalizedOddsDifference)}.`, '');
    }
  }
  if (e.robustness) lines.push(`Robustness: with Gaussian noise of ${e.robustness.noise} standard deviations (seed ${e.robustness.seed}), ${e.robustness.metric} goes from ${fmt(e.robustness.clean)} to ${fmt(e.robustness.noisy)}.`, '');
  if (e.importance?.length) {
    lines.push('Permutation feature importance (drop of the key metric, top 10):', '', '| feature | importance | std |', '| --- | --- | --- |');
    for (const f of e.importance.slice(0, 10)) lines.push(`| ${cell(f.feature)} | ${fmt(f.importance)} | ${fmt(f.std)} |`);
    lines.push('');
  }
  return lines;
}
