/**
 * How much an implementation's bad-outcome rate wanders from one minute to the next beyond what
 * independent requests allow (retries, a downstream hiccup, a GC pause, a cache refill), learned
 * from its own checks, so that the rate tests weigh a check's requests as the evidence they are.
 * Pure; runs inside workflow code.
 *
 * Model: checks are grouped in batches of `BATCH_CHECKS`; a batch's true rate varies around the
 * mean p with variance σ². A batch of n requests then has Var(bad) = n·p(1−p) + n²σ², and so has a
 * run of checks a few batches long: each of its requests counts 1/φ as much as an independent one,
 * φ = 1 + n_check·B·σ²/(p(1−p)) for a check of n_check requests (`dispersionFactor`). Independent
 * requests give σ² ≈ 0 and φ = 1: the tests are then exactly the binomial ones.
 *
 * What is learned: legacy's batches always (a burst legacy sees is the service's), the domain's
 * only once the rate tests have settled back to 0 after them (`settle`): the requests of a fault
 * still being weighed never teach the test that faults are normal. What a window learned is carried
 * to the group's next window (`carriedSpread`), so a 100% step knows the bursts its 50% step saw.
 */
import type { Counts } from './sequential';

/** Checks per batch: bursts shorter than this are measured as part of the batch's variance. */
export const BATCH_CHECKS = 6;
/**
 * How much heavier than a normal spread's the tail of a bursty one is taken to be: bursts put the
 * variance in a few large excursions, and a rollback answers to the largest, not the average.
 * Calibrated by bench/judgement.ts (bursts ×20 for 1% of checks, 3 checks long on average).
 */
export const TAIL = 10;
/** Fewest batches before a spread is believed. */
const MIN_BATCHES = 10;
/** A batch is counted when it has this many requests; fewer say nothing of the rate's spread. */
const MIN_BATCH_REQUESTS = 20;

/**
 * Moments of completed batches: count, Σn, Σbad, Σbad²/n, Σn². Plain numbers, so a window's
 * spread is cheap to carry in workflow state.
 */
export interface Moments {
  b: number;
  n: number;
  x: number;
  q: number;
  s2: number;
}

/** One implementation's spread: what is learned, and the batch being filled. */
export interface SideSpread {
  learned: Moments;
  /** Batches completed while the rate tests had an open run (the domain's only). */
  pending: Moments;
  batch: Counts;
  checks: number;
}

export interface Spread {
  domain: SideSpread;
  legacy: SideSpread;
  /** What earlier windows of the group learned. */
  prior: { domain: Moments; legacy: Moments };
  /** Checks in a row with every rate test of the domain at rest (absent in older state: 0). */
  quiet?: number;
}

export const NO_MOMENTS: Moments = { b: 0, n: 0, x: 0, q: 0, s2: 0 };

const side = (): SideSpread => ({ learned: NO_MOMENTS, pending: NO_MOMENTS, batch: { n: 0, bad: 0 }, checks: 0 });

export function startSpread(prior?: { domain: Moments; legacy: Moments }): Spread {
  return { domain: side(), legacy: side(), prior: prior ?? { domain: NO_MOMENTS, legacy: NO_MOMENTS } };
}

export function mergeMoments(a: Moments, b: Moments): Moments {
  return { b: a.b + b.b, n: a.n + b.n, x: a.x + b.x, q: a.q + b.q, s2: a.s2 + b.s2 };
}

function batchMoments(c: Counts): Moments {
  if (c.n < MIN_BATCH_REQUESTS) return NO_MOMENTS;
  return { b: 1, n: c.n, x: c.bad, q: (c.bad * c.bad) / c.n, s2: c.n * c.n };
}

/** Adds one check of one side. `hold`: a completed batch waits in `pending` instead of being learned. */
function addCheck(s: SideSpread, c: Counts, hold: boolean): SideSpread {
  const batch = { n: s.batch.n + c.n, bad: s.batch.bad + c.bad };
  if (s.checks + 1 < BATCH_CHECKS) return { ...s, batch, checks: s.checks + 1 };
  const m = batchMoments(batch);
  return {
    learned: hold ? s.learned : mergeMoments(s.learned, m),
    pending: hold ? mergeMoments(s.pending, m) : s.pending,
    batch: { n: 0, bad: 0 },
    checks: 0,
  };
}

/**
 * One check of both sides. `open`: whether a rate test of the domain has a run in progress after
 * this check. The domain's batches wait until the tests have been at rest for a whole batch of
 * checks, and are learned only then (a burst that passed). A fault keeps its run open: a test
 * that touches 0 for a check or two while the fault goes on does not release it.
 */
export function addSpread(s: Spread, domain: Counts, legacy: Counts, open: boolean): Spread {
  const quiet = open ? 0 : (s.quiet ?? 0) + 1;
  const d = addCheck(s.domain, domain, true);
  const settled = quiet >= BATCH_CHECKS;
  return {
    ...s,
    quiet,
    domain: settled ? { ...d, learned: mergeMoments(d.learned, d.pending), pending: NO_MOMENTS } : d,
    legacy: addCheck(s.legacy, legacy, false),
  };
}

/** Legacy's checks alone (a baseline window, the group at 0%). */
export function addLegacySpread(s: Spread, legacy: Counts): Spread {
  return { ...s, legacy: addCheck(s.legacy, legacy, false) };
}

/** What the group's next window starts from: the prior and what this window learned. */
export function carriedSpread(s: Spread | undefined): { domain: Moments; legacy: Moments } | undefined {
  if (!s) return undefined;
  return {
    domain: mergeMoments(s.prior.domain, s.domain.learned),
    legacy: mergeMoments(s.prior.legacy, s.legacy.learned),
  };
}

/**
 * σ² of the batch rate beyond binomial, by moments, less three standard deviations of what
 * independent requests would show by chance (so a binomial service reads 0, not noise).
 */
export function batchVariance(m: Moments): number {
  if (m.b < MIN_BATCHES || m.n <= 0) return 0;
  const p = m.x / m.n;
  if (p <= 0 || p >= 1) return 0;
  const binomial = p * (1 - p);
  const pearson = m.q - (m.x * m.x) / m.n; // Σ (x − n·p)²/n
  const chance = (m.b - 1 + 3 * Math.sqrt(2 * (m.b - 1))) * binomial;
  const denominator = m.n - m.s2 / m.n;
  return denominator > 0 ? Math.max(0, (pearson - chance) / denominator) : 0;
}

/** σ² of the service: the larger of the domain's and legacy's, each with what earlier windows learned. */
export function spreadVariance(s: Spread | undefined): number {
  if (!s) return 0;
  return Math.max(
    batchVariance(mergeMoments(s.prior.domain, s.domain.learned)),
    batchVariance(mergeMoments(s.prior.legacy, s.legacy.learned)),
  );
}

/**
 * What one request of a check of `n` weighs against an independent one, at the null rate `p0`.
 * `tail`: `TAIL` for a test that must not take a burst for a fault; 1 for an interval around a
 * window's rate (its average spread, not its largest excursion).
 */
export function dispersionFactor(variance: number, n: number, p0: number, tail = TAIL): number {
  if (variance <= 0 || n <= 0 || p0 <= 0 || p0 >= 1) return 1;
  return 1 + (tail * n * BATCH_CHECKS * variance) / (p0 * (1 - p0));
}
