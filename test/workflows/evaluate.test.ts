import { planSchema } from '../../src/plan/schema';
import {
  combine,
  evaluateConsistency,
  evaluateErrorRate,
  evaluateP95,
  evaluateServedShare,
  evaluateStage,
  evaluateSuccessRate,
  type TrafficContext,
} from '../../src/workflows/evaluate';
import type { GroupSample, ImplStats } from '../../src/contracts/samples';
import { histogramQuantile, quantileInterval, wilson } from '../../src/workflows/statistics';
import { seedPlan } from '../helpers/workflow-harness';

const thresholds = planSchema.parse(seedPlan()).defaults.thresholds;
const stats = (requests: number, errors = 0, clientErrors = 0, latency = 0.04): ImplStats => ({
  requests,
  errors,
  successes: requests - errors - clientErrors,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1].map(
    (le) => [le, le >= latency ? requests : 0] as [number, number],
  ),
});
const sample = (domain: ImplStats, legacy: ImplStats): GroupSample => ({ from: '', to: '', domain, legacy });
const ctx = (percent: number, baselineP95Ms: number | null = null): TrafficContext => ({
  percent,
  thresholds,
  checks: [],
  baselineP95Ms,
});

test.each([
  // [errors, n, verdict]
  [0, 10, 'inconclusive'], // below minSamples
  [0, 1000, 'pass'],
  [2, 100, 'pass'], // 2% is above target, but not clearly
  [30, 1000, 'hold'], // 3%: clearly above 1%, not clearly above 5%
  [8, 100, 'hold'], // 8% point estimate, interval still reaches below 5%
  [100, 1000, 'rollback'], // 10%: clearly above 5%
  [20, 50, 'rollback'],
])('error rate %i/%i → %s', (errors, n, verdict) => {
  expect(evaluateErrorRate(stats(n, errors), thresholds).verdict).toBe(verdict);
});

test.each([
  [0, 1000, 'pass'],
  [30, 1000, 'hold'], // 97% success
  [200, 1000, 'rollback'], // 80%
  [3, 10, 'inconclusive'],
])('success rate with %i non-2xx of %i → %s', (bad, n, verdict) => {
  const r = evaluateSuccessRate(stats(n, 0, bad), thresholds);
  expect(r.verdict).toBe(verdict);
  if (verdict === 'rollback') expect(r.trigger).toBe('successRate');
});

test.each([
  // domain latency, legacy latency, percent, baseline, verdict
  [0.04, 0.04, 25, null, 'pass'],
  [0.2, 0.04, 25, null, 'rollback'],
  [0.009, 0.004, 25, null, 'pass'], // +125% but under 20ms absolute: noise
  [0.2, 0.04, 100, 40, 'rollback'], // at 100%: against the baseline
  [0.04, 0.04, 100, null, 'inconclusive'], // at 100% with no baseline
])('p95 domain %ss vs legacy %ss at %i%% (baseline %p ms) → %s', (d, l, percent, baseline, verdict) => {
  const legacyN = percent === 100 ? 0 : 1000;
  expect(
    evaluateP95(sample(stats(1000, 0, 0, d), stats(legacyN, 0, 0, l)), ctx(percent, baseline)).verdict,
  ).toBe(verdict);
});

test.each([
  [100, 1000, 10, 'pass'],
  [150, 3000, 10, 'rollback'], // 5% served for 10% configured
  [50, 1000, 10, 'inconclusive'], // the same 5%, not yet beyond doubt for a rollback
  [10, 100, 10, 'pass'],
  [13, 100, 10, 'inconclusive'], // 13% looks off, interval still overlaps 9–11%
  [1000, 1000, 100, 'pass'],
  [2, 20, 10, 'inconclusive'], // too few requests
])('served share %i/%i at %i%% → %s', (domain, n, percent, verdict) => {
  expect(evaluateServedShare(sample(stats(domain), stats(n - domain)), ctx(percent)).verdict).toBe(verdict);
});

test('a served share that is not yet clear shows the interval the rollback decision used, which reaches the band', () => {
  // 5% of 1,000 for 10% configured: the 95% interval (3.8%–6.5%) misses the 9%–11% band, the
  // rollback's stricter one does not yet.
  const r = evaluateServedShare(sample(stats(50), stats(950)), ctx(10));
  expect(r.verdict).toBe('inconclusive');
  const m = /the rollback decision's interval ([\d.]+)%–([\d.]+)% still reaches the band/.exec(r.reason);
  expect(m).not.toBeNull();
  expect(Number(m![2])).toBeGreaterThanOrEqual(9);
  expect(r.reason).toMatch(/\(CI 3\.8\d%–6\.5\d%\)/);
});

test('wilson intervals are honest at the edges', () => {
  expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
  const zero = wilson(0, 100);
  expect(zero.low).toBe(0);
  expect(zero.high).toBeCloseTo(0.037, 3);
  const half = wilson(50, 100);
  expect(half.low).toBeCloseTo(0.404, 3);
  expect(half.high).toBeCloseTo(0.596, 3);
});

