import { binomial, createRandom, logGamma, multinomial, normalCdf, poisson } from '../../src/simulate/random';
import { p95IdealSamples, sprtExpectedSamples, upperBound } from '../../src/simulate/figures';
import {
  BACKEND_BUCKETS,
  DEFAULT_BURSTS,
  DEFAULT_LATENCY,
  FINE_BUCKETS,
  bucketProbabilities,
  distinctCurve,
  expectedDistinct,
  expectedDistinctWeighted,
  meanSwingFactor,
  startTraffic,
  swingFactor,
  trueP95Ms,
  userWeights,
  type Swing,
  type TrafficSettings,
} from '../../src/simulate/traffic-model';

const base: TrafficSettings = {
  rps: 50,
  percent: 10,
  checkIntervalMs: 10_000,
  routing: { kind: 'per-request' },
  errorRate: { legacy: 0.005, domain: 0.005 },
  latency: DEFAULT_LATENCY,
  buckets: BACKEND_BUCKETS,
};

function meanVar(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  return { mean, variance: xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1) };
}

describe('samplers', () => {
  it('the same seed gives the same numbers, another seed others', () => {
    const draw = (seed: string) => Array.from({ length: 5 }, () => createRandom(seed).next());
    const a = createRandom('s');
    const b = createRandom('s');
    const seqA = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(seqA);
    expect(draw('s')[0]).not.toEqual(draw('t')[0]);
    expect(seqA.every((u) => u > 0 && u < 1)).toBe(true);
  });

  it.each([
    ['Poisson(0.3)', (r: ReturnType<typeof createRandom>) => poisson(r, 0.3), 0.3, 0.3],
    ['Poisson(500)', (r: ReturnType<typeof createRandom>) => poisson(r, 500), 500, 500],
    [
      'Binomial(25, 0.005)',
      (r: ReturnType<typeof createRandom>) => binomial(r, 25, 0.005),
      0.125,
      25 * 0.005 * 0.995,
    ],
    [
      'Binomial(500, 0.05)',
      (r: ReturnType<typeof createRandom>) => binomial(r, 500, 0.05),
      25,
      500 * 0.05 * 0.95,
    ],
    ['Binomial(10000, 0.5)', (r: ReturnType<typeof createRandom>) => binomial(r, 10_000, 0.5), 5000, 2500],
    [
      'Binomial(40, 0.97)',
      (r: ReturnType<typeof createRandom>) => binomial(r, 40, 0.97),
      38.8,
      40 * 0.97 * 0.03,
    ],
  ])('%s has its mean and variance', (_name, draw, mean, variance) => {
    const rng = createRandom(`moments/${_name}`);
    const xs = Array.from({ length: 20_000 }, () => draw(rng));
    const m = meanVar(xs);
    // 20,000 draws: the mean within 5 standard errors, the variance within 10%.
    expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(variance / xs.length));
    expect(m.variance / variance).toBeGreaterThan(0.9);
    expect(m.variance / variance).toBeLessThan(1.1);
  });

  it('a multinomial places every draw once and leaves the remainder out', () => {
    const rng = createRandom('multinomial');
    for (let i = 0; i < 200; i++) {
      const counts = multinomial(rng, 100, [0.2, 0.5, 0.3]);
      expect(counts.reduce((a, c) => a + c, 0)).toBe(100);
      const partial = multinomial(rng, 100, [0.2, 0.3]);
      expect(partial.reduce((a, c) => a + c, 0)).toBeLessThanOrEqual(100);
    }
  });

  it.each([
    [1, 0],
    [5, Math.log(24)],
    [0.5, Math.log(Math.sqrt(Math.PI))],
    [101, 363.73937555556347],
  ])('ln Γ(%p) = %p', (x, expected) => expect(logGamma(x)).toBeCloseTo(expected, 9));

  it.each([
    [0, 0.5],
    [1.6448536269514722, 0.95],
    [-1.959963984540054, 0.025],
  ])('Φ(%p) = %p', (x, p) => expect(normalCdf(x)).toBeCloseTo(p, 6));
});

