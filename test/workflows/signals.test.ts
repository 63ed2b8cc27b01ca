import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  approveSignal,
  completeSignal,
  pauseSignal,
  resumeSignal,
  rollbackSignal,
  statusQuery,
} from '../../src/contracts/definitions';
import { useTimeSkippingEnv } from '../helpers/temporal';
import { endRollout, FakeTarget, seedPlan, waitForStatus, withRollout } from '../helpers/workflow-harness';

jest.setTimeout(240_000);
// The hangs this guarded against were the test server refusing a CancelTimer that raced a timer
// firing (temporalio/sdk-java#2606); the workflow no longer cancels timers (`timerAt`). The retry
// stays as a guard: a real failure still fails all three tries.

const testEnv = useTimeSkippingEnv();

function plan() {
  const p = seedPlan();
  p.defaults.checkInterval = '1m';
  return p;
}

const lastEvent = (s: { events: Array<{ name?: string }> }, name: string) =>
  s.events.filter((e) => e.name === name).pop();

describe('hold at the end of a window', () => {
  test('an error rate between target and rollback holds for a human; approve goes on', async () => {
    const target = new FakeTarget();
    target.faults = [{ group: 'read', atPercent: 25, kind: 'holdErrorRate' }];
    await withRollout(testEnv(), target, plan(), async (handle) => {
      const held = await waitForStatus(testEnv(), handle, (s) => s.state === 'holding', '10m');
      expect(held.percent).toBe(25);
      expect(held.awaiting).toMatchObject({ kind: 'hold' });
      expect(held.awaiting!.prompt).toMatch(/hold at the end of the 1h window: domain error rate 3\.00%/);
      expect(held.lastCheck?.verdict).toBe('hold');
      // Nobody answers for a day: nothing moves on its own.
      await testEnv().sleep('24h');
      expect((await handle.query(statusQuery)).state).toBe('holding');
      expect(target.applied.map((a) => a.percent)).toEqual([10, 25]);
      await handle.signal(approveSignal, { by: 'alice', comment: 'known noisy client' });
      const next = await waitForStatus(testEnv(), handle, (s) => s.percent === 50, '1m');
      expect(next.history[1]).toMatchObject({
        percent: 25,
        outcome: 'approved',
        by: 'alice',
        verdict: 'hold',
      });
      expect(target.rollbacks).toEqual([]);
      await endRollout(handle);
    });
  });

  test('too few samples is inconclusive, not a failure: hold; rollback reverts', async () => {
    const target = new FakeTarget();
    target.faults = [{ group: 'read', atPercent: 10, kind: 'fewSamples' }];
    const result = await withRollout(testEnv(), target, plan(), async (handle) => {
      // First the window is extended (maxExtensions, 3 by default), each time saying what is missing.
      const extended = await waitForStatus(testEnv(), handle, (s) => (s.extension?.count ?? 0) >= 1, '40m');
      expect(extended.state).toBe('observing');
      expect(extended.extension).toEqual({
        count: 1,
        max: 3,
        missing: '0 of 50 domain requests, 0 of 50 requests',
      });
      const held = await waitForStatus(testEnv(), handle, (s) => s.state === 'holding', '3h');
      const extensions = held.events.filter((e) =>
        /window extended by 30m \(extension \d of 3\)/.test(e.message),
      );
      expect(extensions.map((e) => e.message)).toEqual(
        [1, 2, 3].map(
          (i) =>
            `phase2-read at 10%: only 0 of 50 domain requests, 0 of 50 requests; window extended by 30m (extension ${i} of 3)`,
        ),
      );
      // 30m and three more windows: held two hours after the step began.
      expect(Date.parse(held.awaiting!.since) - Date.parse(held.stepStartedAt!)).toBeGreaterThanOrEqual(
        2 * 3600_000,
      );
      expect(held.lastCheck?.verdict).toBe('inconclusive');
      expect(held.awaiting!.prompt).toMatch(/only \d+ domain requests \(need 50\)/);
      await handle.signal(rollbackSignal, { by: 'bob', reason: 'not enough traffic to judge' });
      return handle.result();
    });
    expect(result.state).toBe('rolled-back');
    expect(result.rollback).toMatchObject({ trigger: 'manual', by: 'bob', groups: ['read'] });
    expect(target.percents.read).toBe(0);
  });

  test('legacy and domain equally bad (2.5%, a shared database): a hold that says it is not the canary, no rollback', async () => {
    const target = new FakeTarget();
    target.faults = [{ group: 'read', atPercent: 10, kind: 'sharedErrors' }];
    await withRollout(testEnv(), target, plan(), async (handle) => {
      const held = await waitForStatus(testEnv(), handle, (s) => s.state === 'holding', '2h');
      expect(held.percent).toBe(10);
      expect(held.awaiting!.prompt).toMatch(/legacy 2\.5%, domain 2\.5%: not the canary/);
      expect(target.rollbacks).toEqual([]);
      await endRollout(handle);
    });
  });

  test('a metrics source that keeps failing holds instead of rolling back', async () => {
    const target = new FakeTarget();
    target.faults = [{ group: 'read', atPercent: 10, kind: 'metricsDown' }];
    await withRollout(testEnv(), target, plan(), async (handle) => {
      const held = await waitForStatus(testEnv(), handle, (s) => s.state === 'holding', '2m');
      // Checks go on while holding, so the count may already have grown; the hold came at the 6th.
      expect(held.metricErrors).toBeGreaterThanOrEqual(6);
      expect(held.awaiting!.prompt).toMatch(/metrics source failed 6 times in a row.*ECONNREFUSED/);
      expect(target.rollbacks).toEqual([]);
      await endRollout(handle);
    });
  });
});

