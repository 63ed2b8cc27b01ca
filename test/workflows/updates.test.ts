/**
 * The operator's requests as Updates: the guards of the signals, but a refused one is rejected by
 * its validator (nothing in the history, nothing in `events`) and an accepted one answers with the
 * state it led to.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  approveUpdate,
  completeUpdate,
  pauseUpdate,
  REFUSED,
  resumeUpdate,
  rollbackUpdate,
  statusQuery,
} from '../../src/contracts/definitions';
import { useTimeSkippingEnv } from '../helpers/temporal';
import {
  FakeTarget,
  seedPlan,
  waitForStatus,
  withRollout,
  type RolloutHandle,
} from '../helpers/workflow-harness';

jest.setTimeout(240_000);

const testEnv = useTimeSkippingEnv();
const EventType = temporal.api.enums.v1.EventType;

function plan() {
  const p = seedPlan();
  p.defaults.checkInterval = '1m';
  p.approvers = ['alice', 'bob'];
  return p;
}

/** The Update's rejection: its failure, or a test failure when it was accepted. */
async function refusal(run: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await run.then(
    () => new Error('the Update was accepted'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

async function updateEvents(handle: RolloutHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED ||
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
  ).length;
}

test('refused Updates are rejected with the guard reason and leave nothing behind', async () => {
  const target = new FakeTarget();
  await withRollout(testEnv(), target, plan(), async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'observing', '1m');
    const before = await handle.query(statusQuery);
    const cases: Array<[() => Promise<unknown>, string]> = [
      [
        () => handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }),
        'approve refused: nothing awaits approval (state observing)',
      ],
      [
        () => handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] }),
        'resume refused: not paused (state observing)',
      ],
      [
        () => handle.executeUpdate(completeUpdate, { args: [{ by: 'alice' }] }),
        'complete refused: complete ends continuous monitoring once every phase is at its last step (state observing)',
      ],
      [
        () => handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', group: 'payments' }] }),
        'rollback refused: unknown group "payments" (groups: read, write)',
      ],
      [
        () => handle.executeUpdate(pauseUpdate, { args: [{ by: 'mallory' }] }),
        'pause refused: mallory is not an approver (approvers: alice, bob)',
      ],
      [
        () => handle.executeUpdate(pauseUpdate, { args: [{} as never] }),
        'pause refused: "by" is required (who sends the signal)',
      ],
    ];
    for (const [run, message] of cases) {
      const failure = await refusal(run());
      expect(failure.message).toBe(message);
      expect(failure.type).toBe(REFUSED);
    }
    const after = await handle.query(statusQuery);
    expect(after.state).toBe('observing');
    expect(after.events.filter((e) => e.kind === 'signal')).toEqual([]);
    expect(after.events.length).toBe(before.events.length);
    expect(await updateEvents(handle)).toBe(0);
    await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', reason: 'end of test' }] });
  });
});

test('accepted Updates answer with the state they led to: pause, resume, approve, rollback', async () => {
  const target = new FakeTarget();
  await withRollout(testEnv(), target, plan(), async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'observing' && s.percent === 10, '1m');
    const paused = await handle.executeUpdate(pauseUpdate, {
      args: [{ by: 'alice', reason: 'deploy freeze' }],
    });
    expect(paused).toMatchObject({
      message: 'pause accepted: deploy freeze',
      state: 'paused',
      phase: 'phase2-read',
      percent: 10,
    });
    // Refused now that it is paused, by the same guard as the signal.
    expect((await refusal(handle.executeUpdate(pauseUpdate, { args: [{ by: 'bob' }] }))).message).toBe(
      'pause refused: already paused',
    );
    const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ by: 'bob' }] });
    expect(resumed).toMatchObject({ message: 'resume accepted', state: 'observing' });

    const awaiting = await waitForStatus(testEnv(), handle, (s) => s.state === 'awaiting-approval', '30m');
    expect(awaiting.phase).toBe('phase3-write');
    const approved = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', comment: 'go' }] });
    expect(approved.message).toBe('approve accepted: go');
    // The write phase began: its baseline is being measured, or its first step is next.
    expect(approved.state !== 'awaiting-approval' || approved.stage === 'apply').toBe(true);
    expect(approved.phase).toBe('phase3-write');

    const s = await handle.query(statusQuery);
    expect(s.events.filter((e) => e.kind === 'signal').map((e) => [e.name, e.by, e.accepted])).toEqual([
      ['pause', 'alice', true],
      ['resume', 'bob', true],
      ['approve', 'alice', true],
    ]);
    // A rollback answers once it is done: the write phase back at 0% and confirmed (the reads,
    // finished before it, stay).
    const rolledBack = await handle.executeUpdate(rollbackUpdate, {
      args: [{ by: 'bob', reason: 'enough' }],
    });
    expect(rolledBack).toMatchObject({
      message: 'rollback accepted: enough',
      state: 'rolled-back',
      percent: 0,
    });
    const result = await handle.result();
    expect(result.rollback).toMatchObject({ trigger: 'manual', by: 'bob', reason: 'enough' });
    expect(target.rollbacks.map((r) => r.group)).toEqual(['write']);
  });
});
