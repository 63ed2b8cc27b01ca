import { planSchema } from '../../src/plan/schema';
import type { GroupSample, ImplStats } from '../../src/judge/samples';
import {
  alternativeRates,
  logLikelihoodRatio,
  startSequential,
  stepSequential,
  threshold,
  type SequentialSettings,
} from '../../src/judge/sequential';
import { bucketOfRank, bucketQuantileInterval, normalQuantile } from '../../src/judge/statistics';
import {
  effectiveRequests,
  shareFigures,
  judgeCheck,
  judgeWindowEnd,
  lookAlpha,
  nullRate,
  p95BucketWarning,
  sampleShortfall,
  startJudge,
  type JudgeContext,
  type JudgeState,
} from '../../src/judge/window-judge';
import { seedPlan } from '../helpers/workflow-harness';
import { createRandom } from '../../src/simulate/random';
import { DEFAULT_LATENCY, startTraffic } from '../../src/simulate/traffic-model';

const t = planSchema.parse(seedPlan()).defaults.thresholds;
const BACKEND_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Requests spread over latencies `[count, seconds]`, on the given bucket bounds. */
function stats(
  latencies: Array<[number, number]>,
  errors = 0,
  clientErrors = 0,
  bounds = BACKEND_BOUNDS,
  keys?: number,
): ImplStats {
  const requests = latencies.reduce((n, [c]) => n + c, 0);
  return {
    requests,
    errors,
    successes: requests - errors - clientErrors,
    buckets: bounds.map(
      (le) => [le, latencies.filter(([, l]) => l <= le).reduce((n, [c]) => n + c, 0)] as [number, number],
    ),
    ...(keys === undefined ? {} : { keys }),
  };
}
const sample = (domain: ImplStats, legacy: ImplStats): GroupSample => ({ from: '', to: '', domain, legacy });
const ctx = (patch: Partial<JudgeContext> = {}): JudgeContext => ({
  percent: 5,
  thresholds: t,
  checks: ['errorRate', 'successRate', 'p95', 'servedShare'],
  baseline: null,
  plannedLooks: 360 * 4,
  continuousLooks: 8640,
  lookbackChecks: 12,
  ...patch,
});
/** Feeds the same check `times` times; returns the last judgement and when a rollback came. */
function feed(s: GroupSample, times: number, c = ctx()) {
  let state: JudgeState = startJudge(t);
  for (let i = 1; i <= times; i++) {
    const j = judgeCheck(state, s, c);
    state = j.state;
    const rollback = j.rollbacks[0];
    if (rollback) return { state, at: i, rollback };
  }
  return { state, at: null, rollback: undefined };
}

describe('sequential test', () => {
  const settings: SequentialSettings = {
    p0: 0.01,
    rollback: 0.05,
    alpha: 0.0004,
    plannedLooks: 1440,
    continuousLooks: 8640,
  };

  test('alternatives are twice and six times the rollback bar, capped below 1', () => {
    expect(alternativeRates(0.05)).toEqual([0.1, 0.3]);
    expect(alternativeRates(0.2)).toEqual([0.4, 0.9]);
    expect(alternativeRates(0.5)).toEqual([0.9]);
  });

  test.each([
    // [bad, n, p0, p1, log ratio]
    [0, 0, 0.01, 0.1, 0],
    [1, 1, 0.01, 0.1, Math.log(10)],
    [0, 1, 0.01, 0.1, Math.log(0.9 / 0.99)],
    [10, 100, 0.01, 0.1, 10 * Math.log(10) + 90 * Math.log(0.9 / 0.99)],
  ])('log likelihood ratio of %i bad of %i, %p vs %p', (bad, n, p0, p1, expected) => {
    expect(logLikelihoodRatio({ n, bad }, p0, p1)).toBeCloseTo(expected, 10);
  });

  test.each([
    // [look, planned looks, threshold]
    [1, 1440, Math.log((2 * 1440 * 2) / 0.0004)],
    [1440, 1440, Math.log((2 * 1440 * 2) / 0.0004)],
    [2880, 1440, Math.log((2 * 1440 * 2) / 0.0004) + 2 * Math.log(2)],
  ])('threshold at look %i of %i planned', (look, planned, expected) => {
    expect(threshold(look, 2, { ...settings, plannedLooks: planned })).toBeCloseTo(expected, 10);
  });

  test('the threshold spends at most α over any number of looks (Σ e^-h ≤ α/m per alternative)', () => {
    for (const planned of [1, 180, 1440, null]) {
      const s = { ...settings, plannedLooks: planned, continuousLooks: 100 };
      let spent = 0;
      for (let k = 1; k <= 1_000_000; k++) spent += Math.exp(-threshold(k, 2, s)) * 2;
      expect(spent).toBeLessThanOrEqual(settings.alpha);
      expect(spent).toBeGreaterThan(settings.alpha * 0.8);
    }
  });

  test('a healthy run stays at 0; a fault from any moment on is judged on its own requests', () => {
    let state = startSequential(0.05);
    for (let i = 0; i < 100; i++)
      state = stepSequential(state, { n: 25, bad: 0 }, { n: 475, bad: 2 }, settings).state;
    expect(state.alternatives.map((a) => a.s)).toEqual([0, 0]);
    let alarmAt = 0;
    for (let i = 1; i <= 20 && !alarmAt; i++) {
      const step = stepSequential(state, { n: 25, bad: 5 }, { n: 475, bad: 2 }, settings);
      state = step.state;
      if (step.alarm) {
        alarmAt = i;
        expect(step.alarm.domain).toEqual({ n: 25 * i, bad: 5 * i });
        expect(step.alarm.legacy).toEqual({ n: 475 * i, bad: 2 * i });
        expect(step.alarm.since).toBe(100);
      }
    }
    // 20% errors: each check adds ~5·ln(30) + 20·ln(0.7/0.99) ≈ 10 to the 30% alternative.
    expect(alarmAt).toBe(2);
  });
});