test('pause freezes the window and stops advancing; checks go on; resume finishes the remaining window', async () => {
  const target = new FakeTarget();
  await withRollout(testEnv(), target, plan(), async (handle) => {
    const observing = await waitForStatus(
      testEnv(),
      handle,
      (s) => s.state === 'observing' && s.percent === 10,
      '1m',
    );
    await testEnv().sleep('10m');
    await handle.signal(pauseSignal, { by: 'alice', reason: 'deploy freeze' });
    const paused = await handle.query(statusQuery);
    expect(paused.state).toBe('paused');
    // The 30m window began when the step did: what was left of it at the pause.
    const left = 30 * 60_000 - ((await testEnv().currentTimeMs()) - Date.parse(observing.stepStartedAt!));
    const checks = target.sampleCalls;
    await testEnv().sleep('2h');
    const still = await handle.query(statusQuery);
    expect(still.state).toBe('paused');
    expect(still.windowEndsAt).toBeNull();
    // Two hours later the same is left; the mocked observation runs one check (1m) ahead of the
    // workflow's clock (it returns at once, the workflow catches up on a timer), so within a check.
    expect(left).toBeGreaterThanOrEqual(15 * 60_000);
    expect(still.windowRemainingMs).toBeGreaterThanOrEqual(left - 60_000);
    expect(still.windowRemainingMs).toBeLessThanOrEqual(left + 60_000);
    expect(target.applied.map((a) => a.percent)).toEqual([10]);
    expect(target.sampleCalls - checks).toBeGreaterThanOrEqual(100);
    await handle.signal(resumeSignal, { by: 'alice' });
    expect((await handle.query(statusQuery)).state).toBe('observing');
    const next = await waitForStatus(testEnv(), handle, (s) => s.percent === 25, '5m');
    const first = next.history[0];
    expect(Date.parse(first.endedAt!) - Date.parse(first.startedAt)).toBeGreaterThanOrEqual(
      30 * 60_000 + 2 * 3_600_000 - 60_000,
    );
    await endRollout(handle);
  });
});

test('pause during a hold blocks approval until resumed', async () => {
  const target = new FakeTarget();
  target.faults = [{ group: 'read', atPercent: 10, kind: 'holdErrorRate' }];
  await withRollout(testEnv(), target, plan(), async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'holding', '10m');
    await handle.signal(pauseSignal, { by: 'alice' });
    await handle.signal(approveSignal, { by: 'alice' });
    const s = await handle.query(statusQuery);
    expect(s.state).toBe('paused');
    expect(lastEvent(s, 'approve')).toMatchObject({
      accepted: false,
      message: 'approve refused: the rollout is paused; resume first',
    });
    await handle.signal(resumeSignal, { by: 'alice' });
    expect((await handle.query(statusQuery)).state).toBe('holding');
    await endRollout(handle);
  });
});

