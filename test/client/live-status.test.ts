import { defaultPayloadConverter } from '@temporalio/common';
import { startObservation } from '../../src/contracts/observation';
import { observationOf, withLiveCheck } from '../../src/client/live-status';
import type { RolloutStatus } from '../../src/contracts/definitions';

const status = (lastAt: string | null): RolloutStatus =>
  ({
    state: 'observing',
    windowRemainingMs: 600_000,
    metricErrors: 0,
    lastCheck: lastAt ? { at: lastAt, group: 'read', verdict: 'pass', metrics: {}, reasons: ['old'] } : null,
  }) as unknown as RolloutStatus;

const observation = (at: string) => ({
  ...startObservation(540_000),
  checks: 7,
  metricErrors: 1,
  lastCheck: {
    at,
    group: 'read',
    results: [
      {
        check: 'errorRate' as const,
        verdict: 'inconclusive' as const,
        reason: 'metrics source error: x',
        figures: {},
      },
    ],
  },
});

describe('live status', () => {
  test.each([
    // [status lastCheck at, observation lastCheck at, shown reason]
    ['2026-12-01T03:00:00Z', '2026-12-01T03:00:10Z', 'metrics source error: x'],
    ['2026-12-01T03:00:10Z', '2026-12-01T03:00:10Z', 'old'],
    ['2026-12-01T03:00:20Z', '2026-12-01T03:00:10Z', 'old'],
    [null, '2026-12-01T03:00:10Z', 'metrics source error: x'],
  ])('status check at %p, observation check at %p: shows %p', (statusAt, liveAt, reason) => {
    const shown = withLiveCheck(status(statusAt), observation(liveAt));
    expect(shown.lastCheck!.reasons).toEqual([reason]);
    if (reason !== 'old') expect(shown).toMatchObject({ metricErrors: 1, windowRemainingMs: 540_000 });
  });

  test('no observation running: the status as it is', () => {
    const s = status('2026-12-01T03:00:00Z');
    expect(withLiveCheck(s, null)).toBe(s);
  });

  test('reads the heartbeat details of the pending observeWindow activity, and nothing else', () => {
    const details = defaultPayloadConverter.toPayload(observation('2026-12-01T03:00:10Z'));
    const describe = (name: string, payloads = [details]) => ({
      raw: { pendingActivities: [{ activityType: { name }, heartbeatDetails: { payloads } }] },
    });
    expect(observationOf(describe('observeWindow'))!.checks).toBe(7);
    expect(observationOf(describe('applyTraffic'))).toBeNull();
    expect(observationOf(describe('observeWindow', []))).toBeNull();
    expect(
      observationOf(describe('observeWindow', [defaultPayloadConverter.toPayload('garbage')])),
    ).toBeNull();
    expect(observationOf({ raw: {} })).toBeNull();
  });
});
