import { planSchema } from '../../src/plan/schema';
import { createRandom, multinomial, type Random } from '../../src/simulate/random';
import { BACKEND_BUCKETS, bucketProbabilities, FINE_BUCKETS } from '../../src/simulate/traffic-model';
import type { ImplStats } from '../../src/judge/samples';
import { judgeP95End, p95BucketWarning, p95Test } from '../../src/judge/p95-judge';
import { BUDGET, P95_END_SHARE } from '../../src/judge/window-judge';
import { seedPlan } from '../helpers/workflow-harness';

const t = planSchema.parse(seedPlan()).defaults.thresholds;
const LATENCY = { medianMs: 40, sigma: 0.5 };

/** `n` lognormal requests (legacy's latency ×`factor`) counted on `bounds`. */
function draw(rng: Random, n: number, factor: number, bounds: readonly number[]): ImplStats {
  const counts = multinomial(rng, n, bucketProbabilities(LATENCY, factor, bounds));
  let cum = 0;
  return {
    requests: n,
    errors: 0,
    successes: n,
    buckets: bounds.map((le, i): [number, number] => [le, (cum += counts[i])]),
  };
}

/** Share of `runs` draws whose evidence reaches `threshold`. */
function alarmRate(
  seed: string,
  runs: number,
  nDomain: number,
  nReference: number,
  factor: number,
  bounds: readonly number[],
  threshold: number,
): number {
  const rng = createRandom(seed);
  let alarms = 0;
  for (let i = 0; i < runs; i++) {
    const test = p95Test(draw(rng, nDomain, factor, bounds), draw(rng, nReference, 1, bounds), t);
    if (test && test.evidence >= threshold) alarms++;
  }
  return alarms / runs;
}