describe('statistics that claim no more than the buckets know', () => {
  const buckets: Array<[number, number]> = [
    [0.05, 50],
    [0.1, 90],
    [0.25, 100],
  ];
  test.each([
    [0, { low: 0, high: 0 }],
    [1, { low: 0, high: 0.05 }],
    [50, { low: 0, high: 0.05 }],
    [51, { low: 0.05, high: 0.1 }],
    [95, { low: 0.1, high: 0.25 }],
    [101, { low: 0.25, high: Infinity }],
  ])('the observation of rank %i lies in %j', (rank, expected) => {
    expect(bucketOfRank(rank, buckets)).toEqual(expected);
  });

  test('a quantile interval spans whole buckets, and runs to infinity past the data', () => {
    // P95 of 100: ranks 95 ∓ 2·√4.75 ≈ 90.6..99.4 → 90 and 100: the 0.05–0.1 and 0.1–0.25 buckets.
    expect(bucketQuantileInterval(0.95, buckets, 100, 2)).toEqual({ low: 0.05, high: 0.25 });
    // At z = 6 the high rank passes the 100th observation: nothing bounds it.
    expect(bucketQuantileInterval(0.95, buckets, 100, 6)!.high).toBe(Infinity);
    expect(bucketQuantileInterval(0.95, buckets, 0, 2)).toBeNull();
  });

  test.each([
    [0.5, 0],
    [0.975, 1.959964],
    [0.999, 3.090232],
    [1 - 1e-9, 5.997807],
    [0.01, -2.326348],
  ])('normalQuantile(%p) = %p', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 5);
  });
});

