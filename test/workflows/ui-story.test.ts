/**
 * Temporal's own UI tells the story: the rollout's current details (markdown) follow what it does
 * and what it waits for, and its activities carry summaries ("observe phase2-read at 10% for 30m").
 */
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { rollbackUpdate } from '../../src/contracts/definitions';
import { useTimeSkippingEnv } from '../helpers/temporal';
import {
  FakeTarget,
  historiesOf,
  seedPlan,
  waitForStatus,
  withRollout,
  type RolloutHandle,
} from '../helpers/workflow-harness';

jest.setTimeout(240_000);

const testEnv = useTimeSkippingEnv();
const EventType = temporal.api.enums.v1.EventType;

async function details(handle: RolloutHandle): Promise<string> {
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}

test('current details and activity summaries say what the rollout does, waits for, and what to run', async () => {
  const p = seedPlan();
  p.defaults.checkInterval = '1m';
  p.approvers = ['alice'];
  const target = new FakeTarget();
  await withRollout(testEnv(), target, p, async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'observing' && s.percent === 10, '1m');
    await testEnv().sleep('5m');
    const observing = await details(handle);
    expect(observing).toMatch(
      /^\*\*observing\*\* phase2-read \(group read\) at 10%, window \d+m\d\ds left$/m,
    );
    expect(observing).toMatch(/^groups: read 10% observing · write 0% pending$/m);
    expect(observing).toMatch(/^last check \d\d:\d\d:\d\dZ read: pass \(errors /m);

    await waitForStatus(testEnv(), handle, (s) => s.state === 'awaiting-approval', '10m');
    const waiting = await details(handle);
    expect(waiting).toContain(
      'waiting for approval: phase2-read is at 100% and passed; approve to start phase3-write at 5%',
    );
    expect(waiting).toContain(`next: \`npx rollout approve ${handle.workflowId} --by alice`);

    await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', reason: 'enough for a test' }] });
    const done = await details(handle);
    // Phase 3 awaits its approval: a rollback reverts what is live, the reads at 100%.
    expect(done.split('\n')[0]).toBe(
      '**ROLLED BACK (manual)**: enough for a test (by alice); reverted read',
    );

    const runs = await historiesOf(testEnv().client, handle.workflowId, handle.firstExecutionRunId);
    const summaries = runs
      .flatMap((r) => r.events)
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.userMetadata?.summary)
      .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
    expect(summaries).toEqual(
      expect.arrayContaining([
        'measure the phase2-read baseline for 1m',
        'set read to 10% (phase2-read step 1 of 4)',
        'verify phase2-read at 10%: functional',
        'observe phase2-read at 10% for 30m',
        'set read to 100% (phase2-read step 4 of 4)',
        'watch phase2-read at 100%',
        'roll back read to legacy (manual)',
      ]),
    );
  });
});
