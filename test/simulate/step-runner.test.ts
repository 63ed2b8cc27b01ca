import { planSchema, type Plan } from '../../src/plan/schema';
import { runCell, summarize } from '../../src/simulate/experiment';
import { createRandom } from '../../src/simulate/random';
import {
  cellFor,
  domainErrors,
  healthy,
  planSteps,
  slowerDomain,
  type PlanStep,
} from '../../src/simulate/scenarios';
import { aboveTargetShown, judgeContext, judgeSettingsOf, runStep } from '../../src/simulate/step-runner';
import {
  BACKEND_BUCKETS,
  DEFAULT_LATENCY,
  FINE_BUCKETS,
  startTraffic,
  type TrafficSettings,
} from '../../src/simulate/traffic-model';
import { judgeCheck, startJudge, type CheckJudgement } from '../../src/judge/window-judge';

const plan: Plan = planSchema.parse({
  name: 'sim',
  target: {
    id: 'sim',
    baseUrl: 'http://127.0.0.1:9',
    traffic: { type: 'http', url: 'http://127.0.0.1:9/admin/rollout' },
    metrics: { type: 'exposition', url: 'http://127.0.0.1:9/metrics' },
  },
  phases: [
    {
      name: 'reads',
      group: 'read',
      endpoints: ['GET /api/v1/x'],
      steps: [
        { percent: 5, observe: '1h' },
        { percent: 50, observe: '30m' },
        { percent: 100, observe: 'continuous' },
      ],
    },
  ],
});
const settings = judgeSettingsOf(plan);
const [five, fifty, full] = planSteps(plan);

const traffic = (over: Partial<TrafficSettings> = {}): TrafficSettings => ({
  rps: 50,
  percent: 5,
  checkIntervalMs: 10_000,
  routing: { kind: 'per-request' },
  errorRate: { legacy: 0.005, domain: 0.005 },
  latency: DEFAULT_LATENCY,
  buckets: BACKEND_BUCKETS,
  ...over,
});

describe('judge context', () => {
  it.each([
    // The window's own checks; an extension's looks are paid for by the budget kept for looks past them.
    ['a 1h window', five, 360],
    ['a 30m window', fifty, 180],
    ['a continuous step', full, null],
  ])('%s: looks planned in the window, a day of looks, the lookback in checks', (_n, step, looks) => {
    const ctx = judgeContext(step, 10_000, settings, null);
    expect(ctx.plannedLooks).toBe(looks);
    expect(ctx.continuousLooks).toBe(8640);
    expect(ctx.lookbackChecks).toBe(12);
    expect(ctx.thresholds.falseRollback).toBe(0.001);
    expect(ctx.checks).toEqual(['errorRate', 'successRate', 'p95', 'servedShare']);
  });
});

describe('step runner', () => {
  const run = (step: PlanStep, canary: Parameters<typeof cellFor>[2], runs: number, load = {}) =>
    summarize(
      runCell(
        cellFor(plan, step, canary, { rps: 50, routing: { kind: 'per-request' }, ...load }, runs, 'runner'),
      ),
    );

  it('rolls a 10%-error canary back, on an error-rate trigger, within minutes', () => {
    const s = run(five, domainErrors(0.005, 0.1), 30);
    expect(s.rollbacks).toBe(30);
    expect(Object.keys(s.triggers).every((t) => t === 'errorRate' || t === 'successRate')).toBe(true);
    expect(s.medianRollbackMs!).toBeLessThan(5 * 60_000);
    expect(s.rollbackReasons[0]).toMatch(/domain (error|success) rate .* sequential test/);
  });

  it('rolls a 50%-error canary back within 3 checks', () => {
    const s = run(five, domainErrors(0.005, 0.5), 30);
    expect(s.rollbacks).toBe(30);
    expect(s.rollbackMs[s.rollbackMs.length - 1]).toBeLessThanOrEqual(30_000);
  });

  it('rolls a +150% P95 back on fine buckets at 50%, on a p95 trigger', () => {
    const s = run(fifty, slowerDomain(0.005, 2.5), 10, { buckets: FINE_BUCKETS });
    expect(s.rollbacks).toBe(10);
    expect(s.triggers).toEqual({ p95: 10 });
  });

  it('passes healthy canaries, and watches a continuous step for its whole hour', () => {
    const s = run(five, healthy(0.005), 20);
    expect(s.rollbacks).toBe(0);
    expect(s.passes).toBe(20);
    const c = run(full, healthy(0.005), 5);
    expect(c.rollbacks).toBe(0);
    expect(
      runCell(cellFor(plan, full, healthy(0.005), { rps: 50, routing: { kind: 'per-request' } }, 1, 'x'))[0]
        .atMs,
    ).toBe(3_600_000);
  });

  it('extends a window short of samples, then holds saying what is missing', () => {
    // 5% of 0.05 requests/s: about 9 domain requests an hour, never 50 in four windows.
    const o = runStep(traffic({ rps: 0.05 }), five, settings, createRandom('short'));
    expect(o.outcome).toBe('hold');
    expect(o.extensions).toBe(3);
    expect(o.atMs).toBe(4 * 3_600_000);
    expect(o.shortfall).toMatch(/of 50 domain requests/);
  });

  it('runs a step the same way for the same seed', () => {
    const a = runStep(
      traffic({ errorRate: { legacy: 0.005, domain: 0.03 } }),
      five,
      settings,
      createRandom('same'),
    );
    const b = runStep(
      traffic({ errorRate: { legacy: 0.005, domain: 0.03 } }),
      five,
      settings,
      createRandom('same'),
    );
    expect(b).toEqual(a);
  });
});

describe('the hook for the judge\'s "above target" notice', () => {
  const judged = () => {
    const stream = startTraffic(traffic(), createRandom('hook'));
    return judgeCheck(
      startJudge(settings.thresholds),
      stream.next(),
      judgeContext(five, 10_000, settings, null),
    );
  };

  it.each([
    ['no notices field', undefined, undefined],
    ['no notice', [], false],
    ['a notice of another check', [{ check: 'p95', reason: 'x' }], false],
    ['an error-rate notice', [{ check: 'errorRate', reason: 'x' }], true],
    ['a success-rate notice', [{ check: 'successRate', reason: 'x' }], true],
  ])('%s', (_name, notices, shown) => {
    const { notices: _drop, ...rest } = judged() as CheckJudgement & { notices?: unknown };
    const j = (notices === undefined ? rest : { ...rest, notices }) as CheckJudgement;
    expect(aboveTargetShown(j)).toBe(shown);
  });

  it('runStep records the first check that showed it, when the judge exposes the notice', () => {
    const o = runStep(
      traffic({ errorRate: { legacy: 0.005, domain: 0.03 } }),
      five,
      settings,
      createRandom('above-target'),
    );
    if (aboveTargetShown(judged()) === undefined) expect(o.aboveTargetAtMs).toBeUndefined();
    else if (o.aboveTargetAtMs !== null) expect(o.aboveTargetAtMs! % 10_000).toBe(0);
  });
});