describe('P95 two-sample test', () => {
  test.each([
    // [case, domain requests, reference requests, domain latency factor, bounds, evidence at least, at most]
    ['the same latency', 20_000, 20_000, 1, FINE_BUCKETS, 0, 0.5],
    ['+40%, under the bar', 20_000, 20_000, 1.4, FINE_BUCKETS, 0, 0.5],
    ['+60% with fine buckets', 60_000, 60_000, 1.6, FINE_BUCKETS, 20, Infinity],
    [
      '+60% with fine buckets, fewer requests: some evidence, not proof',
      20_000,
      20_000,
      1.6,
      FINE_BUCKETS,
      2,
      17,
    ],
    [
      '+60% with the backend buckets (nothing shows between 100 and 250 ms)',
      20_000,
      20_000,
      1.6,
      BACKEND_BUCKETS,
      0,
      0.5,
    ],
    ['+250% with the backend buckets', 5_000, 5_000, 3.5, BACKEND_BUCKETS, 10, Infinity],
  ])('%s', (_name, nd, nr, factor, bounds, least, most) => {
    const test = p95Test(
      draw(createRandom(`p95-${factor}`), nd, factor, bounds),
      draw(createRandom('ref'), nr, 1, bounds),
      t,
    )!;
    expect(test.evidence).toBeGreaterThanOrEqual(least);
    expect(test.evidence).toBeLessThanOrEqual(most);
  });

  test('counts at bucket bounds only, with the reference bound allowed no higher than the domain bound', () => {
    const test = p95Test(
      draw(createRandom('a'), 5000, 1.6, FINE_BUCKETS),
      draw(createRandom('b'), 5000, 1, FINE_BUCKETS),
      t,
    )!;
    expect(FINE_BUCKETS).toContain(test.domainBound);
    expect(FINE_BUCKETS).toContain(test.referenceBound);
    expect(test.referenceBound! * 1.5).toBeLessThanOrEqual(test.domainBound + 1e-12);
  });

  test('no reference bound fits under the domain bound: every reference request counts above, no evidence', () => {
    const stats = (buckets: Array<[number, number]>): ImplStats => ({
      requests: 100,
      errors: 0,
      successes: 100,
      buckets,
    });
    // Legacy all under 100 ms (its next bound 1 s); the domain has a bound at 145 ms, under 1.5 × 100 ms.
    const test = p95Test(
      stats([
        [0.01, 100],
        [0.1, 100],
        [0.145, 100],
        [1, 100],
      ]),
      stats([
        [0.1, 100],
        [1, 100],
      ]),
      t,
    );
    expect(test).toMatchObject({
      domainBound: 0.145,
      referenceBound: null,
      referenceAbove: 100,
      evidence: 0,
    });
  });

  test('a domain far slower, every request in one bucket (300 ms added at a 50% step): evidence beyond doubt', () => {
    const stats = (le: number, n: number): ImplStats => ({
      requests: n,
      errors: 0,
      successes: n,
      buckets: BACKEND_BUCKETS.map((b): [number, number] => [b, b >= le ? n : 0]),
    });
    const test = p95Test(stats(0.5, 1000), stats(0.01, 1000), t)!;
    expect(test).toMatchObject({ domainAbove: 1000, referenceAbove: 0 });
    expect(test.evidence).toBeGreaterThan(100);
  });

  // Seen in a rollout through HAProxy (test/e2e/routers.e2e.test.ts): OpenTelemetry's bounds, both
  // P95s 4.8 ms, a 100 ms floor, and 7 of the domain's 2,277 requests over 250 ms (a pause of the
  // domain's process), none of legacy's over 100 ms.
  describe('a floor many times the P95: a few slow domain requests are not a P95 over the bar', () => {
    const OTEL = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    const floor = { ...t, p95Increase: { rollback: 0.5, minDeltaMs: 100 } };
    /** `fast` requests under 5 ms (of them, 5% between 5 and 10 ms) and `slow` ones between 250 and 500 ms. */
    const stats = (fast: number, slow: number): ImplStats => {
      const n = fast + slow;
      const under5 = Math.round(fast * 0.951);
      return {
        requests: n,
        errors: 0,
        successes: n,
        buckets: OTEL.map((le): [number, number] => [le, le < 0.01 ? under5 : le < 0.5 ? fast : n]),
      };
    };

    test('7 slow of 2,277: no evidence, and the window passes', () => {
      const domain = stats(2270, 7);
      const legacy = stats(2277, 0);
      expect(p95Test(domain, legacy, floor)).toMatchObject({ domainAbove: 7, referenceAbove: 0, evidence: 0 });
      const sample = { from: '', to: '', domain, legacy };
      const end = judgeP95End(sample, { stats: legacy, label: 'legacy' }, floor, { legacyShort: false, rollbackAt: 12.5 });
      expect(end.verdict).toBe('pass');
    });

    test("8% slow: the domain's own tail allows a P95 over the bar, the evidence counts", () => {
      const test = p95Test(stats(2100, 183), stats(2277, 0), floor)!;
      expect(test.evidence).toBeGreaterThan(100);
    });
  });

  test('no requests on either side: no test', () => {
    const none: ImplStats = { requests: 0, errors: 0, successes: 0, buckets: [[0.1, 0]] };
    expect(p95Test(none, draw(createRandom('c'), 100, 1, FINE_BUCKETS), t)).toBeNull();
  });

  // The promise: at a domain P95 exactly on the bar (+50%), evidence ≥ ln(1/α) comes no more often
  // than α, at a handful of requests (where a normal approximation would fail) as at many.
  test.each([
    // [domain requests, reference requests, α]
    [50, 450, 0.05],
    [200, 200, 0.05],
    [5_000, 45_000, 0.05],
    [50, 450, 0.005],
    [2_000, 2_000, 0.005],
  ])('on the bar, %p vs %p requests: alarms at most α = %p', (nd, nr, alpha) => {
    const rate = alarmRate(`bar-${nd}-${alpha}`, 2000, nd, nr, 1.5, FINE_BUCKETS, Math.log(1 / alpha));
    expect(rate).toBeLessThanOrEqual(alpha);
  });

  test('over the bar the same threshold alarms: +80% at 5,000 vs 5,000 requests, α = 0.005', () => {
    expect(alarmRate('over', 300, 5000, 5000, 1.8, FINE_BUCKETS, Math.log(1 / 0.005))).toBeGreaterThan(0.99);
  });

  test("at the window's end the budget kept for that look rolls back what the checks could not", () => {
    // A 10% step of 30 minutes at 50 requests/s: 9,000 domain and 81,000 legacy requests, +60%.
    const sample = {
      from: '',
      to: '',
      domain: draw(createRandom('end-d1'), 9000, 1.6, FINE_BUCKETS),
      legacy: draw(createRandom('end-l1'), 81_000, 1, FINE_BUCKETS),
    };
    const ref = { stats: sample.legacy, label: 'legacy' };
    const evidence = p95Test(sample.domain, sample.legacy, t)!.evidence;
    const atEnd = Math.log(1 / (t.falseRollback! * BUDGET.p95 * P95_END_SHARE));
    const atCheck = Math.log(2 / ((t.falseRollback! * BUDGET.p95 * (1 - P95_END_SHARE)) / (2 * 720)));
    expect(evidence).toBeGreaterThan(atEnd);
    expect(evidence).toBeLessThan(atCheck);
    const end = judgeP95End(sample, ref, t, { legacyShort: false, rollbackAt: atEnd });
    expect(end).toMatchObject({ verdict: 'rollback', trigger: 'p95' });
    expect(end.reason).toMatch(
      /over \+50\.00% by a two-sample test at the window's end \(evidence [\d.]+ ≥ 9\.9\)/,
    );
    // What a check shows of the same window: probably over, a hold, not a rollback.
    expect(judgeP95End(sample, ref, t, { legacyShort: false, rollbackAt: null }).verdict).toBe('hold');
  });
});

