/**
 * Special functions behind the p-values of the data checks and drift tests:
 * log-gamma and the regularised incomplete gamma (chi-square and normal tails).
 * The KS p-value's Kolmogorov distribution is in kolmogorov.ts.
 */

const LANCZOS = [
  57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199, 0.339946499848118887e-4,
  0.465236289270485756e-4, -0.983744753048795646e-4, 0.158088703224912494e-3, -0.210264441724104883e-3,
  0.217439618115212643e-3, -0.164318106536763890e-3, 0.844182239838527433e-4, -0.261908384015814087e-4, 0.368991826595316234e-5,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 671/128, Numerical Recipes 3rd ed.). */
export function logGamma(x: number): number {
  let y = x;
  const t = x + 5.2421875;
  const tmp = (x + 0.5) * Math.log(t) - t;
  let ser = 0.999999999999997092;
  for (const c of LANCZOS) ser += c / ++y;
  return tmp + Math.log((2.5066282746310005 * ser) / x);
}

const EPS = 1e-16;

/** Upper regularised incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    // Series for P, then Q = 1 − P.
    let ap = a, sum = 1 / a, del = sum;
    for (let n = 0; n < 10_000; n++) {
      del *= x / ++ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * EPS) break;
    }
    return 1 - sum * front;
  }
  // Continued fraction (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return front * h;
}

/** P(χ²_df ≥ x). */
export function chiSquareSf(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

/** P(|Z| ≥ |z|) for a standard normal Z. */
export function normalTwoSided(z: number): number {
  // 2·(1 − Φ(|z|)) = erfc(|z|/√2) = Q(1/2, z²/2)
  return gammaQ(0.5, (z * z) / 2);
}
