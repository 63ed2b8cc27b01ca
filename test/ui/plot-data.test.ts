import { plotData } from '../../src/ui/plot-data';
import type { EvidenceRow } from '../../src/contracts/observation';
import type { HistoryEntry, RolloutStatus } from '../../src/contracts/definitions';
import { planSchema } from '../../src/plan/schema';
import { seedPlan } from '../e2e/support';

const plan = planSchema.parse(seedPlan());
const T0 = Date.parse('2026-12-02T10:00:00Z');

function step(group: string, percent: number, startedAt: number, evidence?: EvidenceRow[]): HistoryEntry {
  return {
    phase: group === 'read' ? 'phase2-read' : 'phase3-write',
    group,
    percent,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: null,
    outcome: null,
    reason: null,
    by: null,
    windowMs: null,
    verdict: null,
    metrics: null,
    ...(evidence ? { evidence } : {}),
  };
}

type Input = Pick<RolloutStatus, 'plan' | 'history' | 'rollback' | 'baselineP95Ms'>;
const status = (history: HistoryEntry[], extra: Partial<Input> = {}): Input => ({ plan, history, rollback: null, ...extra });

test('one point per check: rates of each side, the share served and its band, both P95s', () => {
  const [read] = plotData(
    status([step('read', 10, T0, [[T0 + 10_000, 'read', 50, 1, 450, 0, 80, 60]])], { baselineP95Ms: { read: 55 } }),
  );
  expect(read).toMatchObject({
    group: 'read',
    t: [(T0 + 10_000) / 1000],
    domainErrorRate: [0.02],
    legacyErrorRate: [0],
    servedShare: [0.1],
    p95DomainMs: [80],
    p95LegacyMs: [60],
    baselineP95Ms: 55,
    steps: [{ at: T0 / 1000, label: '10%' }],
    thresholds: { errorTarget: 0.01, errorRollback: 0.05 },
  });
  // The seed's ±10% relative tolerance around 10%; the P95 limit is legacy's +50%.
  expect(read.shareLow[0]).toBeCloseTo(0.09);
  expect(read.shareHigh[0]).toBeCloseTo(0.11);
  expect(read.p95LimitMs[0]).toBeCloseTo(90);
});

test.each<[string, EvidenceRow, Partial<Record<'domainErrorRate' | 'legacyErrorRate' | 'servedShare' | 'p95DomainMs' | 'p95LimitMs', unknown[]>>]>([
  ['no requests at all: nothing to plot but the time', [T0, 'read', 0, 0, 0, 0, null, null], { domainErrorRate: [null], legacyErrorRate: [null], servedShare: [null] }],
  ['a row recorded before the P95s were kept', [T0, 'read', 10, 0, 90, 0], { p95DomainMs: [null], p95LimitMs: [null] }],
  ['no legacy traffic (100%): the limit comes from the baseline', [T0, 'read', 100, 0, 0, 0, 70, null], { legacyErrorRate: [null], servedShare: [1], p95LimitMs: [60] }],
])('%s', (_what, row, expected) => {
  const [read] = plotData(status([step('read', 100, T0, [row])], { baselineP95Ms: { read: 40 } }));
  expect(read).toMatchObject(expected);
});

test('steps of one group only, in order, and the rollback drawn as a mark on the groups it reverted', () => {
  const plots = plotData(
    status(
      [
        step('read', 10, T0, [[T0 + 1000, 'read', 10, 0, 90, 0, 5, 5]]),
        step('read', 100, T0 + 60_000, [[T0 + 61_000, 'read', 100, 0, 0, 0, 5, null]]),
        step('write', 5, T0 + 120_000, [[T0 + 121_000, 'write', 5, 0, 95, 0, 9, 9]]),
      ],
      {
        rollback: { trigger: 'errorRate', reason: 'x', at: new Date(T0 + 130_000).toISOString(), completedAt: null, by: null, groups: ['write'] },
      },
    ),
  );
  expect(plots.map((p) => p.group)).toEqual(['read', 'write']);
  expect(plots[0].t).toEqual([(T0 + 1000) / 1000, (T0 + 61_000) / 1000]);
  expect(plots[0].steps.map((s) => s.label)).toEqual(['10%', '100%']);
  expect(plots[0].shareLow[1]).toBeCloseTo(0.9);
  expect(plots[0].shareHigh[1]).toBe(1);
  expect(plots[1].steps.map((s) => s.label)).toEqual(['5%', 'rollback (errorRate)']);
});

test('a group with no step yet has no plots', () => {
  expect(plotData(status([]))).toEqual([]);
});

test('the share plotted is what the rule judges: the step so far with its interval, from each step afresh', () => {
  const plots = plotData(
    status([
      step('read', 10, T0, [
        [T0 + 1000, 'read', 20, 0, 80, 0, 5, 5], // one check at 20%: outside the band on its own
        [T0 + 2000, 'read', 0, 0, 100, 0, 5, 5], // and one at 0%
        [T0 + 3000, 'read', 10, 0, 90, 0, 5, 5],
      ]),
      step('read', 25, T0 + 60_000, [[T0 + 61_000, 'read', 25, 0, 75, 0, 5, 5]]),
    ]),
  );
  const g = plots[0];
  expect(g.servedShare).toEqual([0.2, 0.1, 0.1, 0.25]);
  // Wilson at z 1.96 on 300 requests, 30 of them domain's.
  expect(g.shareIntervalLow[2]).toBeCloseTo(0.0711, 3);
  expect(g.shareIntervalHigh[2]).toBeCloseTo(0.1391, 3);
  expect(g.shareIntervalHigh[0]! - g.shareIntervalLow[0]!).toBeGreaterThan(g.shareIntervalHigh[2]! - g.shareIntervalLow[2]!);
});