test('signals that make no sense change nothing and are recorded', async () => {
  const target = new FakeTarget();
  await withRollout(testEnv(), target, plan(), async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'observing', '1m');
    const before = await handle.query(statusQuery);
    await handle.signal(approveSignal, { by: 'alice' });
    await handle.signal(resumeSignal, { by: 'alice' });
    await handle.signal(completeSignal, { by: 'alice' });
    await handle.signal(rollbackSignal, { by: 'alice', group: 'payments' });
    await handle.signal(approveSignal, {} as never);
    const after = await handle.query(statusQuery);
    expect(after.state).toBe('observing');
    expect(after.percent).toBe(before.percent);
    const refused = after.events.filter((e) => e.kind === 'signal');
    expect(refused.map((e) => [e.name, e.accepted, e.message])).toEqual([
      ['approve', false, 'approve refused: nothing awaits approval (state observing)'],
      ['resume', false, 'resume refused: not paused (state observing)'],
      [
        'complete',
        false,
        'complete refused: complete ends continuous monitoring once every phase is at its last step (state observing)',
      ],
      ['rollback', false, 'rollback refused: unknown group "payments" (groups: read, write)'],
      ['approve', false, 'approve refused: "by" is required (who sends the signal)'],
    ]);
    await testEnv().sleep('40m');
    expect(target.applied.map((a) => a.percent)).toEqual([10, 25]);
    await endRollout(handle);
  });
});

test('approvers outside the list are refused, for every signal', async () => {
  const p = plan();
  p.approvers = ['alice'];
  const target = new FakeTarget();
  await withRollout(testEnv(), target, p, async (handle) => {
    const awaiting = await waitForStatus(testEnv(), handle, (s) => s.state === 'awaiting-approval', '30m');
    expect(awaiting.phase).toBe('phase3-write');
    await handle.signal(approveSignal, { by: 'mallory' });
    await handle.signal(rollbackSignal, { by: 'mallory' });
    let s = await handle.query(statusQuery);
    expect(s.state).toBe('awaiting-approval');
    expect(lastEvent(s, 'approve')).toMatchObject({
      accepted: false,
      by: 'mallory',
      message: 'approve refused: mallory is not an approver (approvers: alice)',
    });
    expect(lastEvent(s, 'rollback')).toMatchObject({ accepted: false, by: 'mallory' });
    await testEnv().sleep('1h');
    expect(target.applied.filter((a) => a.group === 'write')).toEqual([]);
    await handle.signal(approveSignal, { by: 'alice' });
    s = await waitForStatus(testEnv(), handle, (x) => x.group === 'write' && x.percent === 5, '1m');
    expect(lastEvent(s, 'approve')).toMatchObject({ accepted: true, by: 'alice' });
    await endRollout(handle, 'alice');
  });
});

test('an invalid plan fails the workflow at once, non-retryable, naming every problem', async () => {
  const p = plan();
  p.phases[0].steps[1].percent = 150;
  p.phases[1].steps[1].percent = 2;
  (p.phases[1] as { checks: string[] }).checks = ['dataConsistency', 'vibes'];
  const target = new FakeTarget();
  const err = await withRollout(testEnv(), target, p, (handle) =>
    handle.result().then(
      () => null,
      (e) => e,
    ),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).nonRetryable).toBe(true);
  expect((cause as ApplicationFailure).type).toBe('InvalidPlan');
  expect(cause!.message).toContain('phases[0].steps[1].percent: must be 0..100');
  expect(cause!.message).toContain('phases[1].steps[1].percent: must be greater than the step before (5)');
  expect(cause!.message).toMatch(/phases\[1\]\.checks\[1\]: /);
  expect(target.applied).toEqual([]);
});
