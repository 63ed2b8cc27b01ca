/**
 * The arithmetic of a simulation table: medians, exact binomial bounds on a rate seen in a few
 * thousand runs, and Wald's SPRT expected sample size to measure the sequential test against.
 */
import { normalQuantile } from '../judge/statistics';
import { binomial, createRandom, normalCdf, poisson } from './random';

/** The `q` quantile (0..1) of ascending `sorted`, by the nearest rank; `null` when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const median = (sorted: readonly number[]) => quantile(sorted, 0.5);

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log1p(-p));
  return Math.min(1, s);
}

/**
 * One-sided upper confidence bound (Clopper–Pearson, exact) of a rate seen `k` times in `n` runs:
 * with 0 of 3,000 the rate is below 0.1% at 95%; with 0 of 300 only below 1%.
 */
export function upperBound(k: number, n: number, confidence = 0.95): number {
  if (n <= 0) return 1;
  if (k >= n) return 1;
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(k, n, mid) > 1 - confidence) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** An SPRT of a bad-outcome rate p0 (healthy) against p1 (faulty) with error chances α, β. */
export interface Sprt {
  p0: number;
  p1: number;
  alpha: number;
  beta: number;
}

/**
 * Wald's approximation of the expected number of observations an SPRT takes when the true rate
 * is `p`: E[N] = (L(p)·ln B + (1 − L(p))·ln A) / E_p[z], with A = (1−β)/α, B = β/(1−α), z the
 * log-likelihood ratio of one observation and L(p) the operating characteristic, from the h ≠ 0
 * with E_p[e^(h·z)] = 1 (Wald 1947, ch. 3; at p = p1, h = −1 and L = β). The benchmark a
 * sequential test that knows neither the onset nor the size of a fault is held to.
 */
export function sprtExpectedSamples(s: Sprt, p: number): number {
  const a = Math.log((1 - s.beta) / s.alpha);
  const b = Math.log(s.beta / (1 - s.alpha));
  const up = Math.log(s.p1 / s.p0);
  const down = Math.log((1 - s.p1) / (1 - s.p0));
  const drift = p * up + (1 - p) * down;
  // At the rate where the drift vanishes Wald's limit is −ln A·ln B / E[z²].
  if (Math.abs(drift) < 1e-12) return (-a * b) / (p * up * up + (1 - p) * down * down);
  const g = (h: number) => p * Math.exp(h * up) + (1 - p) * Math.exp(h * down) - 1;
  // g is convex with g(0) = 0 and g'(0) = drift: the other root has the sign opposite to the drift.
  let lo = drift > 0 ? -1 : 1e-9;
  let hi = drift > 0 ? -1e-9 : 1;
  while (g(drift > 0 ? lo : hi) < 0) {
    if (drift > 0) lo *= 2;
    else hi *= 2;
  }
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    const inside = g(mid) < 0;
    if (drift > 0 ? inside : !inside) hi = mid;
    else lo = mid;
  }
  const h = (lo + hi) / 2;
  const L = (Math.exp(h * a) - 1) / (Math.exp(h * a) - Math.exp(h * b));
  return (L * b + (1 - L) * a) / drift;
}

/**
 * Domain requests that an ideal test needs to show a P95 `increase` over a `bar` (both as
 * fractions, 0.6 over 0.5) with error chances α and β, at one look, for lognormal latencies of
 * log-spread `sigma`, legacy's P95 known exactly and the latencies counted without buckets: the
 * share of domain requests above legacy's P95 × (1 + bar) is 5% on the bar and
 * 1 − Φ(z₀.₉₅ − ln((1+increase)/(1+bar))/σ) at the increase; the one-sample normal test of that
 * share then needs ((z_α·√(p₀q₀) + z_β·√(p₁q₁)) / (p₁ − p₀))². No rule that looks more than once,
 * learns legacy from a sample, and sees only buckets can need fewer: where a window holds fewer
 * domain requests than this, no rule can roll back 1 − β of such steps at that α.
 */
export function p95IdealSamples(sigma: number, increase: number, bar: number, alpha: number, beta: number): number {
  const p0 = 0.05;
  const p1 = 1 - normalCdf(normalQuantile(0.95) - Math.log((1 + increase) / (1 + bar)) / sigma);
  const za = normalQuantile(1 - alpha);
  const zb = normalQuantile(1 - beta);
  return ((za * Math.sqrt(p0 * (1 - p0)) + zb * Math.sqrt(p1 * (1 - p1))) / (p1 - p0)) ** 2;
}

/**
 * The median (and 99th percentile) number of checks Wald's SPRT takes to decide for H1 when it may only look once per
 * check, as a rollout does: `perCheck` requests a check on average (Poisson), each bad with
 * probability `p`, until the log-likelihood ratio reaches ln((1−β)/α) (or falls to ln(β/(1−α)),
 * when it starts again: a test that gave up on a fault would miss it). Simulated, `runs` times, so
 * the comparison is at the same cadence: an SPRT that needs 1.5 checks of requests still waits
 * for the second check to see them.
 */
export function sprtChecks(
  s: Sprt,
  p: number,
  perCheck: number,
  runs = 2001,
  seed = 'sprt',
): { median: number; p99: number } {
  const rng = createRandom(seed);
  const a = Math.log((1 - s.beta) / s.alpha);
  const b = Math.log(s.beta / (1 - s.alpha));
  const up = Math.log(s.p1 / s.p0);
  const down = Math.log((1 - s.p1) / (1 - s.p0));
  const checks: number[] = [];
  for (let r = 0; r < runs; r++) {
    let llr = 0;
    let k = 0;
    while (llr < a && k < 1_000_000) {
      k++;
      const n = poisson(rng, perCheck);
      const bad = binomial(rng, n, p);
      llr += bad * up + (n - bad) * down;
      if (llr <= b) llr = 0;
    }
    checks.push(k);
  }
  checks.sort((x, y) => x - y);
  return { median: median(checks)!, p99: quantile(checks, 0.99)! };
}
