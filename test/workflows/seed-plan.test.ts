import { approveSignal, completeSignal } from '../../src/contracts/definitions';
import { useTimeSkippingEnv } from '../helpers/temporal';
import { FakeTarget, runsOf, seedPlan, waitForStatus, withRollout } from '../helpers/workflow-harness';

jest.setTimeout(600_000);

const testEnv = useTimeSkippingEnv();

test('the whole seed plan: every step in order, each as long as its window, phase 3 only after approve', async () => {
  // Windows exactly as in the seed (30m … 8h); checks every 5 minutes keep the run to a few
  // thousand workflow tasks. The 10s interval over a full 8h window is in history-bounds.test.ts.
  const plan = seedPlan();
  plan.defaults.checkInterval = '5m';
  const target = new FakeTarget();
  const started = Date.now();
  const { result, runs } = await withRollout(testEnv(), target, plan, async (handle) => {
    const awaiting = await waitForStatus(testEnv(), handle, (s) => s.state === 'awaiting-approval', '30m');
    expect(awaiting.phase).toBe('phase3-write');
    expect(awaiting.groups.read).toEqual({ percent: 100, state: 'monitoring' });
    expect(target.applied.filter((a) => a.group === 'write')).toEqual([]);
    // Hours pass without approval: phase 3 must not start by itself, phase 2 keeps being checked.
    const checksBefore = target.sampleCalls;
    await testEnv().sleep('12h');
    expect(target.applied.filter((a) => a.group === 'write')).toEqual([]);
    expect(target.sampleCalls - checksBefore).toBeGreaterThanOrEqual(12 * 12 - 1);
    await handle.signal(approveSignal, { by: 'alice', comment: 'phase 2 stable' });
    const monitoring = await waitForStatus(testEnv(), handle, (s) => s.state === 'monitoring', '1h');
    expect(monitoring.groups).toEqual({ read: { percent: 100, state: 'monitoring' }, write: { percent: 100, state: 'monitoring' } });
    await handle.signal(completeSignal, { by: 'alice' });
    const result = await handle.result();
    return { result, runs: await runsOf(testEnv().client, handle.workflowId, handle.firstExecutionRunId) };
  });
  const events = runs.reduce((n, r) => n + r.events, 0);
  console.log(
    `seed plan (5m checks): ${target.sampleCalls} checks, ${runs.length} runs, ${events} history events in all (largest run ${Math.max(...runs.map((r) => r.events))}), wall ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
  expect(result.state).toBe('completed');
  expect(target.applied.map((a) => `${a.group}:${a.percent}`)).toEqual([
    'read:10', 'read:25', 'read:50', 'read:100', 'write:5', 'write:10', 'write:25', 'write:50', 'write:100',
  ]);
  const windows = result.history.filter((h) => h.windowMs !== null);
  expect(windows.map((h) => h.windowMs! / 60000)).toEqual([30, 60, 120, 60, 120, 240, 480]);
  for (const h of windows) {
    expect(Date.parse(h.endedAt!) - Date.parse(h.startedAt)).toBeGreaterThanOrEqual(h.windowMs!);
    expect(h.outcome).toBe('passed');
    expect(h.verdict).toBe('pass');
  }
  expect(result.history.filter((h) => h.windowMs === null).map((h) => h.outcome)).toEqual(['completed', 'completed']);
  const writeStart = result.history.find((h) => h.group === 'write')!.startedAt;
  const approval = result.events.find((e) => e.name === 'approve' && e.accepted)!;
  expect(approval.by).toBe('alice');
  expect(Date.parse(writeStart)).toBeGreaterThanOrEqual(Date.parse(approval.at));
  expect(target.rollbacks).toEqual([]);
});