test('histogram quantile interpolates like PromQL', () => {
  expect(
    histogramQuantile(
      0.95,
      [
        [0.1, 50],
        [0.2, 100],
      ],
      100,
    ),
  ).toBeCloseTo(0.19, 5);
  expect(histogramQuantile(0.5, [[0.1, 100]], 100)).toBeCloseTo(0.05, 5);
  expect(histogramQuantile(0.95, [[0.1, 10]], 100)).toBe(0.1);
  expect(histogramQuantile(0.95, [], 0)).toBeNull();
});

/** A histogram of the given latencies (seconds) on the backend's bucket bounds. */
const observed = (latencies: Array<[number, number]>, errors = 0): ImplStats => {
  const bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const requests = latencies.reduce((n, [count]) => n + count, 0);
  return {
    requests,
    errors,
    successes: requests - errors,
    buckets: bounds.map(
      (le) => [le, latencies.filter(([, l]) => l <= le).reduce((n, [c]) => n + c, 0)] as [number, number],
    ),
  };
};

type P95Case = [string, Array<[number, number]>, Array<[number, number]>, string, string];
const P95_CASES: P95Case[] = [
  // name, domain [count, latency], legacy [count, latency], interval rule, point rule
  ['every domain request slow, 50 of them', [[50, 0.2]], [[950, 0.02]], 'rollback', 'rollback'],
  [
    '3 slow of 50: the P95 is their slowest few',
    [
      [47, 0.02],
      [3, 0.4],
    ],
    [[950, 0.02]],
    'inconclusive',
    'rollback',
  ],
  [
    '3 slow of 1000: P95 unmoved',
    [
      [997, 0.02],
      [3, 0.4],
    ],
    [[9000, 0.02]],
    'pass',
    'pass',
  ],
  [
    '10% slow of 1000: clearly worse',
    [
      [900, 0.02],
      [100, 0.4],
    ],
    [[9000, 0.02]],
    'rollback',
    'rollback',
  ],
  [
    'slow legacy tail in a small legacy sample: no clear gap',
    [[60, 0.1]],
    [
      [55, 0.02],
      [5, 0.2],
    ],
    'pass',
    'pass',
  ],
  ['equal latencies', [[500, 0.02]], [[5000, 0.02]], 'pass', 'pass'],
];

test.each(
  P95_CASES.map(([name, domain, legacy, current, v1]) => [name, current, v1, domain, legacy] as const),
)('p95 with %s → %s (v1, point estimates: %s)', (_name, current, v1, domain, legacy) => {
  const s = sample(observed(domain), observed(legacy));
  const rule = (rules: 'current' | 'v1') => evaluateP95(s, { ...ctx(10), rules });
  expect(rule('current').verdict).toBe(current);
  expect(rule('v1').verdict).toBe(v1);
  if (current === 'rollback') expect(rule('current').trigger).toBe('p95');
});

test('P95 confidence interval: wide at small n, narrowing with more observations, inside the data', () => {
  const wide = quantileInterval(
    0.95,
    [
      [0.02, 47],
      [0.5, 50],
    ],
    50,
  )!;
  expect(wide.low).toBeLessThanOrEqual(0.02); // the bulk: 3 slow requests prove little
  expect(wide.high).toBe(0.5);
  const narrow = quantileInterval(
    0.95,
    [
      [0.02, 9400],
      [0.5, 10000],
    ],
    10000,
  )!;
  expect(narrow.low).toBeGreaterThan(0.02);
  expect(narrow.high).toBeLessThan(0.5);
  expect(narrow.low).toBeLessThanOrEqual(
    histogramQuantile(
      0.95,
      [
        [0.02, 9400],
        [0.5, 10000],
      ],
      10000,
    )!,
  );
  expect(quantileInterval(0.95, [], 0)).toBeNull();
});

// Exact false-alarm odds: the rollback question is asked at every check of every window, so one
// look may raise a false alarm only very rarely. P(rollback) for a true value, summed over every
// possible count of a Binomial(n, p) sample.
const logFactorial = (() => {
  const table = [0];
  for (let i = 1; i <= 5000; i += 1) table.push(table[i - 1] + Math.log(i));
  return table;
})();
const probabilityOf = (n: number, p: number, rollsBack: (k: number) => boolean): number => {
  let sum = 0;
  for (let k = 0; k <= n; k += 1) {
    if (!rollsBack(k)) continue;
    sum += Math.exp(
      logFactorial[n] - logFactorial[k] - logFactorial[n - k] + k * Math.log(p) + (n - k) * Math.log1p(-p),
    );
  }
  return sum;
};
const SIZES = [50, 60, 80, 100, 150, 200, 300, 500, 1000, 2000, 5000];
type Rule = 'current' | 'v1';
const scenarios: Array<[string, number, (n: number, k: number, rules: Rule) => boolean]> = [
  [
    'error rate 2.5% (between target and rollback)',
    0.025,
    (n, k, rules) => evaluateErrorRate(stats(n, k), thresholds, rules).verdict === 'rollback',
  ],
  [
    'success rate 97.5%',
    0.975,
    (n, k, rules) => evaluateSuccessRate(stats(n, 0, n - k), thresholds, rules).verdict === 'rollback',
  ],
  ...[5, 10, 25, 50].map(
    (percent) =>
      [
        `served share exactly the configured ${percent}%`,
        percent / 100,
        (n: number, k: number, rules: Rule) =>
          evaluateServedShare(sample(stats(k), stats(n - k)), { ...ctx(percent), rules }).verdict ===
          'rollback',
      ] as [string, number, (n: number, k: number, rules: Rule) => boolean],
  ),
];

