import { Client, Connection } from '@temporalio/client';
import { useTimeSkippingEnv } from '../helpers/temporal';
import { endRollout, FakeTarget, runsOf, seedPlan, waitForStatus, withRollout } from '../helpers/workflow-harness';

jest.setTimeout(600_000);

const testEnv = useTimeSkippingEnv();

test('an 8h window checked every 10s writes a history that grows with slices, not checks: one run', async () => {
  const plan = seedPlan();
  plan.phases = [{ ...plan.phases[1], approval: 'none', steps: [{ percent: 50, observe: '8h' }, { percent: 100, observe: 'continuous' }] }];
  expect(plan.defaults.checkInterval).toBe('10s');
  const target = new FakeTarget();
  target.wholeSlices = true;
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
  // 2,880 checks in 16 slices of 30 minutes: a few events per slice, never a new run mid-window.
  expect(runs).toHaveLength(1);
  expect(total).toBeLessThanOrEqual(400);
  // The step keeps its time series: one row per check of the 8h window.
  const evidence = status.history[0].evidence!;
  expect(evidence.length).toBeGreaterThanOrEqual(8 * 360 - 1);
  // (and the checks while the window's end is verified, still watched: with this fake, a whole slice)
  expect(evidence.length).toBeLessThanOrEqual(8 * 360 + 181);
  expect(new Set(evidence.map((row) => row[1]))).toEqual(new Set(['write']));
  expect(evidence.reduce((n, row) => n + row[2], 0)).toBeGreaterThan(0);
  // The 8h step passed and the window was whole.
  expect(status.history[0]).toMatchObject({ percent: 50, outcome: 'passed', windowMs: 8 * 3_600_000 });
  expect(Date.parse(status.history[0].endedAt!) - Date.parse(status.history[0].startedAt)).toBeGreaterThanOrEqual(8 * 3_600_000);
});

test('a run that outgrows its budget starts a new one at the next step, never mid-window, and carries the rollout on', async () => {
  const plan = seedPlan();
  plan.defaults.checkInterval = '1m';
  plan.phases = [{ ...plan.phases[1], approval: 'none', steps: [{ percent: 50, observe: '4h' }, { percent: 100, observe: '30m' }] }];
  // One activity per check: 240 checks in the 4h window, past the 2,000 events of a run but short
  // of the ~4,000 at which the server suggests a new run.
  const target = new FakeTarget();
  const { runs, status } = await withRollout(testEnv(), target, plan, async (handle) => {
    const status = await waitForStatus(testEnv(), handle, (s) => s.state === 'monitoring', '1h', 20);
    const runs = await runsOf(testEnv().client, handle.workflowId, handle.firstExecutionRunId);
    await endRollout(handle);
    return { runs, status };
  });
  // A last step with a window, once passed, leaves its group monitored at that percent.
  expect(status.groups.write).toEqual({ percent: 100, state: 'monitoring' });
  expect(runs).toHaveLength(2);
  expect(runs[0].events).toBeGreaterThan(2000);
  const second = await testEnv().client.workflow.getHandle(status.rolloutId, runs[1].runId).fetchHistory();
  // The new run began with the 100% step: the 8h window ran whole in the first run.
  const payload = second.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
  const carried = JSON.parse(Buffer.from(payload.data!).toString('utf8')).resume.cursor;
  const first = await testEnv().client.workflow.getHandle(status.rolloutId, runs[0].runId).fetchHistory();
  const lastTask = first.events!.filter((e) => e.workflowTaskStartedEventAttributes).pop()!;
  expect(lastTask.workflowTaskStartedEventAttributes!.suggestContinueAsNew).toBeFalsy();
  expect(carried).toMatchObject({ stage: 'apply', stepIndex: 1 });
  expect(status.history.map((h) => [h.percent, h.outcome, h.windowMs])).toEqual([
    [50, 'passed', 4 * 3_600_000],
    [100, 'passed', 30 * 60_000],
  ]);
});

// The largest plan the limits allow (20 phases of 50 steps) is measured by budget.test.ts on the
// state it would build; this one runs a plan of six phases at 1-second checks for real, through
// continue-as-new, every finished group still watched.
test('six phases at 1-second checks, through continue-as-new: what a run carries stays within budget', async () => {
  const seed = seedPlan();
  const plan = {
    ...seed,
    defaults: { ...seed.defaults, checkInterval: '1s', lookback: '1m', baselineWindow: '1m' },
    phases: Array.from({ length: 6 }, (_, i) => ({
      name: `phase-${i}`,
      group: `g${i}`,
      endpoints: ['GET /x'],
      steps: [
        { percent: 50, observe: '1h' },
        { percent: 100, observe: '30m' },
      ],
    })),
  };
  const target = new FakeTarget();
  target.wholeSlices = true;
  const { runs, status, carriedBytes } = await withRollout(testEnv(), target, plan, async (handle) => {
    const status = await waitForStatus(testEnv(), handle, (s) => s.state === 'monitoring' && s.phase === 'phase-5', '2h', 100);
    // A run's history passes gRPC's default 4 MB answer (Temporal allows 50 MB): read it with a larger one.
    const big = await Connection.connect({
      address: testEnv().address,
      channelArgs: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
    });
    const client = new Client({ connection: big });
    const runs = await runsOf(client, handle.workflowId, handle.firstExecutionRunId);
    let carriedBytes = 0;
    for (const run of runs.slice(1)) {
      const h = await client.workflow.getHandle(handle.workflowId, run.runId).fetchHistory();
      const payload = h.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
      carriedBytes = Math.max(carriedBytes, payload.data!.length);
    }
    await big.close();
    await endRollout(handle);
    return { runs, status, carriedBytes };
  });
  expect(runs.length).toBeGreaterThanOrEqual(2);
  // Temporal refuses a continue-as-new input past 2 MB and a query answer past 4 MB.
  expect(carriedBytes).toBeGreaterThan(0);
  expect(carriedBytes).toBeLessThan(1024 * 1024);
  expect(Buffer.byteLength(JSON.stringify(status))).toBeLessThan(1024 * 1024);
  const rows = status.history.reduce((n, h) => n + (h.evidence?.length ?? 0), 0);
  expect(rows).toBeLessThanOrEqual(6000);
  expect(status.history).toHaveLength(12);
});
