/**
 * Records workflow histories for the replay test: `npx ts-node --transpile-only test/replay/record-histories.ts [name…]`
 * (all of them, or only the named ones: add a new history without re-recording the old).
 * Re-record only on purpose: a history recorded before a change is what proves the change does
 * not break rollouts that are already running.
 */
import { temporal } from '@temporalio/proto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  approveSignal,
  approveUpdate,
  completeSignal,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  rollbackSignal,
  rollbackUpdate,
} from '../../src/contracts/definitions';
import { createTimeSkippingEnv } from '../helpers/temporal';
import {
  FakeTarget,
  runsOf,
  seedPlan,
  waitForStatus,
  withRollout,
  type RolloutHandle,
} from '../helpers/workflow-harness';

async function main() {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  const env = await createTimeSkippingEnv();
  const save = async (name: string, handle: RolloutHandle) => {
    const runs = await runsOf(env.client, handle.workflowId, handle.firstExecutionRunId);
    for (const [i, run] of runs.entries()) {
      const history = await env.client.workflow.getHandle(handle.workflowId, run.runId).fetchHistory();
      // Binary protobuf: the SDK's JSON helpers trip over duplicate protobufjs copies.
      const file = path.join(__dirname, 'histories', `${name}-run${i + 1}.history.bin`);
      writeFileSync(file, temporal.api.history.v1.History.encode(history).finish());
      console.log(`${file}: ${run.events} events`);
    }
  };
  try {
    const plan = seedPlan();
    plan.defaults.checkInterval = '5m';
    if (want('seed-plan-completed'))
      await withRollout(env, new FakeTarget(), plan, async (handle) => {
        await waitForStatus(env, handle, (s) => s.state === 'awaiting-approval', '30m');
        await handle.signal(approveSignal, { by: 'alice' });
        await waitForStatus(env, handle, (s) => s.state === 'monitoring', '1h');
        await handle.signal(completeSignal, { by: 'alice' });
        await handle.result();
        await save('seed-plan-completed', handle);
      });

    const p2 = seedPlan();
    p2.defaults.checkInterval = '1m';
    const target = new FakeTarget();
    target.faults = [{ group: 'read', atPercent: 25, kind: 'holdErrorRate' }];
    if (want('pause-hold-manual-rollback'))
      await withRollout(env, target, p2, async (handle) => {
        await waitForStatus(env, handle, (s) => s.state === 'observing', '1m');
        await handle.signal(pauseSignal, { by: 'alice', reason: 'freeze' });
        await env.sleep('20m');
        await handle.signal(approveSignal, { by: 'alice' });
        await handle.signal(resumeSignal, { by: 'alice' });
        await waitForStatus(env, handle, (s) => s.state === 'holding', '10m');
        await handle.signal(approveSignal, { by: 'alice' });
        await waitForStatus(env, handle, (s) => s.percent === 50, '1m');
        await handle.signal(rollbackSignal, { by: 'bob', reason: '严重业务影响' });
        await handle.result();
        await save('pause-hold-manual-rollback', handle);
      });

    const t3 = new FakeTarget();
    t3.faults = [{ group: 'read', atPercent: 10, kind: 'errorRate' }];
    if (want('error-rate-rollback'))
      await withRollout(env, t3, p2, async (handle) => {
        await handle.result();
        await save('error-rate-rollback', handle);
      });

    // Recorded with the current verdict rules (the rollback-evidence-v2 patch marker is in it).
    const t4 = new FakeTarget();
    t4.faults = [{ group: 'write', atPercent: 5, kind: 'p95' }];
    if (want('p95-rollback'))
      await withRollout(env, t4, p2, async (handle) => {
        await waitForStatus(env, handle, (s) => s.state === 'awaiting-approval', '4h');
        await handle.signal(approveSignal, { by: 'alice' });
        await handle.result();
        await save('p95-rollback', handle);
      });

    // Recorded with rules v3 (the verdicts-v3 patch marker): an extended window that then holds,
    // a manual rollback; and a sequential error-rate rollback.
    const t5 = new FakeTarget();
    t5.faults = [{ group: 'read', atPercent: 10, kind: 'fewSamples' }];
    if (want('extensions-hold-rollback'))
      await withRollout(env, t5, p2, async (handle) => {
        await waitForStatus(env, handle, (s) => s.state === 'holding', '4h');
        await handle.signal(rollbackSignal, { by: 'bob', reason: 'not enough traffic to judge' });
        await handle.result();
        await save('extensions-hold-rollback', handle);
      });
    const t6 = new FakeTarget();
    t6.faults = [{ group: 'read', atPercent: 25, kind: 'errorRate' }];
    if (want('sequential-error-rate-rollback'))
      await withRollout(env, t6, p2, async (handle) => {
        await handle.result();
        await save('sequential-error-rate-rollback', handle);
      });

    // Recorded with the observing activity (the observe-activity patch marker): a pause and a
    // resume mid-window, then a sequential error-rate rollback found by the observation.
    const t7 = new FakeTarget();
    t7.faults = [{ group: 'read', atPercent: 25, kind: 'errorRate' }];
    if (want('observed-pause-error-rate-rollback'))
      await withRollout(env, t7, p2, async (handle) => {
        await waitForStatus(env, handle, (s) => s.state === 'observing' && s.percent === 10, '5m');
        await env.sleep('10m');
        await handle.signal(pauseSignal, { by: 'alice', reason: 'deploy freeze' });
        await env.sleep('5m');
        await handle.signal(resumeSignal, { by: 'alice' });
        await handle.result();
        await save('observed-pause-error-rate-rollback', handle);
      });

    // Recorded with the watched steps (the watch-while-stepping patch marker): the reads, done at
    // 100%, fail while the writes' first step is being applied; the apply is cancelled, both revert.
    const t8 = new FakeTarget();
    t8.stuckApply = {
      group: 'write',
      percent: 5,
      onStart: () => (t8.faults = [{ group: 'read', atPercent: 100, kind: 'errorRate' }]),
    };
    if (want('watched-apply-rollback'))
      await withRollout(env, t8, p2, async (handle) => {
        await waitForStatus(env, handle, (s) => s.state === 'awaiting-approval', '10m');
        await handle.signal(approveSignal, { by: 'alice' });
        await handle.result();
        await save('watched-apply-rollback', handle);
      });

    // Recorded with the input checked in an activity (the input-check-activity patch marker) and
    // the requests sent as Updates: pause and resume mid-window, the writes approved, a rollback.
    if (want('updates-input-check'))
      await withRollout(env, new FakeTarget(), p2, async (handle) => {
        await waitForStatus(env, handle, (s) => s.state === 'observing' && s.percent === 10, '5m');
        await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'deploy freeze' }] });
        await env.sleep('5m');
        await handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] });
        await waitForStatus(env, handle, (s) => s.state === 'awaiting-approval', '10m');
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', comment: 'go' }] });
        await waitForStatus(env, handle, (s) => s.state === 'observing' && s.group === 'write', '10m');
        await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'alice', reason: 'end of recording' }] });
        await handle.result();
        await save('updates-input-check', handle);
      });
  } finally {
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
