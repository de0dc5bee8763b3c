import type { Pipeline } from './load';

/** The DAG as text: each stage in order with what it runs after. */
export function dagText(p: Pipeline): string {
  if (!p.order.length) return 'No stages: declare them under "stages:" in mlops.yaml.\n';
  return p.order.map((name) => {
    const ups = p.upstream.get(name) ?? [];
    return `${name}${ups.length ? `  ← ${ups.join(', ')}` : ''}\n`;
  }).join('');
}

/** The DAG as a Mermaid flowchart (GitHub and many Markdown viewers draw it). */
export function mermaid(p: Pipeline): string {
  const id = (name: string) => `s${p.order.indexOf(name)}`; // stage names may hold . and -, which Mermaid ids may not
  const lines = ['flowchart TD'];
  for (const name of p.order) lines.push(`  ${id(name)}["${name}"]`);
  for (const name of p.order) for (const u of p.upstream.get(name) ?? []) lines.push(`  ${id(u)} --> ${id(name)}`);
  return lines.join('\n') + '\n';
}

/** Each stage's column in a left-to-right drawing: one more than its furthest upstream stage. */
export function layers(p: Pick<Pipeline, 'order' | 'upstream'>): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of p.order) out.set(name, Math.max(-1, ...(p.upstream.get(name) ?? []).map((u) => out.get(u) ?? 0)) + 1);
  return out;
}
