import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PipelineProblem, Stage } from './stages';

/** `a` is `b`, or lies inside folder `b`, or `b` inside `a` ('/'-separated workspace paths). */
export function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + '/') || b.startsWith(a + '/');
}

/** For each stage, the stages whose outs it depends on (outs → deps). */
export function upstreamOf(stages: Stage[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of stages) {
    const ups = stages.filter((o) => o.name !== s.name && o.outs.some((p) => s.deps.some((d) => overlaps(d, p)))).map((o) => o.name);
    out.set(s.name, ups);
  }
  return out;
}

/**
 * The stages in dependency order (declaration order among independent ones), and the
 * problems that stop a pipeline: a cycle (naming its stages), an out claimed by two
 * stages (naming both), and — when `root` is given — a dep that no stage produces and
 * that does not exist (naming the stage and the dep's line).
 */
export function buildDag(stages: Stage[], root?: string): { order: string[]; problems: PipelineProblem[] } {
  const problems: PipelineProblem[] = [];
  const byName = new Map(stages.map((s) => [s.name, s]));

  // An out claimed by two stages (the same path, or one inside the other).
  for (let i = 0; i < stages.length; i++) {
    for (let j = i + 1; j < stages.length; j++) {
      const [a, b] = [stages[i], stages[j]];
      for (const [k, p] of b.outs.entries()) {
        const q = a.outs.find((o) => overlaps(o, p));
        if (q === undefined) continue;
        const same = q === p ? `"${p}"` : `"${q}" and "${p}" (one inside the other)`;
        problems.push({
          message: `Stages "${a.name}" (line ${a.line}) and "${b.name}" (line ${b.line}) both claim the out ${same}; an out has one stage that makes it. Remove it from one of them.`,
          line: b.lines.outs[k] ?? b.line,
          stage: b.name,
        });
      }
    }
  }

  // A dep nothing makes and nothing holds.
  if (root !== undefined) {
    for (const s of stages) {
      for (const [k, d] of s.deps.entries()) {
        if (stages.some((o) => o.outs.some((p) => overlaps(d, p)))) continue;
        if (fs.existsSync(path.join(root, ...d.split('/')))) continue;
        problems.push({
          message: `Stage "${s.name}" depends on "${d}", which does not exist and which no stage makes. Create it, fix the path, or add it to the outs of the stage that makes it.`,
          line: s.lines.deps[k] ?? s.line,
          stage: s.name,
        });
      }
    }
  }

  // A stage that depends on its own out.
  for (const s of stages) {
    const own = s.outs.find((p) => s.deps.some((d) => overlaps(d, p)));
    if (own !== undefined) {
      problems.push({ message: `Stage "${s.name}" depends on its own out "${own}" (a cycle: ${s.name} → ${s.name}). Remove it from its deps or its outs.`, line: s.line, stage: s.name });
    }
  }

  // Kahn's algorithm, taking ready stages in declaration order.
  const ups = upstreamOf(stages);
  const pending = new Map(stages.map((s) => [s.name, new Set(ups.get(s.name))]));
  const order: string[] = [];
  for (;;) {
    const ready = stages.find((s) => pending.get(s.name)?.size === 0);
    if (!ready) break;
    order.push(ready.name);
    pending.delete(ready.name);
    for (const set of pending.values()) set.delete(ready.name);
  }
  if (pending.size) {
    const found = findCycle([...pending.keys()], (n) => [...(pending.get(n) ?? [])].filter((u) => pending.has(u)));
    // Start at the stage declared first, so the message reads in file order.
    const at = found.indexOf(stages.find((s) => found.includes(s.name))!.name);
    const cycle = [...found.slice(at), ...found.slice(0, at)];
    const first = byName.get(cycle[0])!;
    problems.push({
      message: `Stages ${cycle.map((n) => `"${n}" (line ${byName.get(n)!.line})`).join(', ')} form a cycle: ${[...cycle, cycle[0]].join(' → ')} (each makes a dep of the next). Break it by removing one of those deps.`,
      line: first.line,
      stage: first.name,
    });
  }
  return { order, problems };
}

/** One cycle among `nodes` following `next` (every node there lies on or leads to a cycle). */
function findCycle(nodes: string[], next: (n: string) => string[]): string[] {
  const seen: string[] = [];
  let n = nodes[0];
  while (!seen.includes(n)) {
    seen.push(n);
    n = next(n)[0];
  }
  // Walked upstream: reverse so each stage is followed by the one that depends on it.
  return seen.slice(seen.indexOf(n)).reverse();
}
