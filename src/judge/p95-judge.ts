/**
 * The P95 rules of a window: a two-sample test on the requests above a latency, counted
 * at bucket bounds only, so it claims no more than the buckets know. Pure; runs inside workflow code.
 *
 * Why not compare two quantile intervals: the domain's low bound over legacy's high bound adds both
 * half-widths and both bucket widths, and at a +60% regression over a +50% bar that needed about
 * ten times the requests that a test of the difference needs.
 */
import type { Thresholds } from '../plan/schema';
import { p95Ms, pct, tooFew, type CheckResult } from './verdicts';
import type { GroupSample, ImplStats } from './samples';
import { bucketOfRank, bucketQuantileInterval, histogramQuantile } from './statistics';

const msText = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)}ms` : '∞');

/** The reference the domain is compared with, and how it reads in reasons. */
export interface P95Reference {
  stats: ImplStats;
  label: string;
}

/** Over the rollback bar: by the ratio and by the absolute floor `minDeltaMs`. */
export function overBar(domainMs: number, referenceMs: number, t: Thresholds): boolean {
  return (
    referenceMs > 0 &&
    domainMs / referenceMs - 1 > t.p95Increase.rollback &&
    domainMs - referenceMs > t.p95Increase.minDeltaMs
  );
}

/** The highest latency (s) a domain P95 may reach without a rollback, at a reference P95 of `x` s. */
const allowed = (x: number, t: Thresholds) =>
  Math.max(x * (1 + t.p95Increase.rollback), x + t.p95Increase.minDeltaMs / 1000);
/** Observations above a bucket bound: exact. */
const aboveBound = (stats: ImplStats, bound: number) =>
  stats.requests - (stats.buckets.find(([le]) => le === bound)?.[1] ?? 0);

/** The evidence of one P95 test. */
export interface P95Test {
  /** Bound (s) of the domain's histogram the domain requests are counted above. */
  domainBound: number;
  /** Bound (s) of the reference's histogram, with `allowed(referenceBound) ≤ domainBound`. */
  referenceBound: number | null;
  domainAbove: number;
  referenceAbove: number;
  /**
   * Log of the Chernoff bound on the chance of this many domain requests among all those counted
   * above if the domain's P95 were within the bar; 0 when the domain is not the slower side.
   */
  evidence: number;
}

/** Binary relative entropy KL(q‖p) in nats. */
function kl(q: number, p: number): number {
  const term = (a: number, b: number) => (a <= 0 ? 0 : a * Math.log(a / b));
  return term(q, p) + term(1 - q, 1 - p);
}

/**
 * Tests "the domain's P95 is within the bar" against the reference's requests.
 *
 * Where: `c`, what the bar allows a domain P95 at the reference's measured P95 (×1.5, or
 * +`minDeltaMs`). Counted at bounds only: domain requests above the
 * first domain bound `b ≥ c`, reference requests above the last reference bound `r` with
 * `allowed(r) ≤ b`. If the domain's P95 is within the bar, a domain request exceeds `b` no more
 * often than a reference request exceeds `r` (near the P95 the exceedance curves keep the order of
 * the quantiles). Then, of the `m` requests counted above, the domain's are at most
 * Binomial(m, n_d/(n_d+n_r)) (a hypergeometric, bounded alike), and the chance of `k` or more is at
 * most exp(−m·KL(k/m ‖ n_d/(n_d+n_r))) (Chernoff–Hoeffding), at any number of requests, with no
 * normal approximation to fail at a handful of slow requests. `evidence` is that exponent.
 */
export function p95Test(domain: ImplStats, reference: ImplStats, t: Thresholds): P95Test | null {
  const nd = domain.requests;
  const nr = reference.requests;
  const bounds = domain.buckets.map(([le]) => le);
  if (nd <= 0 || nr <= 0 || bounds.length === 0) return null;
  // Where the bar puts the domain's P95 at legacy's measured one. (The 5% point of the pooled
  // requests looked sharper near the bar, but past a bound with nothing above it when the domain
  // is far slower: a 50% step at +5,000% showed no evidence at all.)
  const refP95 = histogramQuantile(0.95, reference.buckets, nr);
  if (refP95 === null) return null;
  const c = allowed(refP95, t);
  if (c > bounds[bounds.length - 1]) return null; // past the last bound: nothing can be counted above it
  const domainBound = bounds.find((b) => b >= c)!;
  const fitting = reference.buckets.filter(([le]) => allowed(le, t) <= domainBound + 1e-12);
  const referenceBound = fitting.length ? fitting[fitting.length - 1][0] : null;
  const domainAbove = aboveBound(domain, domainBound);
  const referenceAbove = referenceBound === null ? nr : aboveBound(reference, referenceBound);
  const m = domainAbove + referenceAbove;
  const share = nd / (nd + nr);
  const evidence =
    m > 0 && domainAbove / m > share && !withinByOwnTail(domain, c, t) ? m * kl(domainAbove / m, share) : 0;
  return { domainBound, referenceBound, domainAbove, referenceAbove, evidence };
}

/**
 * Whether the domain's own histogram shows its P95 within the bar `c` (s): a P95 over `c` puts at
 * least 5% of the requests above `c`, so above the highest bound below it, and fewer than that
 * there (at `confidence`, by the Chernoff bound) leaves no room for it. The two-sample test above
 * assumes the bounds it counts at are near the P95; with a floor (`minDeltaMs`) many times the
 * P95 they lie far out in the tail, where legacy may have no request at all and a handful of slow
 * domain requests (a cold start, a pause) read as a heavier tail: a 4.8 ms P95 against legacy's
 * 4.8 ms "probably over +50%" because 7 of 2,277 domain requests took over 250 ms.
 */
function withinByOwnTail(domain: ImplStats, c: number, t: Thresholds): boolean {
  const below = domain.buckets.filter(([le]) => le < c);
  if (below.length === 0) return false;
  const share = aboveBound(domain, below[below.length - 1][0]) / domain.requests;
  return share < 0.05 && domain.requests * kl(share, 0.05) >= (t.confidence * t.confidence) / 2;
}

function testText(test: P95Test, ref: P95Reference, nd: number): string {
  const r = test.referenceBound === null ? '0' : msText(test.referenceBound * 1000);
  return (
    `${pct(test.domainAbove / nd)} of domain requests over ${msText(test.domainBound * 1000)} ` +
    `vs ${pct(test.referenceAbove / ref.stats.requests)} of ${ref.label} over ${r}`
  );
}

/** A rollback when the evidence of `sample` clears `threshold` (the log of 1/α of this look). */
export function p95Rollback(
  sample: GroupSample,
  ref: P95Reference | null,
  t: Thresholds,
  threshold: number,
  label: string,
): CheckResult | null {
  if (sample.domain.requests < t.minSamples || !ref) return null;
  const test = p95Test(sample.domain, ref.stats, t);
  if (!test || test.evidence < threshold) return null;
  const domainP95 = p95Ms(sample.domain);
  const refP95 = p95Ms(ref.stats);
  return {
    check: 'p95',
    verdict: 'rollback',
    trigger: 'p95',
    reason:
      `domain P95 ≈ ${msText(domainP95 ?? NaN)} vs ${msText(refP95 ?? NaN)} for ${ref.label} (${label}): ` +
      `${testText(test, ref, sample.domain.requests)}, over +${pct(t.p95Increase.rollback)} by a two-sample test ` +
      `(evidence ${test.evidence.toFixed(1)} ≥ ${threshold.toFixed(1)})`,
    figures: {
      p95DomainMs: domainP95,
      p95ReferenceMs: refP95,
      p95Evidence: test.evidence,
      p95DomainBoundMs: test.domainBound * 1000,
    },
  };
}

/** Domain requests above a bound must be this many times as frequent as the reference's to call its tail heavier. */
export const TAIL_RATIO = 2;

/**
 * Whether the domain's latency tail is clearly heavier than the reference's at some bucket bound
 * both histograms have: at least `TAIL_RATIO` times the share of requests above it, by the same
 * Chernoff bound as `p95Test` (null: the domain's share of the requests counted above the bound is
 * what `TAIL_RATIO` times the reference's rate gives), past `threshold` (the log of 1/α of this
 * look, over every bound tried). Bounds where the reference has 1–20% of its requests above: the
 * tail around its P95. The buckets may be too coarse to say whether the P95 is past the bar (at a
 * 90 ms P95 the default bounds cannot tell +60% from +150%), but not too coarse to say this.
 */
export function heavierTail(
  domain: ImplStats,
  reference: ImplStats,
  threshold: number,
): { bound: number; domainShare: number; referenceShare: number; evidence: number } | null {
  const nd = domain.requests;
  const nr = reference.requests;
  if (nd <= 0 || nr <= 0) return null;
  const bounds = domain.buckets.map(([le]) => le).filter((le) => reference.buckets.some(([r]) => r === le));
  const penalty = Math.log(Math.max(1, bounds.length));
  let best: { bound: number; domainShare: number; referenceShare: number; evidence: number } | null = null;
  for (const bound of bounds) {
    const k = aboveBound(domain, bound);
    const r = aboveBound(reference, bound);
    const referenceShare = r / nr;
    if (referenceShare < 0.01 || referenceShare > 0.2) continue;
    const m = k + r;
    const q0 = (TAIL_RATIO * nd) / (TAIL_RATIO * nd + nr);
    const evidence = m > 0 && k / m > q0 ? m * kl(k / m, q0) : 0;
    if (evidence - penalty >= threshold && (!best || evidence > best.evidence))
      best = { bound, domainShare: k / nd, referenceShare, evidence };
  }
  return best;
}

/**
 * When the buckets around the reference P95 are too wide to ever show an increase of the
 * threshold, a sentence that says so and which bounds to add; `null` when they are fine.
 */
export function p95BucketWarning(
  reference: ImplStats,
  t: Thresholds,
  domainBounds?: number[],
): string | null {
  const refP95 = p95Ms(reference);
  if (refP95 === null || reference.requests <= 0) return null;
  const holding = bucketOfRank(Math.ceil(0.95 * reference.requests), reference.buckets);
  if (!Number.isFinite(holding.high))
    return `P95 ≈ ${msText(refP95)} is above the last bucket bound: the buckets cannot show a P95 increase at all`;
  const refHighMs = holding.high * 1000;
  const bounds = (domainBounds ?? reference.buckets.map(([le]) => le)).map((b) => b * 1000);
  const first = bounds.find((b) => overBar(b, refHighMs, t));
  const detectable = first === undefined ? Infinity : first / refP95 - 1;
  // The plan's own bar at this P95 (ratio or the `minDeltaMs` floor, whichever is higher): the
  // buckets do when the first bound they can show lies within half as much again past it.
  const barMs = allowed(refP95 / 1000, t) * 1000;
  if (first !== undefined && first - refP95 <= 1.5 * (barMs - refP95)) return null;
  const suggest = suggestedBounds(holding.low * 1000, refHighMs, refP95, bounds, t);
  const where = `${msText(holding.low * 1000)}–${msText(refHighMs)}`;
  return (
    `P95 ≈ ${msText(refP95)} sits in the ${where} bucket: ` +
    (first === undefined
      ? `no bucket bound is high enough to show +${pct(t.p95Increase.rollback)}`
      : `buckets cannot show +${pct(t.p95Increase.rollback)} here (a domain P95 must pass ${msText(first)}, +${pct(detectable)})`) +
    `; add bounds such as ${suggest.join(', ')}`
  );
}

/** Whether bounds `sorted` (ms) show the bar at a P95 of `p` ms, as `p95BucketWarning` asks. */
function showsBar(sorted: number[], p: number, t: Thresholds): boolean {
  const high = sorted.find((b) => b >= p);
  if (high === undefined) return false;
  const first = sorted.find((b) => overBar(b, high, t));
  return first !== undefined && first - p <= 1.5 * (allowed(p / 1000, t) * 1000 - p);
}

/**
 * Bounds (s) to add so that the buckets show the bar wherever in its bucket [lowMs, highMs] the
 * P95 lies (the estimate inside a bucket is only an interpolation): a ladder from the bucket up
 * past the bar, thinned to what that needs. Few enough to run at a window's end.
 */
function suggestedBounds(lowMs: number, highMs: number, refP95: number, existingMs: number[], t: Thresholds): number[] {
  const from = lowMs > 0 ? lowMs : refP95 / 2;
  const positions = Array.from({ length: 40 }, (_, i) => from + ((highMs - from) * (i + 1)) / 40);
  // Past the farthest a bound may lie and still show the bar (1.5× its excess from the P95).
  const top = highMs + 2 * (allowed(highMs / 1000, t) * 1000 - highMs);
  const ladder: number[] = [];
  // 8% apart, or a quarter of the `minDeltaMs` floor where that is wider (the floor is the bar there).
  for (let b = from * 1.08; b <= top && ladder.length < 60; b += Math.max(0.08 * b, t.p95Increase.minDeltaMs / 4)) {
    const ms = Number(b.toPrecision(3));
    if (!existingMs.some((e) => Math.abs(e - ms) < 1e-9) && !ladder.includes(ms)) ladder.push(ms);
  }
  const works = (added: number[]) => {
    const sorted = [...existingMs, ...added].sort((a, b) => a - b);
    return positions.every((p) => showsBar(sorted, p, t));
  };
  let chosen = ladder;
  if (works(chosen))
    for (const b of ladder) {
      const fewer = chosen.filter((x) => x !== b);
      if (works(fewer)) chosen = fewer;
    }
  return chosen.map((ms) => Number((ms / 1000).toPrecision(3)));
}

/**
 * Why latency cannot be read from these requests, or `null`: no histogram bucket at all (a
 * router's exporter with counts only), or every request past the highest bound (a P95 of ∞ says
 * nothing, and ∞ against ∞ is not "+0%").
 */
export function blindLatency(stats: ImplStats, who: string): string | null {
  if (stats.requests <= 0) return null;
  if (stats.buckets.length === 0) return `no latency histogram in the metrics of ${who}'s requests`;
  const top = stats.buckets[stats.buckets.length - 1];
  if (top[1] === 0) return `every ${who} request is above the highest bucket bound (${msText(top[0] * 1000)})`;
  return null;
}

