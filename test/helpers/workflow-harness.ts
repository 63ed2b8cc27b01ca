import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { PlanInput } from '../../src/plan/schema';
import type { rolloutWorkflow } from '../../src/workflows';
import {
  rollbackSignal,
  statusQuery,
  TASK_QUEUE,
  TERMINAL_STATES,
  type RolloutInput,
  type RolloutStatus,
} from '../../src/contracts/definitions';
import { FakeTarget } from './fake-target';
import { workflowBundle } from './temporal';

export type RolloutHandle = WorkflowHandleWithFirstExecutionRunId<typeof rolloutWorkflow>;

/** The seed plan as written in plans/phase2-3.yaml, fresh copy each call. */
export function seedPlan(): PlanInput & { defaults: NonNullable<PlanInput['defaults']> } {
  return parse(readFileSync(path.resolve(__dirname, '../../plans/phase2-3.yaml'), 'utf8'));
}

let ids = 0;
/** Runs `body` with a worker whose activities are `target`'s mocks. */
export async function withRollout<T>(
  env: TestWorkflowEnvironment,
  target: FakeTarget,
  plan: unknown,
  body: (handle: RolloutHandle) => Promise<T>,
  /** More of the workflow's input (`current`, `timeScale`). */
  input: Omit<RolloutInput, 'plan'> = {},
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: target.activities(),
    // A cancellation reaches a mocked activity that waits in real time within a second.
    maxHeartbeatThrottleInterval: '1s',
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: `rollout-test-${++ids}-${Date.now()}`,
      args: [{ plan, ...input }],
    });
    try {
      return await body(handle);
    } catch (err) {
      // A failed assertion leaves the rollout running, and the worker would wait for its
      // observation to end before it shuts down: end the rollout so that the failure is reported.
      await handle.terminate('test failed').catch(() => undefined);
      throw err;
    }
  });
}

/** Lets workflow time pass in `step`s until `pred` holds; fails with the status when it never does. */
export async function waitForStatus(
  env: TestWorkflowEnvironment,
  handle: RolloutHandle,
  pred: (s: RolloutStatus) => boolean,
  step: Duration = '10m',
  max = 100,
): Promise<RolloutStatus> {
  let s: RolloutStatus | undefined;
  for (let i = 0; i < max; i++) {
    s = await handle.query(statusQuery);
    if (pred(s)) return s;
    if (TERMINAL_STATES.includes(s.state)) break;
    await env.sleep(step);
  }
  throw new Error(
    `condition not reached; state ${s?.state} at ${s?.phase} ${s?.percent}%: ${JSON.stringify({ awaiting: s?.awaiting, lastCheck: s?.lastCheck, events: s?.events.slice(-5) })}`,
  );
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The history of every run of a workflow chained by continue-as-new, first run first. */
export async function historiesOf(
  client: Client,
  workflowId: string,
  firstRunId: string,
): Promise<Array<{ runId: string; events: HistoryEvent[] }>> {
  const runs: Array<{ runId: string; events: HistoryEvent[] }> = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const events: HistoryEvent[] =
      (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    runs.push({ runId, events });
    runId =
      events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ??
      undefined;
  }
  return runs;
}

/** Every run of a workflow chained by continue-as-new, with its event count. */
export async function runsOf(
  client: Client,
  workflowId: string,
  firstRunId: string,
): Promise<Array<{ runId: string; events: number }>> {
  return (await historiesOf(client, workflowId, firstRunId)).map(({ runId, events }) => ({
    runId,
    events: events.length,
  }));
}

/**
 * Ends a rollout the way an operator would (a manual rollback) and waits for it. Terminating
 * instead can leave the time-skipping server's clock locked for the next test.
 */
export async function endRollout(handle: RolloutHandle, by = 'test'): Promise<RolloutStatus> {
  await handle.signal(rollbackSignal, { by, reason: 'end of test' });
  return handle.result();
}

export { FakeTarget };
