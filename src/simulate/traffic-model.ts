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
  | { kind: 'sticky'; users: number; activity?: Activity };

/**
 * How active the users of sticky routing are. Absent: all equally active. `zipf`: user i (1-based,
 * in an order unrelated to the routing hash) sends a share ∝ i^−exponent of the requests; at
 * exponent 0.9 and 2,000 users the busiest 1% (20 users) send 34% of them and the busiest one
 * 8.4%, so the share served varies as the share of about 76 equally active users would.
 */
export type Activity = { kind: 'zipf'; exponent: number };

/**
 * Errors that come in bursts (per-check rates overdispersed relative to binomial), a two-state
 * model: a check is in a burst or calm; a burst starts at a calm check with a probability set so
 * that `share` of the checks are in one, and ends after each check with probability
 * 1/`meanChecks` (geometric durations). In a burst the rate is `factor` × the base rate; calm
 * checks run at base·(1 − share·factor)/(1 − share), so the rate averages the base rate over the
 * checks (`share·factor` < 1). The first check's state is drawn from the same proportions.
 */
export interface ErrorBursts {
  /** `shared`: one burst state for both implementations (a downstream hiccup); `domain`: the canary's only. */
  scope: 'shared' | 'domain';
  factor: number;
  /** Long-run share of checks in a burst. */
  share: number;
  /** Mean burst length in checks. */
  meanChecks: number;
}

/** The bursts of the bench: ×20 (0.5% → 10%) for 1% of the checks, 3 checks (30 s) at a time. */
export const DEFAULT_BURSTS: Omit<ErrorBursts, 'scope'> = { factor: 20, share: 0.01, meanChecks: 3 };

/**
 * Traffic volume that swings within a window: the request rate is `rps` × a factor between `low`
 * and `high`, repeating every `periodMs`, at a phase drawn per step. `step`: `high` for a part
 * (1 − low)/(high − low) of each period and `low` for the rest, so the factor averages 1 (when
 * low < 1 < high; else half and half); `sine`: low + (high − low)·(1 − cos 2πt/period)/2, whose
 * mean is (low + high)/2.
 */
export interface Swing {
  shape: 'step' | 'sine';
  low: number;
  high: number;
  periodMs: number;
}

/** What the metrics exporter gives besides the counts. Both default to true. */
export interface Exporter {
  /** The `rollout_routing_keys` gauge (`ImplStats.keys`); false: `keys` absent, as most services. */
  keys?: boolean;
  /** A latency histogram; false: `buckets` empty, as HAProxy's exporter gives. */
  histogram?: boolean;
}

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
  /** Adds this many ms to every domain latency (after the factor) while the fault lasts. */
  domainLatencyAddMs?: number;
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
  /** Error bursts; absent: each implementation at its constant rate. */
  bursts?: ErrorBursts;
  /** Volume swings; absent: a constant `rps`. */
  swing?: Swing;
  /** What the exporter gives; absent: keys and histogram. */
  exporter?: Exporter;
}

/** Counts of one check as they would be read, plus what the model knows and the judge does not. */
export interface TrafficStream {
  /** The next check's sample. */
  next(): GroupSample;
  /** Users pinned to the domain side (sticky routing), else `null`. */
  readonly domainUsers: number | null;
  /** Checks drawn so far. */
  readonly checks: number;
  /** Whether the last check drawn was in an error burst; `null` without bursts. */
  readonly burst: boolean | null;
}

/** Time 0 of every simulated step: samples carry real timestamps, as the provider's do. */
const ORIGIN = Date.UTC(2025, 0, 1);

/**
 * Per-bucket probabilities (not cumulative) of a lognormal latency ×`factor`, plus `addMs`, on
 * `buckets`.
 */
export function bucketProbabilities(
  latency: Latency,
  factor: number,
  buckets: readonly number[],
  addMs = 0,
): number[] {
  const mu = Math.log((latency.medianMs * factor) / 1000);
  const add = addMs / 1000;
  let prev = 0;
  return buckets.map((b) => {
    const c = b > add ? normalCdf((Math.log(b - add) - mu) / latency.sigma) : 0;
    const p = Math.max(0, c - prev);
    prev = Math.max(prev, c);
    return p;
  });
}

/** The true P95 of a lognormal latency in ms. */
export function trueP95Ms(latency: Latency, factor = 1, addMs = 0): number {
  return latency.medianMs * factor * Math.exp(1.6448536269514722 * latency.sigma) + addMs;
}

/** Distinct keys among `requests` draws from `users` equally likely users (expected value). */
export function expectedDistinct(users: number, requests: number): number {
  if (users <= 0) return 0;
  return Math.round(users * -Math.expm1(requests * Math.log1p(-1 / users)));
}

