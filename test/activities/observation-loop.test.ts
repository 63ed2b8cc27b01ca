/**
 * The observing activity's loop with an injected clock: a 30-minute window of 10-second checks
 * runs in milliseconds, and a worker's death is a jump of the clock with the state resumed from
 * the last heartbeat.
 */
import {
  startObservation,
  type ObservationInput,
  type ObservationResult,
  type ObservationState,
} from '../../src/contracts/observation';
import { runObservation, type ObservationDeps } from '../../src/activities/observation-loop';
import { planSchema } from '../../src/plan/schema';
import type { GroupSample, ImplStats, MetricsReading } from '../../src/judge/samples';
import type { JudgeContext } from '../../src/judge/window-judge';
import { seedPlan } from '../helpers/workflow-harness';

const plan = planSchema.parse(seedPlan());
const t = plan.defaults.thresholds;
const INTERVAL = 10_000;
const WINDOW = 30 * 60_000;
const START = Date.parse('2026-12-01T03:00:00Z');

const context = (percent: number): JudgeContext => ({
  percent,
  thresholds: t,
  checks: ['errorRate', 'successRate', 'p95', 'servedShare'],
  baseline: null,
  plannedLooks: (WINDOW / INTERVAL) * 4,
  continuousLooks: 8640,
  lookbackChecks: 12,
});

/** Traffic of `rps` requests/s, `percent` of it to the domain, with `domainErrors` of those failing. */
function stats(requests: number, errorRate: number): ImplStats {
  const errors = Math.round(requests * errorRate);
  const fast = Math.round(requests * 0.9);
  return {
    requests,
    errors,
    successes: requests - errors,
    buckets: [
      [0.05, fast],
      [0.1, requests],
    ],
  };
}

interface World {
  deps: ObservationDeps;
  clock: { now: number };
  heartbeats: ObservationState[];
  samples: Array<{ from: string; to: string; previous: unknown }>;
}

/**
 * A world whose metrics show `percent` of 50 requests/s at the domain; `failAt(ms)` makes the
 * read at that time fail, `errorRate(ms)` sets the domain's error rate, `stopAt` ends a sleep.
 */
function world(
  o: {
    percent?: number;
    failAt?: (ms: number) => boolean;
    errorRate?: (ms: number) => number;
    stopAt?: number;
    warmupAt?: (ms: number) => boolean;
  } = {},
): World {
  const clock = { now: START };
  const heartbeats: ObservationState[] = [];
  const samples: World['samples'] = [];
  const percent = o.percent ?? 10;
  const deps: ObservationDeps = {
    now: () => clock.now,
    async sleep(ms) {
      if (o.stopAt !== undefined && clock.now + ms >= o.stopAt) {
        clock.now = Math.max(clock.now, o.stopAt);
        return false;
      }
      clock.now += ms;
      return true;
    },
    async sample(groups, from, to): Promise<MetricsReading> {
      samples.push({ from, to, previous: groups[0]?.previous ?? null });
      if (o.failAt?.(clock.now)) return { samples: {}, error: 'metrics: connection refused' };
      const seconds = (Date.parse(to) - Date.parse(from)) / 1000;
      const total = Math.round(50 * seconds);
      const domain = Math.round((total * percent) / 100);
      const sample: GroupSample = {
        from,
        to,
        domain: stats(domain, o.errorRate?.(clock.now) ?? 0.005),
        legacy: stats(total - domain, 0.005),
        ...(o.warmupAt?.(clock.now) ? { warmup: true } : {}),
        // As a `/metrics` scrape's provider does: the reading the next sample is a difference to.
        reference: { at: to, values: { requests: samples.length } },
      };
      return { samples: Object.fromEntries(groups.map((g) => [g.group, sample])) };
    },
    async consistency() {
      return { ok: true, checked: 3, differences: [] };
    },
    heartbeat: (s) => heartbeats.push(structuredClone(s)),
  };
  return { deps, clock, heartbeats, samples };
}

function input(patch: Partial<ObservationInput> = {}, percent = 10): ObservationInput {
  return {
    rolloutId: 'r1',
    metrics: plan.target.metrics,
    groups: [
      {
        group: 'write',
        endpoints: ['POST /orders'],
        context: context(percent),
        appliedAtMs: START,
        consistency: false,
      },
    ],
    primary: 'write',
    checkIntervalMs: INTERVAL,
    sliceMs: 8 * 3_600_000,
    maxMetricErrors: 5,
    state: startObservation(WINDOW),
    ...patch,
  };
}

const looks = (r: ObservationResult) => r.state.judges.write.looks;

