import { approveSignal, rollbackSignal, type RolloutStatus } from '../../src/contracts/definitions';
import type { Fault } from '../helpers/fake-target';
import { useTimeSkippingEnv } from '../helpers/temporal';
import { FakeTarget, seedPlan, waitForStatus, withRollout, type RolloutHandle } from '../helpers/workflow-harness';

jest.setTimeout(600_000);

const testEnv = useTimeSkippingEnv();

/** The seed plan with checks every minute; phase 2 also runs an operator command. */
function plan() {
  const p = seedPlan();
  p.defaults.checkInterval = '1m';
  // A served share half the configured one rolls back only for a plan that opts in.
  p.defaults.thresholds = { ...p.defaults.thresholds, servedShare: { tolerance: 0.1, rollbackFactor: 1.5 } };
  p.phases[0].checks = ['command'];
  p.phases[0].command = { run: 'bash tools/rollout_phase2_3.sh' };
  return p;
}

/** Approves phase 3 when asked, until the rollout has rolled back. */
async function untilRolledBack(handle: RolloutHandle): Promise<RolloutStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await waitForStatus(testEnv(), handle, (x) => x.state === 'rolled-back' || x.state === 'awaiting-approval', '10m');
    if (s.state === 'rolled-back') return s;
    await handle.signal(approveSignal, { by: 'alice' });
    await testEnv().sleep('1m');
  }
  throw new Error('never rolled back');
}

const cases: Array<{ fault: Fault['kind']; group: string; atPercent: number; trigger: string; reverted: string[] }> = [
  { fault: 'errorRate', group: 'read', atPercent: 10, trigger: 'errorRate', reverted: ['read'] },
  { fault: 'command', group: 'read', atPercent: 25, trigger: 'command', reverted: ['read'] },
  { fault: 'successRate', group: 'read', atPercent: 50, trigger: 'successRate', reverted: ['read'] },
  { fault: 'errorRate', group: 'read', atPercent: 100, trigger: 'errorRate', reverted: ['read'] },
  { fault: 'p95', group: 'write', atPercent: 5, trigger: 'p95', reverted: ['write'] },
  { fault: 'writeProbe', group: 'write', atPercent: 10, trigger: 'writeProbe', reverted: ['write'] },
  { fault: 'servedShare', group: 'write', atPercent: 25, trigger: 'servedShare', reverted: ['write'] },
  { fault: 'dataConsistency', group: 'write', atPercent: 50, trigger: 'dataConsistency', reverted: ['write'] },
];

test.each(cases)('$fault at $group $atPercent% rolls back $reverted with trigger $trigger', async ({ fault, group, atPercent, trigger, reverted }) => {
  const target = new FakeTarget();
  target.faults = [{ group, atPercent, kind: fault }];
  const result = await withRollout(testEnv(), target, plan(), async (handle) => {
    await untilRolledBack(handle);
    return handle.result();
  });
  expect(result.state).toBe('rolled-back');
  expect(result.rollback).toMatchObject({ trigger, by: null, groups: reverted });
  expect(result.rollback!.completedAt).not.toBeNull();
  expect(target.rollbacks.map((r) => r.group)).toEqual(reverted);
  for (const g of reverted) expect(target.percents[g]).toBe(0);
  for (const g of reverted) expect(result.groups[g]).toEqual({ percent: 0, state: 'rolled-back' });
  // It failed at the step where the fault began, not before, and went no further.
  const applied = target.applied.filter((a) => a.group === group).map((a) => a.percent);
  expect(applied[applied.length - 1]).toBe(atPercent);
  const failed = result.history.filter((h) => h.group === group).pop()!;
  expect(failed).toMatchObject({ percent: atPercent, outcome: 'rolled-back' });
  expect(failed.reason).toContain(trigger);
});

test('a read-group failure while phase 3 runs reverts writes first, then reads', async () => {
  const target = new FakeTarget();
  const result = await withRollout(testEnv(), target, plan(), async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'awaiting-approval', '30m');
    await handle.signal(approveSignal, { by: 'alice' });
    await waitForStatus(testEnv(), handle, (s) => s.group === 'write' && s.percent === 10 && s.state === 'observing', '10m');
    target.faults = [{ group: 'read', atPercent: 100, kind: 'errorRate' }];
    await untilRolledBack(handle);
    return handle.result();
  });
  expect(result.rollback).toMatchObject({ trigger: 'errorRate', groups: ['write', 'read'] });
  expect(target.rollbacks.map((r) => r.group)).toEqual(['write', 'read']);
  expect(target.percents).toEqual({ read: 0, write: 0 });
});

test('a monitored group failing while the next step is being applied rolls back then: the apply is cancelled', async () => {
  const target = new FakeTarget();
  // The target takes writes to 5% but never confirms it; meanwhile the reads, done at 100%, fail.
  target.stuckApply = {
    group: 'write',
    percent: 5,
    onStart: () => (target.faults = [{ group: 'read', atPercent: 100, kind: 'errorRate' }]),
  };
  const result = await withRollout(testEnv(), target, plan(), async (handle) => {
    await untilRolledBack(handle);
    return handle.result();
  });
  expect(target.applyCancelled).toBeGreaterThanOrEqual(1);
  expect(result.events.map((e) => e.message)).toContain('applying → rolling-back');
  expect(result.rollback).toMatchObject({ trigger: 'errorRate', groups: ['write', 'read'] });
  expect(target.rollbacks.map((r) => r.group)).toEqual(['write', 'read']);
  expect(target.percents).toEqual({ read: 0, write: 0 });
  // Decided while the writes were being applied: the step's only record, and it ended rolled back.
  expect(result.history.filter((h) => h.group === 'write')).toMatchObject([{ percent: 5, outcome: 'rolled-back' }]);
});

test('manual rollback during phase 3 reverts the write group only, recording who and why', async () => {
  const target = new FakeTarget();
  const result = await withRollout(testEnv(), target, plan(), async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'awaiting-approval', '30m');
    await handle.signal(approveSignal, { by: 'alice' });
    await waitForStatus(testEnv(), handle, (s) => s.group === 'write' && s.percent === 25, '30m');
    await handle.signal(rollbackSignal, { by: 'bob', reason: '严重业务影响' });
    return handle.result();
  });
  expect(result.state).toBe('rolled-back');
  expect(result.rollback).toMatchObject({ trigger: 'manual', reason: '严重业务影响', by: 'bob', groups: ['write'] });
  expect(target.percents).toEqual({ read: 100, write: 0 });
  expect(result.history.filter((h) => h.group === 'write').pop()).toMatchObject({ percent: 25, outcome: 'rolled-back', by: 'bob' });
});

test('kill-switch rollbacks use the kill switch', async () => {
  const p = plan();
  p.defaults.rollbackWith = 'kill-switch';
  const target = new FakeTarget();
  target.faults = [{ group: 'read', atPercent: 25, kind: 'errorRate' }];
  const result = await withRollout(testEnv(), target, p, async (handle) => {
    await untilRolledBack(handle);
    return handle.result();
  });
  expect(result.rollback?.trigger).toBe('errorRate');
  expect(target.rollbacks).toEqual([{ group: 'read', mode: 'kill-switch' }]);
});