/**
 * Distinct keys among `requests` draws from users drawn with probabilities `shares` (summing to
 * 1; expected value): Σ 1 − (1 − sᵢ)^requests.
 */
export function expectedDistinctWeighted(shares: readonly number[], requests: number): number {
  if (requests <= 0) return 0;
  let k = 0;
  for (const s of shares) k -= s >= 1 ? -1 : Math.expm1(requests * Math.log1p(-s));
  return Math.round(k);
}

/**
 * `expectedDistinctWeighted(shares, n)` as a function of n, for a stream whose n only grows:
 * exact up to 100 requests, then interpolated (linearly in ln n) between points 2% apart, each
 * computed once. A step of 2,000 unequal users then costs a few hundred sums instead of one per
 * check; the interpolation is off by far less than one key.
 */
export function distinctCurve(shares: readonly number[]): (requests: number) => number {
  const logs = Float64Array.from(shares, (s) => Math.log1p(-Math.min(s, 1 - 1e-15)));
  const exact = (n: number) => {
    let k = 0;
    for (let i = 0; i < logs.length; i++) k -= Math.expm1(n * logs[i]);
    return k;
  };
  const EXACT_UP_TO = 100;
  const RATIO = Math.log(1.02);
  const memo = new Map<number, number>();
  const at = (j: number) => {
    let v = memo.get(j);
    if (v === undefined) memo.set(j, (v = exact(EXACT_UP_TO * Math.exp(j * RATIO))));
    return v;
  };
  return (n: number) => {
    if (n <= 0) return 0;
    if (n <= EXACT_UP_TO) return Math.round(exact(n));
    const x = Math.log(n / EXACT_UP_TO) / RATIO;
    const j = Math.floor(x);
    return Math.round(at(j) + (at(j + 1) - at(j)) * (x - j));
  };
}

/** The relative activity of `users` users (unnormalized weights, busiest first). */
export function userWeights(users: number, activity?: Activity): number[] {
  return Array.from({ length: users }, (_, i) => (activity ? Math.pow(i + 1, -activity.exponent) : 1));
}

/** The request-rate factor of a swing at `tMs` into its period (phase included by the caller). */
export function swingFactor(swing: Swing, tMs: number): number {
  const x = (((tMs % swing.periodMs) + swing.periodMs) % swing.periodMs) / swing.periodMs;
  if (swing.shape === 'sine')
    return swing.low + ((swing.high - swing.low) * (1 - Math.cos(2 * Math.PI * x))) / 2;
  return x < swingDuty(swing) ? swing.high : swing.low;
}

/** The part of a `step` swing's period at `high`: the factor averages 1 when low < 1 < high. */
export function swingDuty(swing: Swing): number {
  return swing.low < 1 && swing.high > 1 ? (1 - swing.low) / (swing.high - swing.low) : 0.5;
}

/** The mean swing factor over [fromMs, toMs) (exact for both shapes). */
export function meanSwingFactor(swing: Swing, fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return swingFactor(swing, fromMs);
  const P = swing.periodMs;
  // The integral of the factor from 0 to t.
  const integral = (t: number): number => {
    const whole = Math.floor(t / P);
    const r = t - whole * P;
    if (swing.shape === 'sine') {
      const mid = (swing.low + swing.high) / 2;
      const amp = (swing.high - swing.low) / 2;
      return mid * t - (amp * P * Math.sin((2 * Math.PI * r) / P)) / (2 * Math.PI);
    }
    const highMs = swingDuty(swing) * P;
    const perPeriod = swing.high * highMs + swing.low * (P - highMs);
    const part = r < highMs ? swing.high * r : swing.high * highMs + swing.low * (r - highMs);
    return whole * perPeriod + part;
  };
  return (integral(toMs) - integral(fromMs)) / (toMs - fromMs);
}

/**
 * The burst state of error rates over checks (see `ErrorBursts`): `rate(base)` is the rate of
 * an implementation at base rate `base` in the current check; `advance` moves to the next check.
 */