describe('rates: sequential rollback, legacy as the reference', () => {
  const latency: Array<[number, number]> = [[1, 0.04]];
  const at = (n: number): Array<[number, number]> => latency.map(([, l]) => [n, l]);

  test.each([
    // [domain errors of 25 per check, legacy errors of 475, checks, rollback expected at, trigger]
    [0, 2, 360, null, undefined],
    [1, 2, 360, null, undefined], // 4%: below the rollback bar, never clearly above it
    // 12%: tested against the 5% bar, not the 1% target (a canary between them must not roll back);
    // Wald's SPRT of 12% against 5% at this budget needs about 8 checks of 25 requests; the test
    // from the window's start (no start points to pay for) takes 12, the CUSUM alone took 19.
    [3, 2, 360, 12, 'errorRate'],
    [13, 2, 360, 1, 'errorRate'], // 52%: the first check
  ])(
    '%i/25 domain errors per check (legacy %i/475): rollback at check %p',
    (de, le, checks, expectedAt, trigger) => {
      const r = feed(sample(stats(at(25), de), stats(at(475), le)), checks);
      expect(r.at).toBe(expectedAt);
      expect(r.rollback?.trigger).toBe(trigger);
    },
  );

  test('a rollback reason says what the test saw and how legacy fares', () => {
    const r = feed(sample(stats(at(25), 13), stats(at(475), 2)), 5);
    expect(r.rollback!.reason).toMatch(
      /^domain error rate 52\.00% \(13\/25 over the last 1 checks\), above the rollback bar 5\.00% by a sequential test/,
    );
    expect(r.rollback!.reason).toMatch(/legacy 0\.42% over the same checks \(legacy is fine\)$/);
    // The figure the check's headline shows is the rate the test saw.
    expect(r.rollback!.figures).toMatchObject({ errorRate: 0.52, samples: 25 });
    // Legacy at 8% in the same checks (past the bar too), the domain at 52%: clearly worse, rolled back.
    const both = feed(sample(stats(at(25), 13), stats(at(475), 38)), 5);
    expect(both.rollback!.reason).toMatch(/legacy fails too/);
    // Legacy at 42% in the same checks, the domain at 52%: both fail alike, the canary is not
    // clearly worse than its concurrent control: no rollback for it.
    const alike = feed(sample(stats(at(25), 13), stats(at(475), 200)), 5);
    expect(alike.rollback).toBeUndefined();
  });

  test.each([
    // [legacy counts, null rate]
    [null, 0.05], // the rollback bar
    [{ n: 100_000, bad: 500 }, 0.05], // legacy healthy: the bar
    [{ n: 100_000, bad: 4500 }, 0.05], // legacy at 4.5%, below the bar: the bar
    [{ n: 60, bad: 0 }, 0.05], // a few healthy legacy requests (upper bound 6%): the bar, not their bound
    [{ n: 100_000, bad: 6000 }, 0.0615], // legacy at 6%, worse than the bar: its upper bound
    [{ n: 100_000, bad: 20_000 }, 0.05 * Math.SQRT2], // never above the middle of the bar and 2× the bar
  ])('null rate with legacy %j', (legacy, expected) => {
    expect(nullRate(0.05, legacy)).toBeCloseTo(expected, 3);
  });

  test.each([
    // A canary between the target (1%) and the bar (5%), steady for an 8-hour window of 10 s checks
    // at 50 requests/s and 10%: never rolled back by the rules; it holds at the window's end.
    [0.02],
    [0.03],
    [0.045],
  ])('a steady %p canary between the bars is never rolled back; it holds at the end', (p) => {
    const n = 50; // 10% of 50 requests/s over 10 s
    const c = ctx({ percent: 10, plannedLooks: 2880 * 4 });
    let state = startJudge(c.thresholds);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let k = 0; k < 2880; k++) {
      let bad = 0;
      for (let i = 0; i < n; i++) if (rand() < p) bad++;
      const judged = judgeCheck(state, sample(stats(at(n), bad), stats(at(450), 2)), c);
      expect(judged.rollbacks).toEqual([]);
      state = judged.state;
    }
    const end = judgeWindowEnd(state, c, true).find((x) => x.check === 'errorRate')!;
    expect(end.verdict).toBe('hold');
  });

  test.each([
    // [domain errors, legacy errors (of 10x the requests), verdict, reason]
    [5, 50, 'pass', /within target/],
    [150, 1500, 'hold', /^legacy 1\.5%, domain 1\.5%: not the canary/],
    [300, 50, 'hold', /domain error rate 3\.00% .*legacy 0\.05%.*: above target 1\.00%$/],
  ])('window end with %i/10000 domain and %i/100000 legacy errors → %s', (de, le, verdict, reason) => {
    const s = feed(sample(stats(at(10_000), de), stats(at(100_000), le)), 1, ctx({ percent: 10 })).state;
    const r = judgeWindowEnd(s, ctx({ percent: 10 })).find((x) => x.check === 'errorRate')!;
    expect(r.verdict).toBe(verdict);
    expect(r.reason).toMatch(reason);
  });

  test('at 100% the baseline stands in for legacy', () => {
    const baseline = stats(at(5000), 75);
    const c = ctx({ percent: 100, baseline });
    const s = feed(sample(stats(at(10_000), 150), stats([], 0)), 1, c).state;
    expect(judgeWindowEnd(s, c).find((x) => x.check === 'errorRate')!.reason).toMatch(
      /^legacy before the first step 1\.5%, domain 1\.5%: not the canary/,
    );
  });
});

