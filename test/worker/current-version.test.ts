/**
 * A worker nobody routes to must say so (issue 21): after a commit, `npm start` kept its state and
 * started a worker of a new build while the old build stayed current with no worker, so new
 * rollouts sat at their first events and queries timed out. On the real dev server: the warning
 * naming both builds and the command that fixes it, `ROLLOUT_MAKE_CURRENT` (what `npm start` sets)
 * making the new build current, and the rollouts still pinned to the old build listed.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { statusQuery, TASK_QUEUE, type RolloutStatus } from '../../src/contracts/definitions';
import type { rolloutWorkflow } from '../../src/workflows';
import {
  DEPLOYMENT_NAME,
  deploymentOptions,
  describePinnedElsewhere,
  promote,
  promoteIfFirst,
  rolloutsPinnedElsewhere,
  watchCurrentVersion,
} from '../../src/worker-version';
import { createDevServerEnv, until, workflowBundle } from '../helpers/temporal';
import { FakeTarget, seedPlan } from '../helpers/workflow-harness';

jest.setTimeout(180_000);

const OLD = '0.2.0+current-old';
const NEW = '0.2.0+current-new';
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** What the worker's check logs once, as `runWorker` runs it. */
async function noticeOf(buildId: string, staleMs?: number): Promise<string[]> {
  const lines: string[] = [];
  const watch = watchCurrentVersion(env.connection.workflowService, {
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    buildId,
    log: (l) => lines.push(l),
    staleMs,
  });
  await watch.checked;
  watch.stop();
  return lines;
}

const currentBuild = async () =>
  (
    await env.connection.workflowService.describeWorkerDeployment({
      namespace: 'default',
      deploymentName: DEPLOYMENT_NAME,
    })
  ).workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId;

test('a new build while the current one has no worker: a warning naming both and the fix; ROLLOUT_MAKE_CURRENT makes it current', async () => {
  const target = new FakeTarget();
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  const launch = async (buildId: string) => {
    const w = await Worker.create({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      activities: target.activities(),
      workerDeploymentOptions: deploymentOptions({ ROLLOUT_BUILD_ID: buildId })!,
    });
    workers.push(w);
    running.push(w.run());
    return w;
  };
  try {
    // The old build is current and starts a rollout, pinned to it.
    const old = await launch(OLD);
    await promoteIfFirst(env.nativeConnection, 'default', OLD, () => undefined);
    const plan = seedPlan();
    const pinned = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: `rollout-current-version-${Date.now()}`,
      args: [{ plan }],
    });
    await until('the rollout to begin', async () =>
      ((await pinned.query(statusQuery)) as RolloutStatus).state !== 'pending' ? true : undefined,
    );

    // A new build beside a current build that polls: a note, not a warning (an upgrade in progress).
    await launch(NEW);
    const beside = await noticeOf(NEW);
    expect(beside).toHaveLength(1);
    expect(beside[0]).toMatch(
      new RegExp(`current version is ${OLD.replace('+', '\\+')} \\(its workers poll\\)`),
    );

    // The old build's worker goes away (a commit, `npm start` again): the new one is routed nothing.
    old.shutdown();
    await until('the old worker to stop', async () => (old.getState() === 'STOPPED' ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    // The server keeps a stopped worker's poller for minutes; past `staleMs` it counts as gone.
    const [warning, ...more] = await noticeOf(NEW, 1000);
    expect(more).toEqual([]);
    expect(warning).toMatch(
      /^warning: worker deployment rollout-orchestrator: the current version 0\.2\.0\+current-old has no worker polling task queue rollouts/,
    );
    expect(warning).toContain(`this worker (${NEW}) is not current`);
    expect(warning).toContain(
      `temporal worker deployment set-current-version --deployment-name rollout-orchestrator --build-id ${NEW}`,
    );

    // Without ROLLOUT_MAKE_CURRENT a worker leaves the current version alone …
    const said: string[] = [];
    await promote(env.nativeConnection, 'default', NEW, (l) => said.push(l));
    expect(await currentBuild()).toBe(OLD);
    // … with it (npm start on its own dev server) it makes its build current.
    await promote(env.nativeConnection, 'default', NEW, (l) => said.push(l), { makeCurrent: true });
    expect(await currentBuild()).toBe(NEW);
    expect(said.at(-1)).toBe(
      `worker deployment rollout-orchestrator: made ${NEW} current (was ${OLD}; ROLLOUT_MAKE_CURRENT=1)`,
    );
    expect(await noticeOf(NEW)).toEqual([]);

    // The rollout pinned to the old build still needs a worker of it: npm start says so.
    const pinnedElsewhere = await until('the pinned rollout to be visible', async () => {
      const p = await rolloutsPinnedElsewhere(env.connection.workflowService, 'default', NEW);
      return p?.length ? p : undefined;
    });
    expect(pinnedElsewhere).toEqual([{ buildId: OLD, running: 1, ids: [pinned.workflowId] }]);
    expect(describePinnedElsewhere(pinnedElsewhere)[0]).toMatch(
      new RegExp(
        `^1 running rollout\\(s\\) pinned to rollout-orchestrator ${OLD.replace('+', '\\+')} \\(${pinned.workflowId}\\) go on only with a worker of that build`,
      ),
    );
    await pinned.terminate('test over');
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
  }
});
