import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import axios from 'axios';
import path from 'node:path';
import { startTraffic, type TrafficRun } from '../../example-backend/traffic';
import type { rolloutWorkflow } from '../../src/workflows';
import {
  approveSignal,
  completeSignal,
  statusQuery,
  TASK_QUEUE,
  type RolloutStatus,
} from '../../src/contracts/definitions';
import { freePort, startBackendProcess, startWorkerProcess, tempDir, type Child } from '../helpers/processes';
import { createDevServerEnv } from '../helpers/temporal';
import { seedPlan } from '../helpers/workflow-harness';

jest.setTimeout(420_000);

const TOKEN = 'crash-test-token';
let env: TestWorkflowEnvironment;
let backend: Child;
let traffic: TrafficRun | undefined;
const workers: Child[] = [];
let baseUrl: string;
let dataDir: string;

beforeAll(async () => {
  const dir = tempDir('crash');
  env = await createDevServerEnv(path.join(dir, 'temporal.db'));
  dataDir = path.join(dir, 'backend');
  const port = await freePort();
  backend = startBackendProcess(port, dataDir, {
    ADMIN_TOKEN: TOKEN,
    ROLLOUT_PERCENT: '0',
    USE_DOMAIN_SERVICE: 'true',
  });
  await backend.waitFor(/listening on/);
  baseUrl = `http://127.0.0.1:${port}`;
  traffic = startTraffic({ target: baseUrl, rps: 60, writeRatio: 0.3 });
});

afterAll(async () => {
  await traffic?.stop();
  for (const w of workers) await w.stop('SIGKILL');
  await backend?.stop();
  await env?.teardown();
});