/** The window's P95 verdict: pass, hold (probably over the bar) or inconclusive. */
export function judgeP95End(
  sample: GroupSample,
  ref: P95Reference | null,
  t: Thresholds,
  o: {
    /** Legacy is short of samples while it serves: the shortfall extends the window. */
    legacyShort: boolean;
    /** Evidence that rolls back at this look; `null` when this look may not roll back. */
    rollbackAt: number | null;
  },
): CheckResult {
  const n = sample.domain.requests;
  if (n < t.minSamples) return tooFew('p95', n, t.minSamples, 'domain requests');
  const blind = blindLatency(sample.domain, 'domain') ?? (ref ? blindLatency(ref.stats, ref.label) : null);
  if (blind)
    return {
      check: 'p95',
      verdict: 'inconclusive',
      reason: `p95: ${blind}: the P95 cannot be judged; export a latency histogram, or turn the check off for this phase with checks: {p95: off}`,
      figures: { p95DomainMs: null, p95ReferenceMs: null },
    };
  if (!ref)
    return {
      check: 'p95',
      verdict: 'inconclusive',
      reason: `p95: no reference latency (legacy ${sample.legacy.requests} requests, no baseline)`,
      figures: { p95DomainMs: p95Ms(sample.domain), p95ReferenceMs: null },
      ...(o.legacyShort ? { shortfall: `${sample.legacy.requests} of ${t.minSamples} legacy requests` } : {}),
    };
  const domainP95 = p95Ms(sample.domain)!;
  const refP95 = p95Ms(ref.stats)!;
  const d = bucketQuantileInterval(0.95, sample.domain.buckets, n, t.confidence)!;
  const r = bucketQuantileInterval(0.95, ref.stats.buckets, ref.stats.requests, t.confidence)!;
  const increase = refP95 > 0 ? domainP95 / refP95 - 1 : 0;
  const test = p95Test(sample.domain, ref.stats, t);
  const figures = {
    p95DomainMs: domainP95,
    p95ReferenceMs: refP95,
    p95Increase: increase,
    p95DomainLowMs: d.low * 1000,
    p95ReferenceHighMs: r.high * 1000,
    ...(test ? { p95Evidence: test.evidence } : {}),
  };
  const text = `domain P95 ≈ ${msText(domainP95)} vs ${msText(refP95)} for ${ref.label} (${increase >= 0 ? '+' : ''}${pct(increase)}; bucket bounds ${msText(d.low * 1000)}–${msText(d.high * 1000)} vs ${msText(r.low * 1000)}–${msText(r.high * 1000)})`;
  if (test && o.rollbackAt !== null && test.evidence >= o.rollbackAt)
    return {
      check: 'p95',
      verdict: 'rollback',
      trigger: 'p95',
      figures,
      reason: `${text}: ${testText(test, ref, n)}, over +${pct(t.p95Increase.rollback)} by a two-sample test at the window's end (evidence ${test.evidence.toFixed(1)} ≥ ${o.rollbackAt.toFixed(1)})`,
    };
  // At `confidence` (1.96: evidence z²/2 ≈ 1.9) the same test that rolls back at a far stricter level.
  if (test && test.evidence >= (t.confidence * t.confidence) / 2)
    return {
      check: 'p95',
      verdict: 'hold',
      figures,
      reason: `${text}: ${testText(test, ref, n)}, probably over +${pct(t.p95Increase.rollback)}, not yet sure enough to roll back`,
    };
  // Measurably slower: the domain's P95 sits in a bucket at or above legacy's. Whether by the
  // threshold, the interpolated point estimates cannot say (they are not evidence); where the
  // buckets cannot show the threshold at all, say so, else judge by the point estimates.
  if (d.low > 0 && d.low >= r.high) {
    const coarse = p95BucketWarning(
      ref.stats,
      t,
      sample.domain.buckets.map(([le]) => le),
    );
    if (coarse)
      return { check: 'p95', verdict: 'inconclusive', figures, reason: `${text}: slower, ${coarse}` };
    if (overBar(domainP95, refP95, t))
      return {
        check: 'p95',
        verdict: 'inconclusive',
        figures,
        reason: `${text}: slower, not clearly by +${pct(t.p95Increase.rollback)}`,
      };
  }
  return { check: 'p95', verdict: 'pass', figures, reason: text };
}