describe('observation loop', () => {
  test('a healthy 30-minute window: 180 checks, each judged and heartbeated, then window-end', async () => {
    const w = world();
    const r = await runObservation(input(), w.deps);
    expect(r.end).toEqual({ kind: 'window-end' });
    expect(w.clock.now - START).toBe(WINDOW);
    expect(r.state.checks).toBe(180);
    expect(looks(r)).toBe(180);
    expect(w.heartbeats).toHaveLength(180);
    expect(r.state.evidence).toHaveLength(180);
    // Both P95s at 75 ms: 90% of requests under 50 ms, all under 100 ms, interpolated in the bucket.
    expect(r.state.evidence[0]).toEqual([START + INTERVAL, 'write', 50, 0, 450, 2, 75, 75]);
    expect(r.state.windowRemainingMs).toBe(0);
    expect(r.state.lastCheck!.results.every((x) => x.verdict === 'pass')).toBe(true);
    // Samples follow each other without a gap or an overlap.
    for (let i = 1; i < w.samples.length; i++) expect(w.samples[i].from).toBe(w.samples[i - 1].to);
  });

  test('50% domain errors from the 5th minute: rollback at the next checks, with the evidence', async () => {
    const w = world({ errorRate: (ms) => (ms - START > 5 * 60_000 ? 0.5 : 0.005) });
    const r = await runObservation(input(), w.deps);
    expect(r.end).toMatchObject({ kind: 'rollback', group: 'write' });
    const checksAfterOnset = r.state.checks - 30;
    expect(checksAfterOnset).toBeGreaterThanOrEqual(1);
    expect(checksAfterOnset).toBeLessThanOrEqual(2);
    const results = (r.end as { results: Array<{ verdict: string; check: string }> }).results;
    expect(results.find((x) => x.verdict === 'rollback')!.check).toBe('errorRate');
  });

  test('slices: the window goes on from the returned state and ends after the same 180 checks', async () => {
    const w = world();
    const first = await runObservation(input({ sliceMs: 5 * 60_000 }), w.deps);
    expect(first.end).toEqual({ kind: 'slice' });
    expect(first.state.checks).toBe(30);
    expect(first.state.windowRemainingMs).toBe(WINDOW - 30 * INTERVAL);
    let r = first;
    while (r.end.kind === 'slice')
      r = await runObservation(input({ sliceMs: 5 * 60_000, state: r.state }), w.deps);
    expect(r.end).toEqual({ kind: 'window-end' });
    expect(r.state.checks).toBe(180);
    expect(looks(r)).toBe(180);
    expect(w.clock.now - START).toBe(WINDOW);
  });

  test('stopped (pause, rollback): returns the state so far', async () => {
    const w = world({ stopAt: START + 95_000 });
    const r = await runObservation(input(), w.deps);
    expect(r.end).toEqual({ kind: 'stopped' });
    expect(r.state.checks).toBe(9);
    expect(r.state.nextCheckAt).toBe(START + 100_000);
    expect(r.state.windowRemainingMs).toBe(WINDOW - 90_000);
  });

  test('failed reads are blind time: the window is extended by them, the traffic judged by the next read', async () => {
    const failing = (ms: number) => ms > START + 60_000 && ms <= START + 90_000;
    const w = world({ failAt: failing });
    const r = await runObservation(input(), w.deps);
    expect(r.end).toEqual({ kind: 'window-end' });
    expect(r.state.blindMs).toBe(30_000);
    expect(w.clock.now - START).toBe(WINDOW + 30_000);
    // The read after the failures covers them: 40 s of traffic in one sample.
    const after = w.samples.find((s) => Date.parse(s.to) === START + 100_000)!;
    expect(Date.parse(after.from)).toBe(START + 60_000);
    expect(r.state.evidence.reduce((n, row) => n + row[2], 0)).toBe(
      ((50 * WINDOW) / 1000) * 0.1 + 50 * 30 * 0.1,
    );
    expect(r.warnings.filter((x) => x.startsWith('metrics source error'))).toHaveLength(3);
    expect(r.warnings).toContain('metrics unread for 40s: the window is extended by 30s');
  });

  test('a worker dead for a minute: resumed from the heartbeat, the gap is blind time and its traffic judged', async () => {
    const w = world();
    const before = await runObservation(input({ sliceMs: 2 * 60_000 }), w.deps);
    const lastBeat = w.heartbeats[w.heartbeats.length - 1];
    w.clock.now += 60_000; // no worker ran
    const r = await runObservation(input({ state: lastBeat }), w.deps);
    expect(before.state.checks).toBe(12);
    expect(r.end).toEqual({ kind: 'window-end' });
    // The check that was due at 130 s runs at once at 180 s: 15 s of the gap watched, 45 s blind,
    // and the minute's traffic judged in that one sample.
    expect(r.state.blindMs).toBe(45_000);
    expect(r.warnings).toContain('metrics unread for 1m: the window is extended by 45s');
    expect(r.state.evidence.find((row) => row[0] === START + 180_000)![2]).toBe(300);
    // 30 minutes watched and 45 s blind, rounded up to the next check (windows end at a check).
    expect(w.clock.now - START).toBe(WINDOW + 50_000);
  });

  test("each group's last reading is kept in the state, resumed from the heartbeat, kept over a failed read", async () => {
    const w = world({ failAt: (ms) => ms === START + 190_000 });
    await runObservation(input({ sliceMs: 2 * 60_000 }), w.deps);
    const lastBeat = w.heartbeats[w.heartbeats.length - 1];
    expect(lastBeat.references).toEqual({ write: { at: w.samples[11].to, values: { requests: 12 } } });
    // The first sample has none; each next one gets the reading of the one before.
    expect(w.samples[0].previous).toBeNull();
    expect(w.samples[5].previous).toEqual({ at: w.samples[4].to, values: { requests: 5 } });
    w.clock.now += 60_000; // the worker died; a new one (no memory) resumes from the heartbeat
    const r = await runObservation(input({ state: lastBeat, sliceMs: 60_000 }), w.deps);
    expect(w.samples[12].previous).toEqual(lastBeat.references!.write);
    // The read at 190 s fails: the one after it is still a difference to the last good one (180 s).
    expect(w.samples[13].to).toBe(new Date(START + 190_000).toISOString());
    expect(w.samples[13].previous).toEqual({ at: w.samples[12].to, values: { requests: 13 } });
    expect(w.samples[14].previous).toEqual({ at: w.samples[12].to, values: { requests: 13 } });
    expect(w.samples[15].previous).toEqual({ at: w.samples[14].to, values: { requests: 15 } });
    // The judges keep samples, not readings: nothing of the reference reaches them.
    expect(JSON.stringify(r.state.judges)).not.toContain('values');
  });

  test('metrics failing maxMetricErrors times in a row: metrics-hold', async () => {
    const w = world({ failAt: () => true });
    const r = await runObservation(input(), w.deps);
    expect(r.end).toEqual({ kind: 'metrics-hold', error: 'metrics: connection refused' });
    expect(r.state.metricErrors).toBe(5);
    expect(r.state.lastCheck!.results[0].reason).toBe('metrics source error: metrics: connection refused');
    expect(r.state.windowRemainingMs).toBe(WINDOW);
  });

  test('warm-up samples and samples from before the last change of percent are not judged', async () => {
    const w = world({ warmupAt: (ms) => ms === START + INTERVAL });
    const r = await runObservation(
      input({
        groups: [
          {
            group: 'write',
            endpoints: ['POST /orders'],
            context: context(10),
            appliedAtMs: START + 15_000,
            consistency: false,
          },
        ],
        state: startObservation(60_000),
      }),
      w.deps,
    );
    // Checks at 10 s (warm-up), 20 s (began at 10 s, before the change at 15 s), then 30..60 s judged.
    expect(r.state.checks).toBe(6);
    expect(looks(r)).toBe(4);
  });

  test('a group at 0% is summed for its baseline, never judged', async () => {
    const w = world({ percent: 0 });
    const r = await runObservation(input({ state: startObservation(60_000) }, 0), w.deps);
    expect(r.end).toEqual({ kind: 'window-end' });
    expect(r.state.judges.write.looks).toBe(0);
    expect(r.state.judges.write.window!.legacy.requests).toBe(3000);
    expect(r.state.evidence).toHaveLength(0);
  });

  test('no window (a hold): checks go on until the slice ends', async () => {
    const w = world();
    const r = await runObservation(input({ sliceMs: 60_000, state: startObservation(null) }), w.deps);
    expect(r.end).toEqual({ kind: 'slice' });
    expect(r.state.checks).toBe(6);
    expect(r.state.windowRemainingMs).toBeNull();
  });

  test('the consistency check runs at every check of a group that asks for it', async () => {
    const w = world();
    let runs = 0;
    const deps = {
      ...w.deps,
      consistency: async () => (runs++, { ok: false, checked: 3, differences: [{ id: 'a' }] }),
    };
    const r = await runObservation(
      input({
        groups: [{ ...input().groups[0], consistency: true }],
      }),
      deps as unknown as ObservationDeps,
    );
    expect(runs).toBe(1);
    expect(r.end).toMatchObject({ kind: 'rollback', group: 'write' });
    expect((r.end as { results: Array<{ check: string; verdict: string }> }).results).toContainEqual(
      expect.objectContaining({ check: 'dataConsistency', verdict: 'rollback' }),
    );
  });
});