describe('P95 from buckets', () => {
  const fine = Array.from({ length: 200 }, (_, i) => Number((0.002 * 1.03 ** i).toPrecision(4)));
  // Legacy: 90% at 20ms, 10% at 91ms, so its P95 is 91ms. Domain variants move the slow tenth.
  const legacy = (bounds: number[]) =>
    stats(
      [
        [900, 0.02],
        [100, 0.091],
      ],
      0,
      0,
      bounds,
    );
  const domain = (slow: number, bounds: number[], n = 100) =>
    stats(
      [
        [n * 0.9, 0.02],
        [n * 0.1, slow],
      ],
      0,
      0,
      bounds,
    );

  test.each([
    // [name, domain slow-tail seconds, bounds, checks, rollback?]
    ['+40% with the backend buckets', 0.127, BACKEND_BOUNDS, 360, false],
    ['+25% with the backend buckets', 0.114, BACKEND_BOUNDS, 360, false],
    ['+40% with fine buckets', 0.127, fine, 360, false],
    ['+60% with fine buckets', 0.146, fine, 360, true],
    ['+175% with the backend buckets', 0.4, BACKEND_BOUNDS, 360, true],
  ])('%s: rollback %p', (_name, slow, bounds, checks, expected) => {
    const r = feed(sample(domain(slow, bounds), legacy(bounds)), checks, ctx({ checks: ['p95'] }));
    expect(r.rollback !== undefined).toBe(expected);
    if (expected) expect(r.rollback!.trigger).toBe('p95');
  });

  test('the buckets say when they cannot show the threshold, and which bounds would', () => {
    const warning = p95BucketWarning(legacy(BACKEND_BOUNDS), t);
    expect(warning).toBe(
      'P95 ≈ 75.0ms sits in the 50.0ms–100.0ms bucket: buckets cannot show +50.00% here (a domain P95 must pass 250.0ms, +233.33%); add bounds such as 0.054, 0.059, 0.064, 0.0691, 0.0746, 0.0806, 0.0871, 0.094, 0.11, 0.118, 0.128, 0.138, 0.149, 0.161',
    );
    expect(p95BucketWarning(legacy(fine), t)).toBeNull();
  });

  test('over the threshold by the point estimate but buckets too coarse: inconclusive with that reason', () => {
    const s = feed(
      sample(domain(0.2, BACKEND_BOUNDS, 1000), legacy(BACKEND_BOUNDS)),
      1,
      ctx({ checks: ['p95'] }),
    ).state;
    const r = judgeWindowEnd(s, ctx({ checks: ['p95'] }))[0];
    expect(r.verdict).toBe('inconclusive');
    expect(r.reason).toMatch(/buckets cannot show \+50\.00% here.*add bounds such as 0\.054, 0\.059, .*, 0\.161$/);
  });
});

