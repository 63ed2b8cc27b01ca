import { combine } from '../../src/judge/verdicts';
import { evaluateConsistency, evaluateStage } from '../../src/judge/stage-checks';
import { histogramQuantile, quantileInterval, wilson } from '../../src/judge/statistics';


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
  // Displays lead with the trigger ("rollback successRate: …"): the reason says it was the functional check.
  expect(
    evaluateStage({ at: '', functional: { ok: false, checked: 6, failures: ['GET /x via legacy: status 404'], serverErrors: 0 } })[0]
      .reason,
  ).toBe('functional verification failed (successRate: answers not as expected): GET /x via legacy: status 404');
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
