/**
 * No handler waits forever (issue 21, 2): an accepted Update answers once its request took effect
 * or, when a rollback overtook it, is refused ("the rollout rolled back"), and the run ends; a new
 * run (continue-as-new) never waits for an Update that waits for the story.
 */
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import {
  approveUpdate,
  completeUpdate,
  pauseSignal,
  resumeSignal,
  rollbackSignal,
  statusQuery,
  type CommandOutcome,
} from '../../src/contracts/definitions';
import { useTimeSkippingEnv } from '../helpers/temporal';
import { FakeTarget, seedPlan, waitForStatus, withRollout } from '../helpers/workflow-harness';

jest.setTimeout(300_000);

const testEnv = useTimeSkippingEnv();

/** The seed plan with reads that run straight to monitoring, and a phase 3 that awaits approval. */
function plan() {
  const p = seedPlan();
  p.defaults.checkInterval = '1m';
  return p;
}

/** Makes the next observation slow to settle and waits until it has begun. */
async function slowObservation(target: FakeTarget): Promise<void> {
  target.observeDelayMs = 5000;
  const seen = target.observations;
  while (target.observations === seen) await new Promise((r) => setTimeout(r, 20));
}

async function refusedWith(update: Promise<CommandOutcome>): Promise<string> {
  const err = await update.then(
    () => new Error('the Update answered as if it took effect'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause?.message ?? '';
}

test('an approval accepted just before a rollback is answered "rolled back" and the run ends', async () => {
  const target = new FakeTarget();
  await withRollout(testEnv(), target, plan(), async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'awaiting-approval', '10m');
    // The monitored reads' observation is slow to settle: the approval wakes the stage, which
    // waits for it; the rollback lands meanwhile and goes first. The approval is never taken.
    await slowObservation(target);
    const approve = await handle.startUpdate(approveUpdate, {
      args: [{ by: 'alice' }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await handle.signal(rollbackSignal, { by: 'bob', reason: 'severe business impact' });
    const [answer, result] = await Promise.all([refusedWith(approve.result()), handle.result()]);
    expect(result.state).toBe('rolled-back');
    expect(answer).toBe('approve refused: accepted, but the rollout rolled back (manual: severe business impact)');
    // Phase 3 had not started: the rollback reverts what was live, the reads.
    expect(result.rollback?.groups).toEqual(['read']);
    expect(result.groups).toEqual({ read: { percent: 0, state: 'rolled-back' }, write: { percent: 0, state: 'pending' } });
  });
});

test('a completion overtaken by a rollback is refused, not reported as done, and the run ends', async () => {
  const p = plan();
  p.phases = p.phases.slice(0, 1);
  const target = new FakeTarget();
  await withRollout(testEnv(), target, p, async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'monitoring', '30m');
    await slowObservation(target);
    const complete = await handle.startUpdate(completeUpdate, {
      args: [{ by: 'alice' }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await handle.signal(rollbackSignal, { by: 'bob', reason: 'severe business impact' });
    const [answer, result] = await Promise.all([
      complete.result().then(
        (o) => o.state,
        (e: unknown) => (e as WorkflowUpdateFailedError).cause?.message,
      ),
      handle.result(),
    ]);
    expect(result.state).toBe('rolled-back');
    expect(answer).toBe('complete refused: accepted, but the rollout rolled back (manual: severe business impact)');
  });
});

test('complete, then pause, past the point a new run is due: no deadlock, the completion lands after resume', async () => {
  const target = new FakeTarget();
  const p = plan();
  p.phases = p.phases.slice(0, 1);
  await withRollout(testEnv(), target, p, async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'monitoring', '30m');
    // Accepted while an observation is slow to settle, then paused before monitoring took it.
    await slowObservation(target);
    const complete = await handle.startUpdate(completeUpdate, {
      args: [{ by: 'alice' }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await handle.signal(pauseSignal, { by: 'alice', reason: 'freeze' });
    target.observeDelayMs = 0;
    // The wait goes on paused; history grows with the checks until a new run would be due.
    let events = 0;
    for (let i = 0; i < 400 && events < 10_200; i++) {
      await testEnv().sleep('2h');
      events = (await handle.describe()).historyLength;
    }
    expect(events).toBeGreaterThanOrEqual(10_200);
    expect((await handle.query(statusQuery)).state).toBe('paused');
    await handle.signal(resumeSignal, { by: 'alice' });
    const outcome = await complete.result();
    expect(outcome.state).toBe('completed');
    expect((await handle.result()).state).toBe('completed');
  });
});



test('a kill-switch rollback reads every group back: the reads it turned off are shown at 0%, not at their old percent', async () => {
  const target = new FakeTarget();
  target.faults = [{ group: 'write', atPercent: 5, kind: 'errorRate' }];
  const p = plan();
  p.defaults.rollbackWith = 'kill-switch';
  await withRollout(testEnv(), target, p, async (handle) => {
    const s0 = await waitForStatus(testEnv(), handle, (s) => s.state === 'awaiting-approval', '10m');
    expect(s0.groups.read.percent).toBe(100);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
    const done = await handle.result();
    expect(done.rollback).toMatchObject({ trigger: 'errorRate', groups: ['write'] });
    // The switch sent every group back to legacy: the reads too, read back from the target.
    expect(done.groups).toEqual({ read: { percent: 0, state: 'completed' }, write: { percent: 0, state: 'rolled-back' } });
  });
});
