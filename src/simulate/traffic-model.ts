/**
 * Synthetic traffic of one group during one step, as the metrics provider would report it: one
 * `GroupSample` per check. Counts are drawn per check (Poisson requests, binomial routing and
 * errors, multinomial histogram buckets), never request by request, so an 8-hour window at
 * 50 requests/s takes milliseconds.
 */
import type { GroupSample, ImplStats } from '../judge/samples';
import { binomial, multinomial, normalCdf, poisson, type Random } from './random';

/** How the router picks the implementation. */
export type Routing =
  /** Every request tosses its own coin (the share is binomial in requests). */
  | { kind: 'per-request' }
  /**
   * `users` equally active users, each pinned to one side for the step by a uniform bucket 0..99
   * (the backend's hash of `X-Rollout-Key`): the share served is the share of users below the
   * percent, so it varies from step to step as a share of users, not of requests.
   */
  | { kind: 'sticky'; users: number };

/** A lognormal latency distribution. */
export interface Latency {
  medianMs: number;
  /** σ of ln(latency). */
  sigma: number;
}

/**
 * Legacy latency used unless told otherwise: median 40 ms, σ 0.5, so P95 = 40·e^(1.645·0.5) ≈
 * 91 ms and P99 ≈ 128 ms, a plausible small JSON API. 91 ms sits just below the backend's
 * 100 ms bound, where its 100–250 ms bucket hides any increase up to +175%.
 */
export const DEFAULT_LATENCY: Latency = { medianMs: 40, sigma: 0.5 };

/** The backend's histogram bounds in seconds (prom-client's defaults, also Prometheus' usual ones). */
export const BACKEND_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A fine layout: bounds ×1.02 apart from 60 ms to 300 ms, where the P95s of the default latencies
 * and of their regressions lie with their intervals (legacy 91 ms, +60% 146 ms, +150% 228 ms),
 * plus the backend's bounds outside it. Why
 * ×1.02: the rule compares the domain's low bucket edge with legacy's high edge, so each side can
 * lose up to a bucket, at most ×1.02² ≈ 1.04 together; +60% over a +50% bar leaves a margin of
 * 1.6/1.5 ≈ 1.067, and only what the buckets do not eat is left for sampling noise. With ×1.05
 * bounds (up to 1.10 lost) +60% could never be shown. Bounds outside 50–500 ms only cost time.
 */
export const FINE_BUCKETS: readonly number[] = (() => {
  const out = new Set<number>(BACKEND_BUCKETS);
  for (let b = 0.06; b <= 0.3; b *= 1.02) out.add(Number(b.toPrecision(4)));
  return [...out].sort((x, y) => x - y);
})();

/** Bucket layouts by name, as the CLI and the bench call them. */
export const BUCKET_LAYOUTS = { backend: BACKEND_BUCKETS, fine: FINE_BUCKETS } as const;
export type BucketLayoutName = keyof typeof BUCKET_LAYOUTS;

/** Something wrong with the domain implementation, from `startsAtMs` on. */
export interface Fault {
  /** Domain error rate while the fault lasts (replaces the base rate). */
  domainErrorRate?: number;
  /** Multiplies every domain latency (so the true P95 too) while the fault lasts. */
  domainLatencyFactor?: number;
  /** Milliseconds after the step began; 0 = from the start. */
  startsAtMs: number;
}

/** The traffic of one step. */
export interface TrafficSettings {
  /** Requests per second of the whole group (both implementations). */
  rps: number;
  /** Configured domain share, 0..100. */
  percent: number;
  checkIntervalMs: number;
  routing: Routing;
  /** Base error (5xx) rates; every answer that is not an error is a 2xx. */
  errorRate: { legacy: number; domain: number };
  /** Legacy latency; the domain's is the same unless a fault scales it. */
  latency: Latency;
  /** Histogram bounds in seconds, ascending. */
  buckets: readonly number[];
  fault?: Fault;
}

/** Counts of one check as they would be read, plus what the model knows and the judge does not. */
export interface TrafficStream {
  /** The next check's sample. */
  next(): GroupSample;
  /** Users pinned to the domain side (sticky routing), else `null`. */
  readonly domainUsers: number | null;
  /** Checks drawn so far. */
  readonly checks: number;
}

/** Time 0 of every simulated step: samples carry real timestamps, as the provider's do. */
const ORIGIN = Date.UTC(2025, 0, 1);