describe('served share with sticky routing', () => {
  test.each([
    // [domain, legacy, keys (domain, legacy), plan routing, basis, judged share, verdict]
    [10000, 90000, undefined, undefined, 'requests', 0.1, 'pass'],
    // Heavy users pinned to domain: 13% of requests, but 10% of the 2,000 keys the router decided.
    [13000, 87000, [200, 1800], undefined, 'keys', 0.1, 'pass'],
    // A router that pins 14% of keys where 10% is due: 280 of 2,000, four standard deviations.
    [14000, 86000, [280, 1720], undefined, 'keys', 0.14, 'hold'],
    // Too few keys to judge them: the requests.
    [1300, 8700, [20, 20], undefined, 'requests', 0.13, 'hold'],
    // Sticky without keys: 17.6% (the busiest user pinned to domain) is within 3× of 10%.
    [17600, 82400, undefined, 'sticky', 'sticky', 0.176, 'pass'],
    // …and 0% served where 10% is due is not.
    [0, 100000, undefined, 'sticky', 'sticky', 0, 'hold'],
    [35000, 65000, undefined, 'sticky', 'sticky', 0.35, 'hold'],
  ] as const)('%i/%i requests, keys %j, routing %s: judged by %s at %p, %s', (d, l, keys, routing, basis, share, verdict) => {
    const c = ctx({
      percent: 10,
      checks: ['servedShare'],
      thresholds: { ...t, servedShare: { tolerance: 0.1, ...(routing ? { routing } : {}) } },
    });
    const w = sample(
      { ...stats([[d, 0.02]]), ...(keys ? { keys: keys[0] } : {}) },
      { ...stats([[l, 0.02]]), ...(keys ? { keys: keys[1] } : {}) },
    );
    const state = feed(w, 1, c).state;
    const f = shareFigures(state, c, 1.96);
    expect(f.basis).toBe(basis);
    expect(f.share).toBeCloseTo(share, 6);
    const r = judgeWindowEnd(state, c)[0];
    expect(r.verdict).toBe(verdict);
    if (basis === 'sticky') expect(r.reason).toMatch(/sticky routing without routing keys, so the ±10% band cannot be judged/);
  });

  test('check-to-check spread beyond a coin toss widens the interval when no key figure exists', () => {
    const shares: Array<[number, number]> = [
      [10, 500],
      [40, 500],
      [5, 500],
      [45, 500],
      [25, 500],
      [25, 500],
    ];
    const w = sample(stats([[150, 0.02]]), stats([[2850, 0.02]]));
    const eff = effectiveRequests(w, shares);
    expect(eff.dispersion).toBeGreaterThan(5);
    expect(eff.n).toBeLessThan(3000 / 5);
  });

  test('2,000 sticky users of which 118 (5.9%) happen to land on domain at 5%: no rollback, a pass', () => {
    // Realized share 5.9% is outside the ±10% band (4.5–5.5%) as a share of requests, not as a share of 2,000 users.
    const c = ctx({ checks: ['servedShare'] });
    const s = sample(
      stats([[59, 0.02]], 0, 0, BACKEND_BOUNDS, 118),
      stats([[941, 0.02]], 0, 0, BACKEND_BOUNDS, 1882),
    );
    const r = feed(s, 360, c);
    expect(r.rollback).toBeUndefined();
    expect(judgeWindowEnd(r.state, c)[0].verdict).toBe('pass');
    // The same counts without a key figure: per request, 5.9% of 360,000 is far outside the band;
    // a served share out of its band holds (the seed lists it as a thing to verify), never rolls back.
    const perRequest = sample(stats([[59, 0.02]]), stats([[941, 0.02]]));
    const held = feed(perRequest, 360, c);
    expect(held.rollback).toBeUndefined();
    expect(judgeWindowEnd(held.state, c)[0].verdict).toBe('hold');
  });

  test('a plan that opts in (rollbackFactor) rolls back a gross mismatch, and only that', () => {
    const opted = ctx({ checks: ['servedShare'], thresholds: { ...t, servedShare: { tolerance: 0.1, rollbackFactor: 3 } } });
    // 60% served where 5% is configured: twelve times.
    const gross = sample(stats([[600, 0.02]]), stats([[400, 0.02]]));
    expect(feed(gross, 360, opted).rollback?.reason).toMatch(/beyond 3× the configured share \(1\.67%–15\.00%\) beyond doubt/);
    // 5.9% where 5% is configured: out of the band, not gross.
    expect(feed(sample(stats([[59, 0.02]]), stats([[941, 0.02]])), 360, opted).rollback).toBeUndefined();
  });

  test('a router that sends half the configured share, a plan opting in at 1.5×: rolled back with 20,000 sticky users, held with 2,000', () => {
    const c = ctx({ checks: ['servedShare'], thresholds: { ...t, servedShare: { tolerance: 0.1, rollbackFactor: 1.5 } } });
    const many = sample(
      stats([[25, 0.02]], 0, 0, BACKEND_BOUNDS, 500),
      stats([[975, 0.02]], 0, 0, BACKEND_BOUNDS, 19500),
    );
    expect(feed(many, 360, c).rollback?.trigger).toBe('servedShare');
    // 50 of 2,000 users where 100 ± 10 were due: 4 standard deviations, short of the rollback budget's
    // z ≈ 5.5, but clear enough to stop at the window's end.
    const few = sample(
      stats([[25, 0.02]], 0, 0, BACKEND_BOUNDS, 50),
      stats([[975, 0.02]], 0, 0, BACKEND_BOUNDS, 1950),
    );
    const r = feed(few, 360, c);
    expect(r.rollback).toBeUndefined();
    expect(judgeWindowEnd(r.state, c)[0].verdict).toBe('hold');
  });
});