function compressedPlan() {
  const plan = seedPlan();
  plan.target.id = 'crash-test';
  plan.target.baseUrl = baseUrl;
  plan.target.traffic = { type: 'http', url: `${baseUrl}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' };
  plan.target.metrics = { type: 'exposition', url: `${baseUrl}/metrics` };
  plan.target.consistency = {
    type: 'sqlite-yaml',
    database: path.join(dataDir, 'cameras.db'),
    yaml: path.join(dataDir, 'cameras.yaml'),
  };
  // With timeScale 1200 every 20m of plan time is one second: windows of 1.5 s (30m) to 24 s (8h),
  // checks every 0.5 s (10m, the longest a plan allows).
  plan.defaults.checkInterval = '10m';
  plan.defaults.baselineWindow = '40m';
  // Compressed windows see few requests from few sticky users: this test is about durability, so
  // the verdict bands are wide enough that only the crash could break the sequence.
  plan.defaults.thresholds = {
    ...plan.defaults.thresholds,
    minSamples: 20,
    servedShare: { tolerance: 0.9 },
    p95Increase: { rollback: 0.5, minDeltaMs: 250 },
  };
  return plan;
}

test('a worker killed with SIGKILL mid-window is replaced; the rollout finishes with the same sequence', async () => {
  const address = env.address;
  workers.push(startWorkerProcess(address, { ADMIN_TOKEN: TOKEN }));
  await workers[0].waitFor(/rollout worker:/, 120_000);
  const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: 'rollout-crash-test',
    args: [{ plan: compressedPlan(), timeScale: 1200 }],
  });
  const poll = async (
    pred: (s: RolloutStatus) => boolean,
    what: string,
    timeoutMs = 120_000,
  ): Promise<RolloutStatus> => {
    const deadline = Date.now() + timeoutMs;
    let s: RolloutStatus | undefined;
    while (Date.now() < deadline) {
      s = await handle.query(statusQuery);
      if (pred(s)) return s;
      // Holds (too few write samples in a compressed window) are a human's call: approve them here.
      if (s.state === 'holding')
        await handle.signal(approveSignal, { by: 'ci', comment: 'compressed test window' });
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(
      `timed out waiting for ${what}; state ${s?.state} ${s?.phase} ${s?.percent}%: ${JSON.stringify(s?.lastCheck)}`,
    );
  };

  // Kill the worker in the middle of the 50% read window (2h of plan time = 6 s here).
  // Checked in this window already (a check a second past its start: the step's verification is
  // recorded as a check too), so there is a before and an after to compare.
  const mid = await poll(
    (s) =>
      s.group === 'read' &&
      s.percent === 50 &&
      s.state === 'observing' &&
      s.lastCheck?.group === 'read' &&
      Date.parse(s.lastCheck.at) >= Date.parse(s.stepStartedAt!) + 1000,
    'read 50% window, checked',
  );
  // Pinned to the version that started it: a new release never replays it against other code.
  const { versioningInfo } = (await handle.describe()).raw.workflowExecutionInfo!;
  expect(versioningInfo?.behavior).toBe(temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED);
  expect(versioningInfo?.deploymentVersion).toMatchObject({ deploymentName: 'rollout-orchestrator' });
  expect(versioningInfo?.deploymentVersion?.buildId).toMatch(/^0\.\d+\.\d+\+([0-9a-f]{12}|local)$/);
  workers[0].proc.kill('SIGKILL');
  const killedAt = Date.now();
  await new Promise((r) => setTimeout(r, 1500));
  const whileDown = await handle.query(statusQuery).catch(() => undefined);
  workers.push(startWorkerProcess(address, { ADMIN_TOKEN: TOKEN }));
  await workers[1].waitFor(/rollout worker:/, 120_000);
  const replacedAt = Date.now();
  if (whileDown) expect(whileDown.percent).toBe(50);

  await poll((s) => s.state === 'awaiting-approval', 'approval of phase 3');
  await handle.signal(approveSignal, { by: 'alice' });
  const monitoring = await poll((s) => s.state === 'monitoring', 'monitoring', 240_000);
  expect(monitoring.groups).toEqual({
    read: { percent: 100, state: 'monitoring' },
    write: { percent: 100, state: 'monitoring' },
  });
  await handle.signal(completeSignal, { by: 'alice' });
  const result = await handle.result();

  expect(result.state).toBe('completed');
  expect(result.history.map((h) => `${h.group}:${h.percent}`)).toEqual([
    'read:10',
    'read:25',
    'read:50',
    'read:100',
    'write:5',
    'write:10',
    'write:25',
    'write:50',
    'write:100',
  ]);
  const killedStep = result.history.find((h) => h.group === 'read' && h.percent === 50)!;
  expect(Date.parse(killedStep.endedAt!) - Date.parse(killedStep.startedAt)).toBeGreaterThanOrEqual(
    killedStep.windowMs!,
  );
  expect(Date.parse(killedStep.startedAt)).toBeLessThanOrEqual(Date.parse(mid.stepStartedAt!));
  // The observation resumed on the replacement worker within 30 s of it being up (the dead one's
  // heartbeat timeout is 20 s), with the checks of before the kill kept in the step's evidence.
  const rows = killedStep.evidence!;
  const before = rows.filter((r) => r[0] < killedAt);
  const after = rows.filter((r) => r[0] > killedAt);
  expect(before.length).toBeGreaterThan(0);
  expect(after.length).toBeGreaterThan(0);
  const resumedAt = after[0][0];
  console.log(
    `killed mid-window: replacement up ${((replacedAt - killedAt) / 1000).toFixed(1)} s after the kill, observation resumed ${((resumedAt - replacedAt) / 1000).toFixed(1)} s after that; ${before.length} checks before, ${after.length} after`,
  );
  expect(resumedAt - replacedAt).toBeLessThan(30_000);
  // The traffic served while no worker ran is judged by the first check after: its sample starts
  // at the last reading before the kill (kept in the heartbeat, not in the dead worker's memory).
  const perSecond = (i: number) => ((rows[i][2] + rows[i][4]) * 1000) / (rows[i][0] - rows[i - 1][0]);
  const rates = rows.map((_r, i) => i).filter((i) => i > 0 && i !== before.length).map(perSecond);
  const usual = rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)];
  const gapRate = perSecond(before.length);
  console.log(
    `read requests per second: ${usual.toFixed(1)} (median of the other checks), ${gapRate.toFixed(1)} over the ${((rows[before.length][0] - rows[before.length - 1][0]) / 1000).toFixed(1)} s the first check after it covers`,
  );
  expect(gapRate).toBeGreaterThan(0.5 * usual);
  const live = await axios.get(`${baseUrl}/admin/rollout`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(live.data.groups).toEqual({ read: { percent: 100 }, write: { percent: 100 } });
});