function startBursts(
  b: ErrorBursts,
  rng: Random,
): { shared: boolean; advance(): void; rate(base: number): number; inBurst(): boolean } {
  const end = 1 / Math.max(1, b.meanChecks);
  const start = b.share >= 1 ? 1 : (b.share * end) / (1 - b.share);
  const calm = (1 - b.share * b.factor) / (1 - b.share);
  let burst = rng.next() < b.share;
  return {
    shared: b.scope === 'shared',
    advance() {
      burst = burst ? rng.next() >= end : rng.next() < start;
    },
    rate: (base: number) => Math.min(1, Math.max(0, base * (burst ? b.factor : calm))),
    inBurst: () => burst,
  };
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
 * realized share is fixed for the step and differs from the percent as a share of users does
 * (of the users' requests, when some users are busier than others).
 */
export function startTraffic(s: TrafficSettings, rng: Random): TrafficStream {
  const share = Math.min(1, Math.max(0, Math.ceil(s.percent) / 100));
  const sticky = s.routing.kind === 'sticky' ? s.routing : null;
  const unequal = sticky?.activity ? routeUnequal(sticky.users, sticky.activity, share, rng) : null;
  const domainUsers = sticky ? (unequal ? unequal.domain.length : binomial(rng, sticky.users, share)) : null;
  const legacyUsers = sticky ? sticky.users - domainUsers! : null;
  // The probability of a request going to the domain side: the realized share of users when sticky
  // (of their activity when unequal).
  const domainShare = unequal ? unequal.domainShare : sticky ? domainUsers! / sticky.users : s.percent / 100;
  const keysGauge = s.exporter?.keys ?? true;
  const bounds = (s.exporter?.histogram ?? true) ? s.buckets : [];
  const healthyProbs = bucketProbabilities(s.latency, 1, bounds);
  const faultProbs = bucketProbabilities(
    s.latency,
    s.fault?.domainLatencyFactor ?? 1,
    bounds,
    s.fault?.domainLatencyAddMs ?? 0,
  );
  const lambda = (s.rps * s.checkIntervalMs) / 1000;
  // Drawn only for the new conditions, so the older ones keep their random streams.
  const phaseMs = s.swing ? rng.next() * s.swing.periodMs : 0;
  const bursts = s.bursts ? startBursts(s.bursts, rng) : null;
  let checks = 0;
  let domainSeen = 0;
  let legacySeen = 0;
  let lastBurst: boolean | null = null;
  const distinct = unequal
    ? { domain: distinctCurve(unequal.domain), legacy: distinctCurve(unequal.legacy) }
    : null;

  return {
    get domainUsers() {
      return domainUsers;
    },
    get checks() {
      return checks;
    },
    get burst() {
      return lastBurst;
    },
    next(): GroupSample {
      const from = checks * s.checkIntervalMs;
      if (bursts && checks > 0) bursts.advance();
      checks++;
      const to = checks * s.checkIntervalMs;
      const total = poisson(
        rng,
        s.swing ? lambda * meanSwingFactor(s.swing, from + phaseMs, to + phaseMs) : lambda,
      );
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
      const keysOf = (seen: number, users: number | null, curve: ((n: number) => number) | undefined) =>
        users === null ? seen : curve ? curve(seen) : expectedDistinct(users, seen);
      lastBurst = bursts ? bursts.inBurst() : null;
      const domainRate = bursts ? bursts.rate(s.errorRate.domain) : s.errorRate.domain;
      const legacyRate = bursts?.shared ? bursts.rate(s.errorRate.legacy) : s.errorRate.legacy;
      const h = implStats(rng, healthy, domainRate, healthyProbs, bounds);
      const f = implStats(rng, faulty, s.fault?.domainErrorRate ?? domainRate, faultProbs, bounds);
      const domainStats: ImplStats = {
        requests: domain,
        errors: h.errors + f.errors,
        successes: h.successes + f.successes,
        buckets: h.buckets.map(([le, c], i) => [le, c + f.buckets[i][1]]),
      };
      const legacyStats = implStats(rng, legacy, legacyRate, healthyProbs, bounds);
      if (keysGauge) {
        domainStats.keys = keysOf(domainSeen, domainUsers, distinct?.domain);
        legacyStats.keys = keysOf(legacySeen, legacyUsers, distinct?.legacy);
      }
      return {
        from: new Date(ORIGIN + from).toISOString(),
        to: new Date(ORIGIN + to).toISOString(),
        domain: domainStats,
        legacy: legacyStats,
      };
    },
  };
}

/**
 * Sticky routing of unequally active users: each user to the domain with probability `share`
 * (a uniform bucket below the percent), and each side's users' shares of that side's requests.
 */
function routeUnequal(
  users: number,
  activity: Activity,
  share: number,
  rng: Random,
): { domain: number[]; legacy: number[]; domainShare: number } {
  const weights = userWeights(users, activity);
  const domain: number[] = [];
  const legacy: number[] = [];
  for (const w of weights) (rng.next() < share ? domain : legacy).push(w);
  const sumOf = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
  const d = sumOf(domain);
  const l = sumOf(legacy);
  return {
    domain: domain.map((w) => w / d),
    legacy: legacy.map((w) => w / l),
    domainShare: d / (d + l),
  };
}
