/**
 * Upgrading 0.1 → 0.2 relies on Worker Versioning, not on `patched()`: a rollout is pinned to the
 * Worker Deployment Version that started it, so once a 0.2 version is current, the server never
 * hands a 0.1 rollout's workflow tasks to a 0.2 worker (which no longer has the 0.1 rules); they
 * wait for a 0.1 worker. On the real dev server, with two workers of different build ids.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { rollbackSignal, statusQuery, TASK_QUEUE, type RolloutStatus } from '../../src/contracts/definitions';
import type { rolloutWorkflow } from '../../src/workflows';
import { DEPLOYMENT_NAME, deploymentOptions, promoteIfFirst } from '../../src/worker-version';
import { createDevServerEnv, until, workflowBundle } from '../helpers/temporal';
import { FakeTarget, historiesOf, seedPlan } from '../helpers/workflow-harness';

jest.setTimeout(180_000);

const OLD = '0.1.0+pinned-test';
const NEW = '0.2.0+pinned-test';
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function versionedWorker(buildId: string, target: FakeTarget): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: target.activities(),
    maxHeartbeatThrottleInterval: '1s',
    workerDeploymentOptions: deploymentOptions({ ROLLOUT_BUILD_ID: buildId })!,
  });
}

/** The build ids of the workers that completed the rollout's workflow tasks. */
async function completedBy(workflowId: string, runId: string): Promise<Set<string>> {
  const runs = await historiesOf(env.client, workflowId, runId);
  const ids = runs.flatMap((r) =>
    r.events
      .map((e) => e.workflowTaskCompletedEventAttributes)
      .filter((a) => !!a)
      .map((a) => a!.deploymentVersion?.buildId || a!.workerDeploymentVersion || 'unversioned'),
  );
  return new Set(ids);
}

test('a rollout pinned to a 0.1 version waits for a 0.1 worker; a 0.2 worker takes only new rollouts', async () => {
  const plan = seedPlan();
  plan.defaults.checkInterval = '1s';
  const target = new FakeTarget();
  const start = (id: string) =>
    env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: id,
      args: [{ plan: { ...plan, target: { ...plan.target, id } } }],
    });
  // Past its input check: the worker that started it runs its stages (the baseline first).
  const working = async (h: { query: (q: typeof statusQuery) => Promise<RolloutStatus> }) =>
    until('the rollout to begin', async () =>
      (await h.query(statusQuery)).state !== 'pending' ? true : undefined,
    );

  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  const launch = async (buildId: string) => {
    const w = await versionedWorker(buildId, target);
    workers.push(w);
    running.push(w.run());
    return w;
  };
  try {
    await scenario(launch);
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
  }

  async function scenario(launch: (buildId: string) => Promise<Worker>): Promise<void> {
    // 0.1 is the current version and starts a rollout.
    const oldWorker = await launch(OLD);
    await promoteIfFirst(env.nativeConnection as NativeConnection, 'default', OLD, () => undefined);
    const pinned = await start(`pinned-old-${Date.now()}`);
    await working(pinned);
    const described = await pinned.describe();
    expect(described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe(OLD);
    oldWorker.shutdown();
    await until('the 0.1 worker to stop', async () =>
      oldWorker.getState() === 'STOPPED' ? true : undefined,
    );

    // 0.2 starts and is made current, as the upgrade section says; the 0.1 worker is gone.
    await launch(NEW);
    await until('the 0.2 version to be current', async () => {
      await env.connection.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: 'default',
        deploymentName: DEPLOYMENT_NAME,
        buildId: NEW,
        identity: 'pinned-versions test',
      });
      return true;
    });
    const fresh = await start(`fresh-new-${Date.now()}`);
    await working(fresh);
    expect(
      (await fresh.describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId,
    ).toBe(NEW);

    // The pinned rollout's requests wait: the 0.2 worker never runs its workflow tasks.
    await pinned.signal(rollbackSignal, { by: 'alice', reason: 'upgrade test' });
    await new Promise((r) => setTimeout(r, 3000));
    expect(await completedBy(pinned.workflowId, pinned.firstExecutionRunId)).toEqual(new Set([OLD]));
    expect((await pinned.describe()).status.name).toBe('RUNNING');

    // A 0.1 worker drains it: the rollback it waited for goes through.
    await launch(OLD);
    const drained = await pinned.result();
    expect(drained.state).toBe('rolled-back');
    expect(await completedBy(pinned.workflowId, pinned.firstExecutionRunId)).toEqual(new Set([OLD]));

    await fresh.signal(rollbackSignal, { by: 'alice', reason: 'end of test' });
    expect((await fresh.result()).state).toBe('rolled-back');
    expect(await completedBy(fresh.workflowId, fresh.firstExecutionRunId)).toEqual(new Set([NEW]));
  }
});
