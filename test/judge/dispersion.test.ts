import {
  BATCH_CHECKS,
  TAIL,
  addLegacySpread,
  addSpread,
  batchVariance,
  carriedSpread,
  dispersionFactor,
  spreadVariance,
  startSpread,
  type Spread,
} from '../../src/judge/dispersion';
import { binomial, createRandom } from '../../src/simulate/random';

/** `checks` checks of `n` requests each, at a rate `rateOf(check)` on the domain and `legacyRate` on legacy. */
function feed(
  checks: number,
  n: number,
  rateOf: (i: number) => number,
  options: { legacyRate?: number; open?: (i: number) => boolean; seed?: string; from?: Spread } = {},
): Spread {
  const rng = createRandom(options.seed ?? 'dispersion');
  let s = options.from ?? startSpread();
  for (let i = 0; i < checks; i++) {
    const d = { n, bad: binomial(rng, n, rateOf(i)) };
    const l = { n, bad: binomial(rng, n, options.legacyRate ?? 0.005) };
    s = addSpread(s, d, l, options.open?.(i) ?? false);
  }
  return s;
}

/** ×20 for three checks in every hundred: a burst each 100 checks. */
const bursty = (i: number) => (i % 100 < 3 ? 0.084 : 0.0042);

describe('learned spread', () => {
  test.each([
    // [what, rate per check, expect a spread]
    ['independent requests at 0.5%', () => 0.005, false],
    ['independent requests at 4.5%', () => 0.045, false],
    ['bursts ×20 for 3 checks in 100', bursty, true],
  ] as const)('%s: spread found %p', (_what, rateOf, found) => {
    const s = feed(1200, 500, rateOf);
    expect(batchVariance(s.domain.learned) > 0).toBe(found);
    expect(dispersionFactor(spreadVariance(s), 500, 0.05) > 1.5).toBe(found);
  });

  test('a fault the rate tests are still weighing is not learned as spread; a burst that passed is', () => {
    const fault = (i: number) => (i >= 600 ? 0.1 : 0.005);
    const weighing = feed(1200, 500, fault, { open: (i) => i >= 600 });
    expect(batchVariance(weighing.domain.learned)).toBe(0);
    expect(weighing.domain.pending.b).toBe(100);
    expect(weighing.domain.learned.b).toBe(100);
    // The run closes for a check and opens again (a fault goes on): nothing is released.
    const touched = addSpread(weighing, { n: 500, bad: 2 }, { n: 500, bad: 2 }, false);
    const reopened = addSpread(touched, { n: 500, bad: 50 }, { n: 500, bad: 2 }, true);
    expect(reopened.domain.learned.b).toBe(100); // the 600 checks before the fault
    // At rest for a whole batch of checks: what waited is learned (a burst that passed).
    let closed = reopened;
    for (let i = 0; i < 6; i++) closed = addSpread(closed, { n: 500, bad: 2 }, { n: 500, bad: 2 }, false);
    expect(closed.domain.pending.b).toBe(0);
    expect(closed.domain.learned.b).toBe(201);
  });

  test("legacy's bursts are the service's: they temper the domain's test too", () => {
    const s = feed(1200, 500, () => 0.005, { legacyRate: 0 });
    expect(spreadVariance(s)).toBe(0);
    let shared = startSpread();
    const rng = createRandom('legacy');
    for (let i = 0; i < 1200; i++) shared = addLegacySpread(shared, { n: 500, bad: binomial(rng, 500, bursty(i)) });
    expect(spreadVariance(shared)).toBeGreaterThan(0);
  });

  test('a window starts from what the windows before it learned', () => {
    const first = feed(1200, 500, bursty);
    const next = startSpread(carriedSpread(first));
    expect(spreadVariance(next)).toBeCloseTo(spreadVariance(first), 12);
    expect(carriedSpread(undefined)).toBeUndefined();
  });

  test.each([
    // [variance, n, p0, tail, factor]
    [0, 500, 0.05, TAIL, 1],
    [1e-5, 0, 0.05, TAIL, 1],
    [1e-5, 500, 0.05, 1, 1 + (500 * BATCH_CHECKS * 1e-5) / (0.05 * 0.95)],
    [1e-5, 500, 0.05, TAIL, 1 + (TAIL * 500 * BATCH_CHECKS * 1e-5) / (0.05 * 0.95)],
  ])('factor of variance %p at %p requests, p0 %p, tail %p: %p', (v, n, p0, tail, f) => {
    expect(dispersionFactor(v, n, p0, tail)).toBeCloseTo(f, 10);
  });
});
