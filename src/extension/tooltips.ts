// The Markdown hovers of the Runs and Data & Models views, built without `vscode` so unit
// tests check them. Everything from run data goes through markdownText: names, keys, paths
// and users come from whoever logged the run, and must not render as images, links or HTML.
import { formatBytes, formatDuration, formatTime } from '../core/format';
import { markdownCode as code, markdownText as md } from '../core/hostileText';
import type { ModelVersion } from '../core/registry/registry';
import type { RunSummary } from '../core/tracking/store';

/** `objectives`: the run's standing against mlops.yaml's objectives ("✓" or "✗ val_accuracy"). */
export function runTooltip(run: RunSummary, objectives?: string): string {
  return `**${md(run.name)}** — ${md(run.status)}${run.exit_code !== null ? ` (exit code ${run.exit_code})` : ''}\n\n` +
    `Experiment: ${md(run.experiment)}  \nStarted: ${formatTime(run.start_time)}  \nDuration: ${formatDuration(run.start_time, run.end_time)}  \n` +
    `Source: ${md(run.source)}  \nID: ${code(run.id)}` +
    (objectives ? `\n\nObjectives: ${objectives.startsWith('✓') ? '✓ every target met' : md(objectives)}` : '');
}

export function modelVersionTooltip(v: ModelVersion, aliases: string[]): string {
  return `**${md(v.model)} v${v.version}**${aliases.length ? ` — ${aliases.map(md).join(', ')}` : ''}\n\n` +
    `${md(v.format.framework)}/${md(v.format.format)} · ${formatBytes(v.size)} · ${code(v.path)}\n\n` +
    `Registered ${formatTime(v.created)} by ${md(v.user || 'unknown')}${v.run_id ? ` from run ${code(v.run_id.slice(0, 8))}` : ''}\n\n` +
    Object.entries(v.metrics).map(([k, m]) => `- ${md(k)}: ${md(String(m))}`).join('\n');
}
