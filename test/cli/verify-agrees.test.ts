/**
 * One judge: `rollout verify` and a running rollout give the same verdicts on the same samples.
 * The rollout's side is its own runtime path: the observing activity's loop judges the window's
 * check, and the window's end is judged as the workflow's window-end stage does
 * (`judgeWindowEnd(state, ctx, true)`). Verify's side is `verifyTraffic`, what `rollout verify`
 * prints. (Before 0.2.0 verify judged with the v2 rules and disagreed with rollouts.)
 */
import { startObservation } from '../../src/contracts/observation';
import { runObservation } from '../../src/activities/observation-loop';
import { verifyTraffic } from '../../src/cli/verify-stage';
import type { GroupSample } from '../../src/judge/samples';
import type { CheckResult } from '../../src/judge/verdicts';
import { windowContext } from '../../src/judge/window-context';
import { judgeWindowEnd } from '../../src/judge/window-judge';
import { planSchema, type CheckName } from '../../src/plan/schema';
import { createRandom } from '../../src/simulate/random';
import { BACKEND_BUCKETS, startTraffic, type Fault } from '../../src/simulate/traffic-model';
import { seedPlan } from '../helpers/workflow-harness';

const plan = planSchema.parse(seedPlan());
const CHECKS: CheckName[] = ['errorRate', 'successRate', 'p95', 'servedShare'];
const WINDOW = 60_000;
const START = Date.parse('2026-12-01T03:00:00Z');

/** One minute of the group's traffic, as verify samples it. */
function window(name: string, o: { rps?: number; percent: number; fault?: Fault; sticky?: boolean }): GroupSample {
  return startTraffic(
    {
      rps: o.rps ?? 50,
      percent: o.percent,
      checkIntervalMs: WINDOW,
      routing: { kind: 'per-request' },
      errorRate: { legacy: 0.005, domain: 0.005 },
      latency: { medianMs: 40, sigma: 0.5 },
      buckets: BACKEND_BUCKETS,
      ...(o.fault ? { fault: o.fault } : {}),
    },
    createRandom(`verify-agrees/${name}`),
  ).next();
}

/** The rollout's verdicts on a window of that one check. */
async function rolloutVerdicts(sample: GroupSample, percent: number): Promise<CheckResult[]> {
  const context = windowContext({
    thresholds: plan.defaults.thresholds,
    checks: CHECKS,
    percent,
    baseline: null,
    windowMs: WINDOW,
    checkIntervalMs: WINDOW,
    lookbackMs: WINDOW,
    continuousMs: WINDOW,
  });
  const clock = { now: START };
  const result = await runObservation(
    {
      rolloutId: 'r',
      metrics: plan.target.metrics,
      groups: [{ group: 'read', endpoints: ['GET /x'], context, appliedAtMs: START, consistency: false }],
      primary: 'read',
      checkIntervalMs: WINDOW,
      sliceMs: 8 * 3_600_000,
      maxMetricErrors: 5,
      state: startObservation(WINDOW),
    },
    {
      now: () => clock.now,
      async sleep(ms) {
        clock.now += ms;
        return true;
      },
      async sample(groups, from, to) {
        return { samples: Object.fromEntries(groups.map((g) => [g.group, { ...sample, from, to }])) };
      },
      async consistency() {
        return { ok: true, checked: 0, differences: [] };
      },
      heartbeat: () => undefined,
    },
  );
  if (result.end.kind === 'rollback') return result.end.results;
  expect(result.end.kind).toBe('window-end');
  return judgeWindowEnd(result.state.judges.read, context, true);
}

const brief = (results: CheckResult[]) => results.map((r) => ({ check: r.check, verdict: r.verdict, reason: r.reason }));

test.each<[string, number, { rps?: number; fault?: Fault }, Partial<Record<CheckName, string>>]>([
  ['a healthy 10% step', 10, {}, { errorRate: 'pass', successRate: 'pass', servedShare: 'pass' }],
  ['a domain failing 40% of its requests', 10, { fault: { domainErrorRate: 0.4, startsAtMs: 0 } }, { errorRate: 'rollback' }],
  ['a domain 4× slower', 25, { fault: { domainLatencyFactor: 4, startsAtMs: 0 } }, { p95: 'rollback' }],
  ['too little traffic', 10, { rps: 1 }, { errorRate: 'inconclusive' }],
  ['at 100% with no baseline to compare the P95 with', 100, {}, { errorRate: 'pass', p95: 'inconclusive' }],
])('%s: verify and the rollout agree', async (name, percent, o, expected) => {
  const sample = window(name, { percent, ...o });
  const rollout = brief(await rolloutVerdicts(sample, percent));
  const verify = brief(verifyTraffic(sample, plan, CHECKS, percent, WINDOW));
  expect(verify).toEqual(rollout);
  for (const [check, verdict] of Object.entries(expected))
    expect(verify.find((r) => r.check === check)?.verdict).toBe(verdict);
});

test('a rollback verify reports is the sequential test the rollout rolls back on', () => {
  const sample = window('errors', { percent: 10, fault: { domainErrorRate: 0.4, startsAtMs: 0 } });
  const errorRate = verifyTraffic(sample, plan, CHECKS, 10, WINDOW).find((r) => r.check === 'errorRate')!;
  expect(errorRate).toMatchObject({ verdict: 'rollback', trigger: 'errorRate' });
  expect(errorRate.reason).toMatch(/by a sequential test/);
});
