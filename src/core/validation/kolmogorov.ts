/**
 * The finite-n two-sided Kolmogorov distribution's survival function P(D_n ≥ x),
 * ported from scipy 1.10 (`stats.kstwo.sf`, i.e. `_ksstats._kolmogn(n, x, cdf=False)`,
 * and cephes `kolmogorov.c` for `special.smirnov`). The large-sample KS p-value
 * uses it exactly as scipy's `ks_2samp` does, so the two agree to 1e-9 relative.
 * The method cut-offs are scipy's (Simard & L'Ecuyer 2011).
 */

const SCALE = 2 ** 128, UNSCALE = 2 ** -128;
const EPSILON = 2 ** -52;
const MINLOG = -708.3964185322641;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2, PI4 = Math.PI ** 4, PI6 = Math.PI ** 6;
/** B_{2j}/(2j)/(2j−1) for j = 8..1: Stirling's series for log(n!/nⁿ). */
const STIRLING = [-2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2];

const clip = (p: number) => Math.min(1, Math.max(0, p));

/** x·2^e without overflowing 2^e on the way. */
function ldexp(x: number, e: number): number {
  while (e > 1000) { x *= 2 ** 1000; e -= 1000; }
  while (e < -1000) { x *= 2 ** -1000; e += 1000; }
  return x * 2 ** e;
}

/** P(D_n ≥ x) for a sample of n (scipy's `kstwo.sf(x, n)`); n a positive integer. */
export function kstwoSf(n: number, x: number): number {
  if (!(n >= 1) || !Number.isInteger(n)) return NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: P(D_n ≤ x) = n!/nⁿ (2t − 1)ⁿ for 1/2n ≤ x ≤ 1/n.
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clip(1 - durbinCdf(n, x));
    if (nxSquared <= 4) return clip(1 - pomeranzCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip(2 * smirnovSf(n, x));
  // The Durbin matrix costs O(k³ log n) with k ≈ nx, so scipy keeps it to small n·x^1.5.
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinCdf(n, x) : pelzGoodCdf(n, x);
  return clip(1 - cdf);
}

/** log(n!/nⁿ) by Stirling's series, without the cancellation of n·log n. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n, r2 = rn / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * r2 + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

/** a·b as an unevaluated sum hi + lo (Dekker), so ⌊n·x⌋ is exact. */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const split = (v: number) => { const c = 134217729 * v; const hi = c - (c - v); return [hi, v - hi]; };
  const [ah, al] = split(a), [bh, bl] = split(b);
  return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
}

/**
 * The one-sided Smirnov P(D_n⁺ ≥ x) (cephes `smirnov`): Birnbaum–Tingey's sum
 * x·Σ_{v ≤ n(1−x)} C(n,v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v), its terms taken in
 * logs with the binomial kept as mantissa and power of two. cephes' upper-sum
 * branch (x ≤ 0.5/√n with ⌊nx⌋ ≤ 2) is left out: kstwoSf never asks for it.
 */
function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const [hi, lo] = twoProduct(n, x);
  let nxFloor = Math.floor(hi);
  if (hi === nxFloor && lo < 0) nxFloor -= 1;
  let alpha = hi - nxFloor + lo;
  if (alpha >= 1) { nxFloor += 1; alpha = 0; }
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxFloor >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) {
    // Too many terms: p ≈ exp(−(6nx + 1)² / 18n).
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return clip(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  const terms = n - nxFloor;
  const half = Math.floor(n / 2);
  let sum = Math.exp(n * Math.log1p(-x)) / x;
  let binomial = n, binomialExp = 0; // C(n, v) = binomial · 2^binomialExp
  for (let v = 1; v < terms; v++) {
    const s = x + v / n;
    const rest = binomialExp * Math.LN2 + (v - 1) * Math.log(s) + (n - v) * Math.log1p(-s);
    // Where exp(rest) would underflow the binomial goes into the exponent too, or the term would be lost.
    const term = rest > -700 ? binomial * Math.exp(rest) : Math.exp(Math.log(binomial) + rest);
    if (Number.isFinite(term) && term !== 0) sum += term;
    // Stop once the remaining terms cannot reach the last bit.
    if (term !== 0) {
      if (4 * (terms - v) * Math.abs(term) < EPSILON * sum && v !== terms - 1) break;
    } else if (v > half) {
      break;
    }
    binomial *= (n - v) / (v + 1);
    if (binomial > SCALE) { binomial *= UNSCALE; binomialExp += 128; }
    if (binomial < UNSCALE) { binomial *= SCALE; binomialExp -= 128; }
  }
  return clip(x * sum);
}

/**
 * P(D_n ≤ d) by Durbin's matrix (Marsaglia, Tsang & Wang 2003): the k-th diagonal
 * entry of (n!/nⁿ)·Hⁿ for the (2k−1)-square H, k = ⌈nd⌉, with rescaling by 2^128.
 */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd), h = k - nd, m = 2 * k - 1;
  const v = new Float64Array(m), w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  let H: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1];
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];

  let power: Float64Array | undefined; // H's powers so far; undefined is the identity
  let nn = n, expnt = 0, hExpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      power = power ? multiply(power, H, m) : H.slice();
      expnt += hExpnt;
    }
    nn = Math.floor(nn / 2);
    if (nn === 0) break; // the last squaring would go unused
    H = multiply(H, H, m);
    hExpnt *= 2;
    if (Math.abs(H[(k - 1) * m + k - 1]) > SCALE) {
      for (let i = 0; i < H.length; i++) H[i] /= SCALE;
      hExpnt += 128;
    }
  }
  let p = power![(k - 1) * m + k - 1];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < UNSCALE) { p *= SCALE; expnt -= 128; }
  }
  return clip(ldexp(p, expnt));
}

