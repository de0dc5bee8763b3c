// Stopping weak trials early, on the objective they log while they train:
// - median: Google Vizier's median stopping rule — after `min_steps`, a trial whose best
//   value so far is worse than the median of the other trials' running averages up to
//   the same step is stopped;
// - asha: asynchronous successive halving (as Ray Tune's ASHA scheduler does it) — at
//   rungs of min_steps·etaᵏ steps, a trial outside the best 1/eta of the trials that
//   reached that rung is stopped; each rung is judged once, when the trial reaches it.

/** One point of a trial's objective, as a loss (lower is better). */
export interface Progress { step: number; loss: number }

export type EarlyStoppingRule =
  | { rule: 'median'; minSteps: number; minTrials: number }
  | { rule: 'asha'; minSteps: number; eta: number };

export class EarlyStopper {
  /** ASHA: per rung, the value each trial had when it reached it. */
  private readonly rungs = new Map<number, Map<string, number>>();
  /** ASHA: per rung, the trials already judged there (each once). */
  private readonly judged = new Map<number, Set<string>>();

  constructor(readonly rule: EarlyStoppingRule) {}

  /**
   * Whether the running trial `id` should stop now, and why; `curves` holds every
   * trial's progress so far (running and ended), steps ascending.
   */
  judge(id: string, curves: Map<string, Progress[]>): string | undefined {
    const mine = curves.get(id) ?? [];
    if (!mine.length) return undefined;
    const step = mine[mine.length - 1].step;
    if (step < this.rule.minSteps) return undefined;
    return this.rule.rule === 'median' ? this.median(id, mine, step, curves, this.rule.minTrials) : this.asha(id, mine, step, curves, this.rule.eta);
  }

  private median(id: string, mine: Progress[], step: number, curves: Map<string, Progress[]>, minTrials: number): string | undefined {
    const averages: number[] = [];
    for (const [other, points] of curves) {
      if (other === id || !points.length || points[points.length - 1].step < step) continue;
      const upTo = points.filter((p) => p.step <= step);
      averages.push(upTo.reduce((sum, p) => sum + p.loss, 0) / upTo.length);
    }
    if (averages.length < minTrials) return undefined;
    const median = medianOf(averages);
    const best = Math.min(...mine.map((p) => p.loss));
    return best > median ? `median stopping rule at step ${step}: best so far is worse than the median of ${averages.length} other trials' running averages` : undefined;
  }

  private asha(id: string, mine: Progress[], step: number, curves: Map<string, Progress[]>, eta: number): string | undefined {
    // Rungs this trial has reached; judge each once, the highest new one decides.
    for (let rung = this.rule.minSteps; rung <= step; rung *= eta) {
      let recorded = this.rungs.get(rung), judged = this.judged.get(rung);
      if (!recorded) this.rungs.set(rung, (recorded = new Map()));
      if (!judged) this.judged.set(rung, (judged = new Set()));
      if (judged.has(id)) continue;
      judged.add(id);
      for (const [other, points] of curves) {
        if (!recorded.has(other) && other !== id && points.length && points[points.length - 1].step >= rung) recorded.set(other, bestUpTo(points, rung));
      }
      const value = bestUpTo(mine, rung);
      recorded.set(id, value);
      const values = [...recorded.values()].sort((a, b) => a - b);
      const keep = Math.max(1, Math.floor(values.length / eta));
      if (values.length >= eta && value > values[keep - 1]) {
        return `ASHA at rung ${rung} steps: not in the best ${keep} of ${values.length} trials that reached it`;
      }
    }
    return undefined;
  }
}

function bestUpTo(points: Progress[], step: number): number {
  let best = Infinity;
  for (const p of points) if (p.step <= step && p.loss < best) best = p.loss;
  return best;
}

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
