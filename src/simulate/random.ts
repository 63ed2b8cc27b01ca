/**
 * A seeded pseudo-random source and the exact discrete samplers the traffic model needs
 * (Poisson, binomial), without a dependency. Determinism is the point: a seed and a scenario
 * name give the same traffic on every machine, so a figure in the README can be reproduced.
 */

/** A source of uniform numbers in (0, 1). */
export interface Random {
  next(): number;
}

/** FNV-1a of a string: turns "seed/cell/run" into a 32-bit seed. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast counter), seeded through splitmix32: 128 bits of state,
 * passes PractRand to terabytes, and plain 32-bit integer arithmetic, so it is the same in every
 * JavaScript engine. Never returns 0 or 1 (the samplers take logarithms).
 */
export function createRandom(seed: number | string): Random {
  let s = typeof seed === 'string' ? hashSeed(seed) : seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32();
  return { next: () => (next32() + 0.5) / 4294967296 };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: relative error ~1e-15). */
export function logGamma(x: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const y = x - 1;
  let sum = g[0];
  for (let i = 1; i < 9; i++) sum += g[i] / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * Inversion of a unimodal distribution on 0..max, walking out from the mode (alternately down
 * and up): exact, and about √variance steps, however large the mean. `ratioUp(k)` is
 * pmf(k+1)/pmf(k).
 */
function invertFromMode(
  rng: Random,
  mode: number,
  pmfAtMode: number,
  ratioUp: (k: number) => number,
  max: number,
): number {
  let u = rng.next() - pmfAtMode;
  if (u <= 0) return mode;
  let lo = mode;
  let hi = mode;
  let pLo = pmfAtMode;
  let pHi = pmfAtMode;
  // Each turn takes the next value below and the next above; the order of the support does not
  // matter to inversion, only that every value is visited once with its own probability.
  for (;;) {
    const canDown = lo > 0 && pLo > 0;
    const canUp = hi < max && pHi > 0;
    if (!canDown && !canUp) return mode; // rounding left a sliver of u: the mode is as good as any
    if (canDown) {
      pLo /= ratioUp(lo - 1);
      lo--;
      u -= pLo;
      if (u <= 0) return lo;
    }
    if (canUp) {
      pHi *= ratioUp(hi);
      hi++;
      u -= pHi;
      if (u <= 0) return hi;
    }
  }
}

/** Poisson(λ), exact. */
export function poisson(rng: Random, lambda: number): number {
  if (!(lambda > 0)) return 0;
  const mode = Math.floor(lambda);
  const pmf = Math.exp(mode * Math.log(lambda) - lambda - logGamma(mode + 1));
  return invertFromMode(rng, mode, pmf, (k) => lambda / (k + 1), Infinity);
}

/** Binomial(n, p), exact. */
export function binomial(rng: Random, n: number, p: number): number {
  if (n <= 0 || !(p > 0)) return 0;
  if (p >= 1) return n;
  const q = 1 - p;
  // Small means (error counts, sparse buckets): walk up from 0, no ln Γ needed.
  if (n * p < 8) {
    let pmf = Math.exp(n * Math.log1p(-p));
    let u = rng.next() - pmf;
    let k = 0;
    while (u > 0 && k < n && pmf > 0) {
      pmf *= ((n - k) / (k + 1)) * (p / q);
      k++;
      u -= pmf;
    }
    return k;
  }
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const logPmf =
    logGamma(n + 1) -
    logGamma(mode + 1) -
    logGamma(n - mode + 1) +
    mode * Math.log(p) +
    (n - mode) * Math.log1p(-p);
  return invertFromMode(rng, mode, Math.exp(logPmf), (k) => ((n - k) / (k + 1)) * (p / q), n);
}

/**
 * Multinomial(n, probabilities) as conditional binomials, stopping once every draw is placed.
 * `probabilities` need not sum to 1: the remainder is a last category that is not returned.
 */
export function multinomial(rng: Random, n: number, probabilities: readonly number[]): number[] {
  const out = new Array<number>(probabilities.length).fill(0);
  let left = n;
  let mass = 1;
  for (let i = 0; i < probabilities.length && left > 0; i++) {
    const p = probabilities[i];
    if (p <= 0) continue;
    const k = p >= mass ? left : binomial(rng, left, p / mass);
    out[i] = k;
    left -= k;
    mass -= p;
  }
  return out;
}

/**
 * Standard normal distribution function Φ. The erfc is Numerical Recipes' Chebyshev fit
 * (fractional error < 1.2e-7 everywhere): bucket probabilities need no more.
 */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