describe('figures', () => {
  it.each([
    // Wald's approximation at 1% vs 5%, α 1e-4, β 0.01 (hand-computed: ln A / E[z] and friends).
    [0.05, 219.5],
    [0.1, 74.3],
    [0.01, 186.1],
  ])('SPRT expected sample size at a true rate of %p ≈ %p', (p, n) =>
    expect(sprtExpectedSamples({ p0: 0.01, p1: 0.05, alpha: 1e-4, beta: 0.01 }, p)).toBeCloseTo(n, 0),
  );

  it.each([
    [0, 3000, 0.000998],
    [0, 300, 0.00994],
    [5, 100, 0.10225],
  ])('upper bound of %p in %p runs ≈ %p', (k, n, bound) => expect(upperBound(k, n)).toBeCloseTo(bound, 3));

  it.each([
    // [true increase, domain requests an ideal one-look test needs at α 1e-4, β 0.01, σ 0.5, bar +50%]
    [0.6, 8749],
    [0.8, 903],
    [1.5, 72],
  ])('an ideal P95 test of +%p over +50%% needs ≈ %p domain requests', (increase, n) =>
    expect(Math.round(p95IdealSamples(0.5, increase, 0.5, 1e-4, 0.01))).toBe(n),
  );
});

describe('traffic model', () => {
  it('is deterministic for a seed', () => {
    const a = startTraffic(base, createRandom('det'));
    const b = startTraffic(base, createRandom('det'));
    const c = startTraffic(base, createRandom('other'));
    const sa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(sa);
  });

  it.each([
    ['backend buckets, per request', { ...base }],
    [
      'fine buckets, sticky',
      { ...base, buckets: FINE_BUCKETS, routing: { kind: 'sticky' as const, users: 300 } },
    ],
    [
      'a fault mid-check',
      { ...base, fault: { domainErrorRate: 0.3, domainLatencyFactor: 2, startsAtMs: 55_000 } },
    ],
  ])('counts add up (%s)', (_name, settings) => {
    const stream = startTraffic(settings, createRandom(`sums/${_name}`));
    let total = 0;
    for (let i = 0; i < 200; i++) {
      const s = stream.next();
      expect(Date.parse(s.to) - Date.parse(s.from)).toBe(settings.checkIntervalMs);
      for (const impl of [s.domain, s.legacy]) {
        expect(impl.errors + impl.successes).toBe(impl.requests);
        expect(impl.errors).toBeGreaterThanOrEqual(0);
        expect(impl.buckets.map(([le]) => le)).toEqual([...settings.buckets]);
        const counts = impl.buckets.map(([, c]) => c);
        const notCumulative = counts.findIndex((c, j) => c < (j ? counts[j - 1] : 0));
        expect(notCumulative).toBe(-1);
        expect(counts[counts.length - 1]).toBeLessThanOrEqual(impl.requests);
      }
      total += s.domain.requests + s.legacy.requests;
    }
    // 200 checks of Poisson(500): 100,000 ± 316.
    expect(Math.abs(total - 100_000)).toBeLessThan(1600);
  });

  it('a fault starting mid-window changes only the checks after its onset', () => {
    const settings = { ...base, percent: 50, fault: { domainErrorRate: 0.5, startsAtMs: 300_000 } };
    const stream = startTraffic(settings, createRandom('onset'));
    const samples = Array.from({ length: 60 }, () => stream.next());
    const rate = (xs: typeof samples) =>
      xs.reduce((a, s) => a + s.domain.errors, 0) / xs.reduce((a, s) => a + s.domain.requests, 0);
    expect(rate(samples.slice(0, 30))).toBeLessThan(0.02);
    expect(rate(samples.slice(30))).toBeGreaterThan(0.45);
    expect(rate(samples.slice(30))).toBeLessThan(0.55);
  });

  it('per request: keys are the requests since the step began', () => {
    const stream = startTraffic(base, createRandom('keys'));
    let domain = 0;
    let legacy = 0;
    for (let i = 0; i < 30; i++) {
      const s = stream.next();
      domain += s.domain.requests;
      legacy += s.legacy.requests;
      expect(s.domain.keys).toBe(domain);
      expect(s.legacy.keys).toBe(legacy);
    }
  });

  it('sticky: the share is the share of users below the percent, fixed for the step', () => {
    const users = 2000;
    const shares: number[] = [];
    for (let step = 0; step < 300; step++) {
      const stream = startTraffic(
        { ...base, percent: 5, routing: { kind: 'sticky', users } },
        createRandom(`sticky/${step}`),
      );
      let domain = 0;
      let all = 0;
      let last = stream.next();
      for (let i = 0; i < 180; i++) {
        last = i ? stream.next() : last;
        domain += last.domain.requests;
        all += last.domain.requests + last.legacy.requests;
      }
      const pinned = stream.domainUsers! / users;
      // Within the step the share follows the pinned users (9,000 requests: ±0.23 points)...
      expect(Math.abs(domain / all - pinned)).toBeLessThan(0.01);
      // ...and the distinct keys seen cannot pass the users on each side.
      expect(last.domain.keys).toBeLessThanOrEqual(stream.domainUsers!);
      expect(last.domain.keys! + last.legacy.keys!).toBeLessThanOrEqual(users);
      shares.push(pinned);
    }
    // Between steps it varies as a share of 2,000 users: sd √(0.05·0.95/2000) ≈ 0.49 points,
    // twice what the 9,000 requests of one step give, ten times what 180,000 would.
    const m = meanVar(shares);
    expect(Math.abs(m.mean - 0.05)).toBeLessThan(0.001);
    expect(Math.sqrt(m.variance)).toBeGreaterThan(0.004);
    expect(Math.sqrt(m.variance)).toBeLessThan(0.006);
  });

  it.each([
    [2000, 0, 0],
    [2000, 1, 1],
    [100, 100_000, 100],
    [2000, 2000, 1264],
  ])('expected distinct of %p users after %p requests is %p', (users, n, distinct) =>
    expect(expectedDistinct(users, n)).toBe(distinct),
  );

  it('the latency model has the stated P95, and the buckets hold it', () => {
    expect(trueP95Ms(DEFAULT_LATENCY)).toBeCloseTo(91.0, 1);
    const probs = bucketProbabilities(DEFAULT_LATENCY, 1, BACKEND_BUCKETS);
    const cum = probs.reduce<number[]>((a, p) => [...a, (a[a.length - 1] ?? 0) + p], []);
    expect(cum[BACKEND_BUCKETS.indexOf(0.05)]).toBeLessThan(0.95);
    expect(cum[BACKEND_BUCKETS.indexOf(0.1)]).toBeGreaterThan(0.95);
    expect(cum[cum.length - 1]).toBeCloseTo(1, 9);
    // ×1.6 moves the whole distribution, so the P95 too.
    expect(trueP95Ms(DEFAULT_LATENCY, 1.6) / trueP95Ms(DEFAULT_LATENCY)).toBeCloseTo(1.6, 12);
  });

  it('the fine layout is ×1.02 apart around the P95s it must tell apart', () => {
    const inside = FINE_BUCKETS.filter((b) => b >= 0.06 && b <= 0.3);
    for (let i = 1; i < inside.length; i++) expect(inside[i] / inside[i - 1]).toBeLessThan(1.021);
    for (const b of BACKEND_BUCKETS) expect(FINE_BUCKETS).toContain(b);
  });
});