/** a·b for m-square row-major matrices. */
function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const row = i * m;
    for (let l = 0; l < m; l++) {
      const ail = a[row + l];
      if (ail === 0) continue;
      const bl = l * m;
      for (let j = 0; j < m; j++) c[row + j] += ail * b[bl + j];
    }
  }
  return c;
}

/** P(D_n ≤ x) by Pomeranz's recursion (1974): rows of Poisson-weight convolutions, two at a time. */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0, roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs), twogpower = new Float64Array(npwrs), onem2gpower = new Float64Array(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * (g / n)) / m;
    twogpower[m] = (twogpower[m - 1] * ((2 * g) / n)) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * ((1 - 2 * g) / n)) / m;
  }
  const bounds = (i: number): [number, number] => {
    let j1: number, j2: number;
    if (i === 0) {
      [j1, j2] = [-ll - ceilf - 1, ll + ceilf - 1];
    } else {
      const half = Math.floor((i + 1) / 2), odd = (i + 1) % 2 === 0;
      if (odd) {
        [j1, j2] = half === n + 1 ? [n - ll - ceilf - 1, n + ll + ceilf - 1] : [half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1];
      } else {
        [j1, j2] = [half - 1 - ll - 1, half + ll + roundf - 1];
      }
    }
    return [Math.max(j1 + 2, 0), Math.min(j2, n)];
  };
  let V0 = new Float64Array(npwrs), V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0, V1s = 0, expnt = 0;
  let [j1, j2] = bounds(0);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = bounds(i);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // numpy.convolve(V0[k1 − V0s :][:ln2], pwrs[:ln2]), entries j1 − k1 onwards.
      const from = k1 - V0s, la = Math.min(ln2, npwrs - from), lb = Math.min(ln2, npwrs);
      const start = j1 - k1, len = j2 - j1 + 1;
      let max = 0;
      for (let c = 0; c < len; c++) {
        const at = start + c;
        let s = 0;
        for (let a = Math.max(0, at - lb + 1); a <= Math.min(at, la - 1); a++) s += V0[from + a] * pwrs[at - a];
        V1[c] = s;
        if (s > max) max = s;
      }
      if (max > 0 && max < UNSCALE) {
        for (let c = 0; c < npwrs; c++) V1[c] *= SCALE;
        expnt -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > SCALE) { ans *= UNSCALE; expnt += 128; }
    ans *= m;
  }
  return clip(ldexp(ans, expnt));
}

/**
 * Pelz & Good's (1976) approximation to P(D_n ≤ x): Li-Chien and Korolyuk's
 * expansion K0 + K1/√n + K2/n + K3/n^1.5 in z = x√n, rewritten through Jacobi's
 * theta functions for small z. Not clipped, as in scipy.
 */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2, z3 = z ** 3, z4 = z ** 4, z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2, k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4, k2b = ((2 * z4 - 5 * z2) * PI2) / 4, k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64, k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4, k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  // Horner over the odd integers m = 2k − 1 of Σ c_m q^(m²).
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1, m2 = m ** 2, m4 = m ** 4, m6 = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qpower + coeffs[i];
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * SQRT2PI) / divisors[i];
  // The other sums, over all integers k: K2 gets (π²k²)q^(k²), K3 (3π²k²z² − π⁴k⁴)q^(k²).
  q = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let k2extra = 0, k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const k2 = k ** 2, qk = q ** k2, kpi = Math.PI * k;
    k2extra += k2 * qk;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  K[2] += (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3] += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i] / n ** (i / 2);
  return sum;
}