describe('a P95 that cannot be seen is never a pass', () => {
  const t = planSchema.parse(seedPlan()).defaults.thresholds;
  const counts = (requests: number, buckets: Array<[number, number]>) => ({ requests, errors: 0, successes: requests, buckets });
  test.each<[string, Array<[number, number]>, Array<[number, number]>, RegExp]>([
    // A router's exporter (HAProxy): request counts, no histogram, and a domain 200 ms slower.
    ['no histogram on either side', [], [], /no latency histogram in the metrics of domain's requests/],
    ['no histogram on legacy', [[0.1, 1000]], [], /no latency histogram in the metrics of legacy's requests/],
    ['every request past the top bound on both sides', [[0.1, 0]], [[0.1, 0]], /every domain request is above the highest bucket bound \(100\.0ms\)/],
  ])('%s: inconclusive, naming what is missing and how to turn the check off', (_name, domain, legacy, reason) => {
    const sample = { from: '', to: '', domain: counts(1000, domain), legacy: counts(9000, legacy) };
    const r = judgeP95End(sample, { stats: sample.legacy, label: 'legacy' }, t, { legacyShort: false, rollbackAt: null });
    expect(r.verdict).toBe('inconclusive');
    expect(r.reason).toMatch(reason);
    expect(r.reason).toMatch(/checks: \{p95: off\}/);
  });
});

describe('the bounds a bucket warning suggests are enough', () => {
  const OTEL = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
  const plan = (minDeltaMs: number) => ({ ...t, p95Increase: { rollback: 0.5, minDeltaMs } });
  it.each([
    // [legacy latency ×, bounds, minDeltaMs]
    [1, BACKEND_BUCKETS, 20], // P95 ≈ 91 ms in 50–100
    [0.35, OTEL, 20], // P95 ≈ 32 ms in 25–50: the OTel buckets a new user had (0.075, 0.1 were suggested, both there)
    [0.6, OTEL, 20],
    [3, BACKEND_BUCKETS, 20],
    [0.35, OTEL, 0],
    [12, OTEL, 100],
    [0.05, BACKEND_BUCKETS, 100], // P95 ≈ 4.9 ms in 0–5 ms with a 100 ms floor: the bar ≈ 105 ms, the next bound 250 ms
  ] as const)('legacy ×%p on %j, minDeltaMs %p: warned, and not once the suggestion is added', (factor, bounds, minDeltaMs) => {
    const rng = createRandom(`suggest/${factor}/${bounds.length}`);
    const before = p95BucketWarning(draw(rng, 20_000, factor, bounds), plan(minDeltaMs));
    expect(before).not.toBeNull();
    const suggested = (/add bounds such as (.*)$/.exec(before!)?.[1] ?? '').split(', ').map(Number);
    expect(suggested.every((b) => b > 0 && !bounds.includes(b))).toBe(true);
    const more = [...bounds, ...suggested].sort((a, b) => a - b);
    expect(p95BucketWarning(draw(rng, 20_000, factor, more), plan(minDeltaMs))).toBeNull();
  });

  test('a P95 the minDeltaMs floor dominates is judged against that floor: no warning where its bar is shown', () => {
    // P95 ≈ 4.9 ms in 0–5 ms with a 100 ms floor: the bar is ≈ 105 ms, and a 150 ms bound is within 1.5× its excess.
    const rng = createRandom('floor');
    const bounds = [...BACKEND_BUCKETS, 0.15].sort((a, b) => a - b);
    expect(p95BucketWarning(draw(rng, 20_000, 0.05, bounds), plan(100))).toBeNull();
  });
});