describe('too few samples', () => {
  test('a shortfall is named when it is the only trouble, and only then', () => {
    const c = ctx();
    const few = feed(sample(stats([[30, 0.02]]), stats([[600, 0.02]])), 1, c).state;
    const results = judgeWindowEnd(few, c);
    expect(sampleShortfall(results)).toBe('30 of 50 domain requests');
    const withHold = [
      ...results,
      { check: 'errorRate' as const, verdict: 'hold' as const, reason: 'x', figures: {} },
    ];
    expect(sampleShortfall(withHold)).toBeNull();
    const enough = feed(sample(stats([[60, 0.02]]), stats([[1140, 0.02]])), 1, c).state;
    expect(sampleShortfall(judgeWindowEnd(enough, c))).toBeNull();
  });

  test('no traffic at all is a shortfall too', () => {
    expect(sampleShortfall(judgeWindowEnd(startJudge(t), ctx()))).toBe('no measured traffic');
  });
});

test('the budget of a look: α/(2K) within the plan, then K/(2k²) shares', () => {
  expect(lookAlpha(0.001, 1, ctx({ plannedLooks: 100 }))).toBeCloseTo(0.001 / 200, 12);
  expect(lookAlpha(0.001, 200, ctx({ plannedLooks: 100 }))).toBeCloseTo((0.001 * 100) / (2 * 200 * 200), 12);
  let spent = 0;
  for (let k = 1; k <= 1_000_000; k++) spent += lookAlpha(0.001, k, ctx({ plannedLooks: 100 }));
  expect(spent).toBeLessThanOrEqual(0.001);
});

describe('above target, below the rollback bar: said at once, held at the end', () => {
  const latency: Array<[number, number]> = [[1, 0.04]];
  const at = (n: number): Array<[number, number]> => latency.map(([, l]) => [n, l]);
  test.each([
    // [domain error rate, a notice expected]
    [0.005, false],
    [0.03, true],
    [0.045, true],
  ])('a steady %p canary at 50 requests/s: notice %p, within the first quarter of an 8h window, never a rollback', (p, expected) => {
    const c = ctx({ percent: 10, plannedLooks: 2880 * 4 });
    let state = startJudge(c.thresholds);
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const notices: Array<{ look: number; reason: string }> = [];
    for (let k = 1; k <= 2880; k++) {
      let bad = 0;
      for (let i = 0; i < 50; i++) if (rand() < p) bad++;
      const judged = judgeCheck(state, sample(stats(at(50), bad), stats(at(450), 2)), c);
      expect(judged.rollbacks).toEqual([]);
      for (const n of judged.notices) if (n.check === 'errorRate') notices.push({ look: k, reason: n.reason });
      state = judged.state;
    }
    if (!expected) return expect(notices).toEqual([]);
    expect(notices).toHaveLength(1); // once per window
    expect(notices[0].look).toBeLessThanOrEqual(720);
    expect(notices[0].reason).toMatch(/above target 1\.00%, below the rollback bar 5\.00%: this step will hold at its end/);
  });
});

describe('bursts are not evidence against the canary', () => {
  const latency: Array<[number, number]> = [[1, 0.04]];
  const at = (n: number): Array<[number, number]> => latency.map(([, l]) => [n, l]);
  test('a burst both implementations see (a downstream hiccup) is not the canary: no rollback, however long', () => {
    const c = ctx({ percent: 10, plannedLooks: 2880 * 4 });
    let state = startJudge(c.thresholds);
    for (let k = 1; k <= 100; k++) {
      const burst = k >= 40 && k < 50; // ten checks at 40% on both sides
      const j = judgeCheck(state, sample(stats(at(50), burst ? 20 : 0), stats(at(450), burst ? 180 : 2)), c);
      expect(j.rollbacks).toEqual([]);
      state = j.state;
    }
  });
  test('the same burst on the canary alone, sustained, still rolls back', () => {
    const c = ctx({ percent: 10, plannedLooks: 2880 * 4 });
    let state = startJudge(c.thresholds);
    let at10: number | null = null;
    for (let k = 1; k <= 100 && at10 === null; k++) {
      const burst = k >= 40 && k < 50;
      const j = judgeCheck(state, sample(stats(at(50), burst ? 20 : 0), stats(at(450), 2)), c);
      if (j.rollbacks.length) at10 = k;
      state = j.state;
    }
    expect(at10).toBe(40);
  });
});

