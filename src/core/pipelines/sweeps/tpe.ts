// Bayesian search with the Tree-structured Parzen Estimator (Bergstra et al.
// 2011, as hyperopt does it): split finished trials into the best quarter and
// the rest, model each hyperparameter's density in both groups, and pick, among
// candidates drawn from the good density, the one where good/bad is highest.

import { normalTwoSided } from '../../validation/special';
import { fromUnit, sampleRandom, toUnit, type Dimension, type Params } from './space';

/** A finished trial: its params and its loss (lower is better; a maximised objective is negated). */
export interface Observation { params: Params; loss: number }

export interface TpeOptions {
  /** Random trials before the model is used (default: 5, at most a quarter of a small budget's worth of trials seen). */
  startup?: number;
  /** Candidates drawn from the good density per suggestion (hyperopt's default, 24). */
  candidates?: number;
  /** Share of trials counted as good (hyperopt's default, 0.25). */
  gamma?: number;
}

export function suggestTpe(space: Dimension[], observations: Observation[], random: () => number, options: TpeOptions = {}): Params {
  const finite = observations.filter((o) => Number.isFinite(o.loss));
  if (finite.length < (options.startup ?? 5)) return sampleRandom(space, random);
  const sorted = [...finite].sort((a, b) => a.loss - b.loss);
  const nGood = Math.max(1, Math.ceil((options.gamma ?? 0.25) * sorted.length));
  const good = sorted.slice(0, nGood), bad = sorted.slice(nGood);
  const models = space.map((d) => ({ d, good: densityOf(d, good.map((o) => o.params[d.name])), bad: densityOf(d, bad.map((o) => o.params[d.name])) }));
  let best: Params | undefined, bestScore = -Infinity;
  for (let c = 0; c < (options.candidates ?? 24); c++) {
    const params: Params = {};
    let score = 0;
    for (const m of models) {
      const u = m.good.sample(random);
      const value = fromUnit(m.d, u);
      params[m.d.name] = value;
      const at = m.d.kind === 'choice' ? u : toUnit(m.d, value);
      score += Math.log(m.good.density(at)) - Math.log(m.bad.density(at));
    }
    if (score > bestScore) [best, bestScore] = [params, score];
  }
  return best!;
}

interface Density {
  sample(random: () => number): number;
  density(u: number): number;
}

function densityOf(d: Dimension, values: (string | number | boolean | undefined)[]): Density {
  const known = values.filter((v): v is string | number | boolean => v !== undefined);
  if (d.kind === 'choice') return categorical(d.values.length, known.map((v) => d.values.indexOf(v)).filter((i) => i >= 0));
  return parzen(known.map((v) => toUnit(d, v)).filter((u) => Number.isFinite(u)));
}

/** Counts plus one per choice (a uniform prior), over positions scaled into [0, 1]. */
function categorical(k: number, indices: number[]): Density {
  const weights = Array.from({ length: k }, () => 1);
  for (const i of indices) weights[i]++;
  const total = weights.reduce((a, b) => a + b, 0);
  const p = weights.map((w) => w / total);
  const indexAt = (u: number) => Math.min(k - 1, Math.floor(u * k + 1e-9));
  return {
    sample(random) {
      let r = random();
      for (let i = 0; i < k; i++) {
        if ((r -= p[i]) < 0) return (i + 0.5) / k;
      }
      return (k - 0.5) / k;
    },
    density: (u) => p[indexAt(u)],
  };
}

const Phi = (z: number) => (z >= 0 ? 1 - normalTwoSided(z) / 2 : normalTwoSided(z) / 2);

/**
 * A mixture of normals truncated to [0, 1]: one per observation, its width the larger gap
 * to its neighbours (hyperopt's adaptive Parzen estimator), plus a wide prior at the centre.
 */
function parzen(points: number[]): Density {
  const mus = [...points].sort((a, b) => a - b);
  const minSigma = 1 / Math.min(100, mus.length + 1);
  const comps = mus.map((mu, i) => {
    const left = i > 0 ? mu - mus[i - 1] : mu;
    const right = i < mus.length - 1 ? mus[i + 1] - mu : 1 - mu;
    return { mu, sigma: Math.min(1, Math.max(minSigma, left, right)) };
  });
  comps.push({ mu: 0.5, sigma: 1 });
  const mass = comps.map((c) => Phi((1 - c.mu) / c.sigma) - Phi((0 - c.mu) / c.sigma));
  return {
    sample(random) {
      const c = comps[Math.floor(random() * comps.length)];
      for (let tries = 0; tries < 100; tries++) {
        const g = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        const u = c.mu + c.sigma * g;
        if (u >= 0 && u < 1) return u;
      }
      return Math.min(Math.max(c.mu, 0), 1 - 1e-12);
    },
    density(u) {
      let sum = 0;
      comps.forEach((c, i) => {
        const z = (u - c.mu) / c.sigma;
        sum += Math.exp(-0.5 * z * z) / (c.sigma * Math.sqrt(2 * Math.PI) * mass[i]);
      });
      return sum / comps.length;
    },
  };
}