test.each(scenarios)(
  'a healthy canary, %s: a false rollback at most once in 10,000 looks at any sample size',
  (_name, p, rollsBack) => {
    const worst = (rules: Rule) =>
      Math.max(...SIZES.map((n) => probabilityOf(n, p, (k) => rollsBack(n, k, rules))));
    expect(worst('current')).toBeLessThan(1e-4);
  },
);

test('the v1 rules (95% intervals for rollbacks) raised false alarms far more often', () => {
  // The served share at 10% and 100 requests: about 1 look in 50 rolled back a healthy canary.
  const [, p, rollsBack] = scenarios.find(([name]) => name.includes('configured 10%'))!;
  expect(probabilityOf(100, p, (k) => rollsBack(100, k, 'v1'))).toBeGreaterThan(0.01);
  expect(probabilityOf(100, p, (k) => rollsBack(100, k, 'current'))).toBeLessThan(1e-5);
});

test.each<[string, number, number, (n: number, k: number) => boolean]>([
  [
    'error rate 30%, 100 requests',
    100,
    0.3,
    (n, k) => evaluateErrorRate(stats(n, k), thresholds).verdict === 'rollback',
  ],
  [
    'success rate 80%, 200 requests',
    200,
    0.8,
    (n, k) => evaluateSuccessRate(stats(n, 0, n - k), thresholds).verdict === 'rollback',
  ],
  [
    'served share 5% of 3000 at 10%',
    3000,
    0.05,
    (n, k) => evaluateServedShare(sample(stats(k), stats(n - k)), ctx(10)).verdict === 'rollback',
  ],
])('a broken canary still rolls back at the first look: %s', (_name, n, p, rollsBack) => {
  expect(probabilityOf(n, p, (k) => rollsBack(n, k))).toBeGreaterThan(0.99);
});

test('stage reports: failures roll back with the right trigger, timeouts are inconclusive', () => {
  const verdicts = (r: Parameters<typeof evaluateStage>[0]) =>
    evaluateStage(r).map((x) => [x.check, x.verdict, x.trigger ?? null]);
  expect(
    verdicts({
      at: '',
      functional: { ok: false, checked: 6, failures: ['GET /x via domain: status 500'], serverErrors: 1 },
    }),
  ).toEqual([['functional', 'rollback', 'errorRate']]);
  expect(
    verdicts({
      at: '',
      functional: { ok: false, checked: 6, failures: ['GET /x: shape differs'], serverErrors: 0 },
    }),
  ).toEqual([['functional', 'rollback', 'successRate']]);
  expect(verdicts({ at: '', writeProbe: { ok: false, steps: [], failure: 'x' } })).toEqual([
    ['writeProbe', 'rollback', 'writeProbe'],
  ]);
  expect(verdicts({ at: '', command: { ok: false, exitCode: 1, timedOut: false, output: 'FAIL' } })).toEqual([
    ['command', 'rollback', 'command'],
  ]);
  expect(verdicts({ at: '', command: { ok: false, exitCode: null, timedOut: true, output: '' } })).toEqual([
    ['command', 'inconclusive', null],
  ]);
  expect(
    evaluateConsistency({ ok: false, checked: 0, differences: [], error: 'SQLITE_CANTOPEN' }).verdict,
  ).toBe('inconclusive');
  expect(evaluateConsistency({ ok: false, checked: 3, differences: ['camera a: name'] }).trigger).toBe(
    'dataConsistency',
  );
});

test('combine: rollback beats hold beats inconclusive beats pass; no evidence is not a pass', () => {
  const r = (verdict: 'pass' | 'hold' | 'rollback' | 'inconclusive') => ({
    check: 'errorRate' as const,
    verdict,
    reason: verdict,
    figures: {},
  });
  expect(combine([r('pass'), r('inconclusive')]).verdict).toBe('inconclusive');
  expect(combine([r('inconclusive'), r('hold')]).verdict).toBe('hold');
  expect(combine([r('hold'), { ...r('rollback'), trigger: 'errorRate' as const }])).toMatchObject({
    verdict: 'rollback',
    trigger: 'errorRate',
  });
  expect(combine([r('pass'), r('pass')]).verdict).toBe('pass');
  expect(combine([]).verdict).toBe('inconclusive');
});