describe('bursts the service has shown before', () => {
  const c = ctx({ percent: 100, plannedLooks: 360, checks: ['errorRate'] });
  /** Four hours of a service at 0.4% with a 3-check burst at 8.4% every 100 checks (or none). */
  function learned(bursts: boolean): JudgeState {
    let s: JudgeState = startJudge(t);
    for (let i = 0; i < 1440; i++) {
      const bad = bursts && i % 100 < 3 ? 42 : 2;
      s = judgeCheck(s, sample(stats([[500, 0.05]], bad), stats([[500, 0.05]], 2)), c).state;
    }
    return startJudge(t, s);
  }
  /** 30 quiet checks, a burst of `checks` checks at 8.4% of 500 requests each, then quiet: whether it rolled back. */
  function burst(from: JudgeState, checks: number): boolean {
    let s = from;
    for (let i = 0; i < checks + 60; i++) {
      const bursting = i >= 30 && i < 30 + checks;
      const j = judgeCheck(s, sample(stats([[500, 0.05]], bursting ? 42 : 2), stats([[500, 0.05]], 2)), c);
      if (j.rollbacks.length) return true;
      s = j.state;
    }
    return false;
  }
  test.each([
    // [bursts seen before, burst length in checks, rolled back]
    [false, 3, false],
    [false, 6, true], // never seen one: six checks at 8.4% are evidence of a fault
    [true, 6, false], // seen one every 100 checks: the same six checks are the service's way
    [true, 12, false],
  ])('bursts seen before %p, a burst of %p checks: rolled back %p', (seen, checks, rolled) => {
    expect(burst(learned(seen), checks)).toBe(rolled);
  });

  test('a fault outlasts any burst the service has shown: rolled back all the same, later than in a quiet service', () => {
    let s = learned(true);
    let at = 0;
    for (let i = 1; i <= 360 && !at; i++) {
      const j = judgeCheck(s, sample(stats([[500, 0.05]], 50), stats([[500, 0.05]], 2)), c);
      if (j.rollbacks.length) at = i;
      s = j.state;
    }
    // 10% errors: two checks in a quiet service; here, 3% of whose checks burst to 8.4%, about 12
    // minutes (the price of not taking a 12-check burst for a fault).
    expect(at).toBeGreaterThan(2);
    expect(at).toBeLessThan(120);
  });
});

describe('bursts the plan declares (defaults.burstLength)', () => {
  const c = (burstChecks?: number) =>
    ctx({ percent: 100, plannedLooks: 360, checks: ['errorRate'], ...(burstChecks ? { burstChecks } : {}) });
  /** 30 quiet checks at 0.4%, then `checks` checks at `bad` of 500 requests, then quiet: when it rolled back. */
  function run(burstChecks: number | undefined, checks: number, bad: number): number | null {
    let s: JudgeState = startJudge(t);
    for (let i = 1; i <= checks + 90; i++) {
      const bursting = i > 30 && i <= 30 + checks;
      const j = judgeCheck(s, sample(stats([[500, 0.05]], bursting ? bad : 2), stats([[500, 0.05]], 2)), c(burstChecks));
      if (j.rollbacks.length) return i - 30;
      s = j.state;
    }
    return null;
  }
  test.each([
    // [burstLength in checks, excess lasting checks, bad of 500, rolled back at (checks after its onset)]
    [undefined, 4, 60, 1], // 12% of 500: a fault by the counts, rolled back at once
    [6, 4, 60, null], // the plan says bursts last up to 6 checks: this one ended before
    [6, 6, 60, null], // as long as the longest burst declared: still not
    [6, 6, 250, null], // however intense: it ended
    [6, 1000, 60, 7], // a fault: rolled back at the first check past the declared length
    [6, 1000, 250, 7], // a gross fault waits as long: the plan traded that time for quiet nights
    [undefined, 1000, 250, 1],
  ])('burstLength %p checks, an excess of %p checks at %p/500: rolled back at %p', (burst, checks, bad, at) => {
    expect(run(burst, checks, bad)).toBe(at);
  });
  test('the reason says the excess outlasted the declared bursts', () => {
    let s: JudgeState = startJudge(t);
    let reason = '';
    for (let i = 1; i <= 40 && !reason; i++) {
      const j = judgeCheck(s, sample(stats([[500, 0.05]], 60), stats([[500, 0.05]], 2)), c(6));
      reason = j.rollbacks[0]?.reason ?? '';
      s = j.state;
    }
    expect(reason).toMatch(/over the last 7 checks, going on past the plan's burstLength of 6 checks\)/);
  });
  test('the plan field is a bounded duration', () => {
    const with_ = (burstLength: unknown) => planSchema.safeParse({ ...seedPlan(), defaults: { burstLength } });
    expect(with_('1m').success).toBe(true);
    const bad = with_('2h');
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/burstLength/);
  });
});

