import { useTimeSkippingEnv } from '../helpers/temporal';
import { endRollout, FakeTarget, runsOf, seedPlan, waitForStatus, withRollout } from '../helpers/workflow-harness';

jest.setTimeout(600_000);

const testEnv = useTimeSkippingEnv();

test('an 8h window checked every 10s keeps each run of the history bounded (continue-as-new)', async () => {
  const plan = seedPlan();
  plan.phases = [{ ...plan.phases[1], approval: 'none', steps: [{ percent: 50, observe: '8h' }, { percent: 100, observe: 'continuous' }] }];
  expect(plan.defaults.checkInterval).toBe('10s');
  const target = new FakeTarget();
  const started = Date.now();
  const { runs, status } = await withRollout(testEnv(), target, plan, async (handle) => {
    const status = await waitForStatus(testEnv(), handle, (s) => s.state === 'monitoring', '1h', 20);
    const runs = await runsOf(testEnv().client, handle.workflowId, handle.firstExecutionRunId);
    await endRollout(handle);
    return { runs, status };
  });
  const total = runs.reduce((n, r) => n + r.events, 0);
  console.log(
    `8h window, 10s checks: ${target.sampleCalls} checks, ${runs.length} runs, largest ${Math.max(...runs.map((r) => r.events))} events, ${total} in all, wall ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
  expect(target.sampleCalls).toBeGreaterThanOrEqual(8 * 360);
  expect(runs.length).toBeGreaterThan(1);
  for (const r of runs) expect(r.events).toBeLessThanOrEqual(2100);
  // The state carried across runs is intact: the 8h step passed and the window was whole.
  expect(status.history[0]).toMatchObject({ percent: 50, outcome: 'passed', windowMs: 8 * 3_600_000 });
  expect(Date.parse(status.history[0].endedAt!) - Date.parse(status.history[0].startedAt)).toBeGreaterThanOrEqual(8 * 3_600_000);
});