/** Per-bucket probabilities (not cumulative) of a lognormal latency on `buckets`. */
export function bucketProbabilities(latency: Latency, factor: number, buckets: readonly number[]): number[] {
  const mu = Math.log((latency.medianMs * factor) / 1000);
  let prev = 0;
  return buckets.map((b) => {
    const c = normalCdf((Math.log(b) - mu) / latency.sigma);
    const p = Math.max(0, c - prev);
    prev = Math.max(prev, c);
    return p;
  });
}

/** The true P95 of a lognormal latency in ms. */
export function trueP95Ms(latency: Latency, factor = 1): number {
  return latency.medianMs * factor * Math.exp(1.6448536269514722 * latency.sigma);
}

/** Distinct keys among `requests` draws from `users` equally likely users (expected value). */
export function expectedDistinct(users: number, requests: number): number {
  if (users <= 0) return 0;
  return Math.round(users * -Math.expm1(requests * Math.log1p(-1 / users)));
}

/** Counts of one implementation in one check (without `keys`: they depend on the whole step). */
function implStats(
  rng: Random,
  n: number,
  errorRate: number,
  probs: number[],
  bounds: readonly number[],
): ImplStats {
  const errors = binomial(rng, n, errorRate);
  const counts = multinomial(rng, n, probs);
  let cum = 0;
  const buckets = counts.map((c, i): [number, number] => [bounds[i], (cum += c)]);
  return { requests: n, errors, successes: n - errors, buckets };
}

/**
 * Starts one step's traffic. With sticky routing each user's bucket is drawn once here, so the
 * realized share is fixed for the step and differs from the percent as a share of users does.
 */
export function startTraffic(s: TrafficSettings, rng: Random): TrafficStream {
  const share = Math.min(1, Math.max(0, Math.ceil(s.percent) / 100));
  const domainUsers = s.routing.kind === 'sticky' ? binomial(rng, s.routing.users, share) : null;
  const legacyUsers = s.routing.kind === 'sticky' ? s.routing.users - domainUsers! : null;
  // The probability of a request going to the domain side: the realized share of users when sticky.
  const domainShare = s.routing.kind === 'sticky' ? domainUsers! / s.routing.users : s.percent / 100;
  const healthyProbs = bucketProbabilities(s.latency, 1, s.buckets);
  const faultProbs = bucketProbabilities(s.latency, s.fault?.domainLatencyFactor ?? 1, s.buckets);
  const lambda = (s.rps * s.checkIntervalMs) / 1000;
  let checks = 0;
  let domainSeen = 0;
  let legacySeen = 0;

  return {
    get domainUsers() {
      return domainUsers;
    },
    get checks() {
      return checks;
    },
    next(): GroupSample {
      const from = checks * s.checkIntervalMs;
      checks++;
      const to = checks * s.checkIntervalMs;
      const total = poisson(rng, lambda);
      const domain = binomial(rng, total, domainShare);
      const legacy = total - domain;
      // The part of this check the fault covers; a check straddling its onset is split in the
      // domain's counts (a fault does not wait for the next scrape).
      const onset = s.fault ? s.fault.startsAtMs : Infinity;
      const covered = Math.min(1, Math.max(0, (to - Math.max(from, onset)) / (to - from)));
      const faulty = covered > 0 ? binomial(rng, domain, covered) : 0;
      const healthy = domain - faulty;
      domainSeen += domain;
      legacySeen += legacy;
      const keysOf = (seen: number, users: number | null) =>
        users === null ? seen : expectedDistinct(users, seen);
      const h = implStats(rng, healthy, s.errorRate.domain, healthyProbs, s.buckets);
      const f = implStats(rng, faulty, s.fault?.domainErrorRate ?? s.errorRate.domain, faultProbs, s.buckets);
      const domainStats: ImplStats = {
        requests: domain,
        errors: h.errors + f.errors,
        successes: h.successes + f.successes,
        buckets: h.buckets.map(([le, c], i) => [le, c + f.buckets[i][1]]),
        keys: keysOf(domainSeen, domainUsers),
      };
      return {
        from: new Date(ORIGIN + from).toISOString(),
        to: new Date(ORIGIN + to).toISOString(),
        domain: domainStats,
        legacy: {
          ...implStats(rng, legacy, s.errorRate.legacy, healthyProbs, s.buckets),
          keys: keysOf(legacySeen, legacyUsers),
        },
      };
    },
  };
}