describe('checks the metrics cannot feed', () => {
  const noHistogram = (n: number, errors = 0): ImplStats => ({ requests: n, errors, successes: n - errors, buckets: [] });
  test.each([
    // [what, domain, legacy, checks, notices expected]
    ['a histogram on both sides', stats([[500, 0.05]]), stats([[500, 0.05]]), ['p95'], []],
    ['no histogram (a router exporter)', noHistogram(500), noHistogram(500), ['p95'], ['p95']],
    ['no histogram, p95 turned off', noHistogram(500), noHistogram(500), ['errorRate'], []],
    [
      'statuses that are neither codes nor classes',
      { ...stats([[500, 0.05]]), successes: 0, unknownStatus: 500 },
      stats([[500, 0.05]]),
      ['errorRate', 'successRate'],
      ['errorRate'],
    ],
  ] as const)('%s: blind notices %j, said once per window', (_what, domain, legacy, checks, expected) => {
    const c = ctx({ checks: [...checks] });
    let state = startJudge(t);
    const said: string[] = [];
    for (let i = 0; i < 3; i++) {
      const j = judgeCheck(state, sample(domain, legacy), c);
      state = j.state;
      said.push(...j.notices.filter((n) => n.kind === 'blind').map((n) => n.check));
      expect(j.rollbacks).toEqual([]);
    }
    expect(said).toEqual([...expected]);
  });

  test('no histogram: the P95 is inconclusive at the end, named with its fix, never a pass', () => {
    const c = ctx({ checks: ['p95'] });
    const r = feed(sample(noHistogram(500), noHistogram(500)), 100, c);
    const end = judgeWindowEnd(r.state, c)[0];
    expect(end.verdict).toBe('inconclusive');
    expect(end.reason).toMatch(/no latency histogram.*checks: \{p95: off\}/);
  });

  test('statuses that are not codes: the rates are inconclusive with the reason, not a 0% success rate', () => {
    const c = ctx({ checks: ['errorRate', 'successRate'] });
    const r = feed(sample({ ...stats([[500, 0.05]]), successes: 0, unknownStatus: 500 }, stats([[500, 0.05]])), 100, c);
    expect(r.rollback).toBeUndefined();
    const end = judgeWindowEnd(r.state, c);
    expect(end.map((x) => x.verdict)).toEqual(['inconclusive', 'inconclusive']);
    expect(end[1].reason).toMatch(/^the success rate cannot be judged: 50000 of 50000 domain requests carry a status label that is neither a code \(503\) nor a class \(5xx\)/);
  });
});

describe('a latency tail heavier than legacy’s, said at once', () => {
  /** Checks of 500 requests at 10% of R50 at 10s, legacy 40 ms median (P95 91 ms), the domain `factor` slower. */
  function firstSlower(factor: number, checks: number, buckets = BACKEND_BOUNDS): number | null {
    const c = ctx({ percent: 50, plannedLooks: checks, checks: ['p95'] });
    const stream = startTraffic(
      {
        rps: 100,
        percent: 50,
        checkIntervalMs: 10_000,
        routing: { kind: 'per-request' },
        errorRate: { legacy: 0.005, domain: 0.005 },
        latency: DEFAULT_LATENCY,
        buckets,
        ...(factor === 1 ? {} : { fault: { startsAtMs: 0, domainErrorRate: 0.005, domainLatencyFactor: factor } }),
      },
      createRandom(`slower-${factor}`),
    );
    let state = startJudge(t);
    for (let i = 1; i <= checks; i++) {
      const j = judgeCheck(state, stream.next(), c);
      state = j.state;
      if (j.notices.some((n) => n.kind === 'slower')) return i;
    }
    return null;
  }
  test.each([
    // [domain latency ×, a notice within (checks), or never in 360]
    [1, null],
    [1.6, 30], // +60%: the default buckets cannot tell it from +150% at a 91 ms P95; the tail says "slower" at once
    [2.5, 10],
  ])('domain latency ×%p: first "slower" notice by check %p', (factor, within) => {
    const at = firstSlower(factor, 360);
    if (within === null) expect(at).toBeNull();
    else {
      expect(at).not.toBeNull();
      expect(at!).toBeLessThanOrEqual(within);
    }
  });
});