describe('traffic model: where the rules assumptions break (issue 22)', () => {
  const bursts = (scope: 'shared' | 'domain') => ({ scope, ...DEFAULT_BURSTS });
  const zipf = { kind: 'sticky' as const, users: 2000, activity: { kind: 'zipf' as const, exponent: 0.9 } };
  const swingStep: Swing = { shape: 'step', low: 0.25, high: 2, periodMs: 1_200_000 };
  const swingSine: Swing = { shape: 'sine', low: 0.25, high: 2, periodMs: 1_200_000 };
  const draw = (settings: TrafficSettings, seed: string, checks: number) => {
    const stream = startTraffic(settings, createRandom(seed));
    return Array.from({ length: checks }, () => stream.next());
  };

  it.each([
    ['bursts shared', { ...base, bursts: bursts('shared') }],
    ['bursts on the canary', { ...base, bursts: bursts('domain') }],
    ['zipf users with keys', { ...base, routing: zipf }],
    ['zipf users without keys', { ...base, routing: zipf, exporter: { keys: false } }],
    ['a step swing', { ...base, swing: swingStep }],
    ['a sine swing', { ...base, swing: swingSine }],
    [
      'no histogram, domain +200ms',
      { ...base, exporter: { histogram: false }, fault: { domainLatencyAddMs: 200, startsAtMs: 0 } },
    ],
  ])('%s: the same seed gives the same samples, another seed others', (_name, settings) => {
    const a = draw(settings, 'det22', 100);
    expect(draw(settings, 'det22', 100)).toEqual(a);
    expect(draw(settings, 'other22', 100)).not.toEqual(a);
  });

  it.each([
    ['shared', ['domain', 'legacy'] as const, [] as const],
    ['domain', ['domain'] as const, ['legacy'] as const],
  ])(
    'bursts (%s): the mean error rate is the base rate, the per-check variance beyond binomial',
    (scope, bursty, steady) => {
      const checks = 40_000;
      const samples = draw(
        { ...base, percent: 50, bursts: bursts(scope as 'shared' | 'domain') },
        `burst/${scope}`,
        checks,
      );
      // Per-check dispersion: the variance of the error count over its binomial variance given n.
      const stats = (side: 'domain' | 'legacy') => {
        let errors = 0;
        let requests = 0;
        let chi2 = 0;
        for (const s of samples) {
          errors += s[side].errors;
          requests += s[side].requests;
        }
        const p = errors / requests;
        for (const s of samples) {
          const n = s[side].requests;
          if (n > 0) chi2 += (s[side].errors - n * p) ** 2 / (n * p * (1 - p));
        }
        return { rate: p, dispersion: chi2 / (checks - 1) };
      };
      for (const side of bursty) {
        const s = stats(side);
        expect(Math.abs(s.rate - 0.005)).toBeLessThan(0.0005);
        // ×20 for 1% of the checks at 250 requests each: a variance about 5× the binomial one.
        expect(s.dispersion).toBeGreaterThan(2);
      }
      for (const side of steady) {
        const s = stats(side);
        expect(Math.abs(s.rate - 0.005)).toBeLessThan(0.0005);
        expect(s.dispersion).toBeGreaterThan(0.9);
        expect(s.dispersion).toBeLessThan(1.1);
      }
    },
  );

  it.each([
    ['shared', true],
    ['domain', false],
  ])('bursts (%s): the checks in a burst are the checks each side errs at', (scope, shared) => {
    // 25,000 requests per side and check: calm 0.4% and burst 10% cannot be confused.
    const settings = { ...base, rps: 5000, percent: 50, bursts: bursts(scope as 'shared' | 'domain') };
    const stream = startTraffic(settings, createRandom(`burst-sides/${scope}`));
    const inBurst: number[] = [];
    const domainHigh: number[] = [];
    const legacyHigh: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const s = stream.next();
      if (stream.burst) inBurst.push(i);
      if (s.domain.errors / s.domain.requests > 0.05) domainHigh.push(i);
      if (s.legacy.errors / s.legacy.requests > 0.05) legacyHigh.push(i);
    }
    expect(inBurst.length).toBeGreaterThan(10);
    expect(domainHigh).toEqual(inBurst);
    expect(legacyHigh).toEqual(shared ? inBurst : []);
  });

  it('zipf 0.9 users: the busiest 1% send at least 30% of the requests', () => {
    const w = userWeights(2000, zipf.activity);
    const all = w.reduce((a, x) => a + x, 0);
    const top = w.slice(0, 20).reduce((a, x) => a + x, 0) / all;
    expect(top).toBeGreaterThanOrEqual(0.3);
    expect(top).toBeLessThan(0.4);
    // Equal users send 1% of it.
    expect(
      userWeights(2000)
        .slice(0, 20)
        .reduce((a, x) => a + x, 0) / 2000,
    ).toBeCloseTo(0.01, 12);
  });

  it('zipf users: the share served varies between steps as a few busy users decide it', () => {
    const shares: number[] = [];
    for (let step = 0; step < 200; step++) {
      const samples = draw({ ...base, routing: zipf, exporter: { keys: false } }, `zipf-share/${step}`, 20);
      const domain = samples.reduce((a, s) => a + s.domain.requests, 0);
      const all = samples.reduce((a, s) => a + s.domain.requests + s.legacy.requests, 0);
      shares.push(domain / all);
    }
    // Keys: distinct users seen, never more than there are on each side.
    const stream = startTraffic({ ...base, routing: zipf }, createRandom('zipf-keys'));
    for (let i = 0; i < 360; i++) {
      const s = stream.next();
      expect(s.domain.keys!).toBeLessThanOrEqual(stream.domainUsers!);
      expect(s.domain.keys! + s.legacy.keys!).toBeLessThanOrEqual(2000);
    }
    const m = meanVar(shares);
    // Equal users: sd √(0.1·0.9/2000) = 0.67 points; Zipf 0.9 as ~76 equal users: about 3.4 points.
    expect(Math.abs(m.mean - 0.1)).toBeLessThan(0.01);
    expect(Math.sqrt(m.variance)).toBeGreaterThan(0.025);
  });

  it('without the keys gauge the samples carry no keys; the keys curve is the exact expectation', () => {
    for (const s of draw({ ...base, routing: zipf, exporter: { keys: false } }, 'nokeys', 50)) {
      expect(s.domain.keys).toBeUndefined();
      expect(s.legacy.keys).toBeUndefined();
    }
    const w = userWeights(2000, zipf.activity);
    const all = w.reduce((a, x) => a + x, 0);
    const shares = w.map((x) => x / all);
    const curve = distinctCurve(shares);
    for (const n of [1, 37, 100, 101, 1234, 56_789, 2_000_000])
      expect(Math.abs(curve(n) - expectedDistinctWeighted(shares, n))).toBeLessThanOrEqual(1);
    expect(expectedDistinctWeighted(Array(100).fill(0.01), 100_000)).toBe(expectedDistinct(100, 100_000));
  });

  it.each([
    ['step', swingStep, 1],
    ['sine', swingSine, 1.125],
  ])('a %s swing reaches its stated min and max', (_name, swing, mean) => {
    // 10,000 requests/s: 100,000 a check, ±0.3%.
    const settings = { ...base, rps: 10_000, swing };
    const factors = draw(settings, `swing/${_name}`, 240).map(
      (s) => (s.domain.requests + s.legacy.requests) / 100_000,
    );
    expect(Math.abs(Math.min(...factors) - swing.low)).toBeLessThan(0.02 * swing.low + 0.005);
    expect(Math.abs(Math.max(...factors) - swing.high)).toBeLessThan(0.02 * swing.high);
    expect(Math.abs(factors.reduce((a, x) => a + x, 0) / factors.length - mean)).toBeLessThan(0.01);
    expect(meanSwingFactor(swing, 123_456, 123_456 + swing.periodMs)).toBeCloseTo(mean, 9);
    expect(swingFactor(swing, 0)).toBe(swing.shape === 'step' ? swing.high : swing.low);
  });

  it('no histogram: the samples carry no buckets, the counts still add up', () => {
    const settings = {
      ...base,
      exporter: { histogram: false },
      fault: { domainLatencyAddMs: 200, startsAtMs: 0 },
    };
    for (const s of draw(settings, 'nohist', 200))
      for (const impl of [s.domain, s.legacy]) {
        expect(impl.buckets).toEqual([]);
        expect(impl.errors + impl.successes).toBe(impl.requests);
      }
  });

  it('+200ms moves the whole distribution by 200ms, the P95 too', () => {
    expect(trueP95Ms(DEFAULT_LATENCY, 1, 200)).toBeCloseTo(291.0, 1);
    const probs = bucketProbabilities(DEFAULT_LATENCY, 1, BACKEND_BUCKETS, 200);
    const cum = probs.reduce<number[]>((a, p) => [...a, (a[a.length - 1] ?? 0) + p], []);
    // Nothing at or below 200ms; ≤ 250ms iff the lognormal part ≤ 50ms: Φ(ln(50/40)/0.5).
    expect(cum[BACKEND_BUCKETS.indexOf(0.1)]).toBe(0);
    expect(cum[BACKEND_BUCKETS.indexOf(0.25)]).toBeCloseTo(normalCdf(Math.log(50 / 40) / 0.5), 9);
  });
});
