import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { approveSignal, completeSignal, statusQuery, TASK_QUEUE, type RolloutStatus } from '../../src/workflows/definitions';
import { FakeTarget } from '../helpers/fake-target';
import { createTimeSkippingEnv, workflowBundle } from '../helpers/temporal';

jest.setTimeout(600_000);

const seedPlan = parse(readFileSync(path.resolve(__dirname, '../../plans/phase2-3.yaml'), 'utf8'));
// Windows as in the seed (30m … 8h); checks every 5 minutes keep the run to a few thousand ticks.
// The 10s interval over a full 8h window is exercised in history-bounds.test.ts.
seedPlan.defaults.checkInterval = '5m';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function waitFor(handle: WorkflowHandle, pred: (s: RolloutStatus) => boolean, step = '10m', max = 50) {
  let s: RolloutStatus | undefined;
  for (let i = 0; i < max; i++) {
    s = await handle.query(statusQuery);
    if (pred(s)) return s;
    await env.sleep(step);
  }
  throw new Error(`condition not reached; state ${s?.state}: ${JSON.stringify({ awaiting: s?.awaiting, lastCheck: s?.lastCheck, events: s?.events.slice(-5) })}`);
}

test('the whole seed plan: every step in order, each as long as its window, phase 3 only after approve', async () => {
  const target = new FakeTarget();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: target.activities(),
  });
  const started = Date.now();
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('rolloutWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: 'rollout-camera-api',
      args: [{ plan: seedPlan }],
    });
    const awaiting = await waitFor(handle, (s) => s.state === 'awaiting-approval', '30m');
    expect(awaiting.phase).toBe('phase3-write');
    expect(target.applied.filter((a) => a.group === 'write')).toEqual([]);
    // Hours pass without approval: phase 3 must not start by itself.
    await env.sleep('12h');
    expect(target.applied.filter((a) => a.group === 'write')).toEqual([]);
    await handle.signal(approveSignal, { by: 'alice', comment: 'phase 2 stable' });
    const monitoring = await waitFor(handle, (s) => s.state === 'monitoring', '1h', 100);
    expect(monitoring.groups).toEqual({ read: { percent: 100, state: 'monitoring' }, write: { percent: 100, state: 'monitoring' } });
    await handle.signal(completeSignal, { by: 'alice' });
    return handle.result();
  });
  console.log(`seed plan: ${target.sampleCalls} checks, wall ${((Date.now() - started) / 1000).toFixed(1)}s`);
  expect(result.state).toBe('completed');
  expect(target.applied.map((a) => `${a.group}:${a.percent}`)).toEqual([
    'read:10', 'read:25', 'read:50', 'read:100', 'write:5', 'write:10', 'write:25', 'write:50', 'write:100',
  ]);
  const windows = result.history.filter((h) => h.windowMs !== null);
  expect(windows.map((h) => h.windowMs! / 60000)).toEqual([30, 60, 120, 60, 120, 240, 480]);
  for (const h of windows) {
    expect(Date.parse(h.endedAt!) - Date.parse(h.startedAt)).toBeGreaterThanOrEqual(h.windowMs!);
    expect(h.outcome).toBe('passed');
  }
  const writeStart = result.history.find((h) => h.group === 'write')!.startedAt;
  const approval = result.events.find((e) => e.name === 'approve' && e.accepted)!;
  expect(Date.parse(writeStart)).toBeGreaterThanOrEqual(Date.parse(approval.at));
  expect(target.rollbacks).toEqual([]);
});
