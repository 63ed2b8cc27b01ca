import type { TestWorkflowEnvironment } from '@temporalio/testing';
import axios from 'axios';
import path from 'node:path';
import { startTraffic, type TrafficRun } from '../../example-backend/traffic';
import type { rolloutWorkflow } from '../../src/workflows';
import {
  rollbackSignal,
  rolloutStateKey,
  statusQuery,
  TASK_QUEUE,
  type RolloutState,
  type RolloutStatus,
} from '../../src/contracts/definitions';
import { freePort, startBackendProcess, startWorkerProcess, tempDir, type Child } from '../helpers/processes';
import { createDevServerEnv, workflowBundleFile } from '../helpers/temporal';
import { seedPlan } from '../helpers/workflow-harness';
import { startSlowProxy, type ProxiedRequest, type SlowProxy } from './slow-proxy';

/**
 * A worker SIGKILLed in the middle of `applyTraffic`, `verifyStage` or `rollbackTraffic` (each held
 * up by a slow proxy in front of the example backend) is replaced; the step must go on within
 * seconds of the replacement being up, not after the activity's start-to-close timeout (10 and 2
 * minutes before heartbeats). The bound is generous: Temporal notices the dead worker within the
 * heartbeat timeout (10-20 s) and retries on the replacement.
 */

jest.setTimeout(240_000);

/** Replacement up → the step goes on. Within 30 s by design; 45 s leaves room for a busy machine. */
const BOUND_MS = 45_000;
const TOKEN = 'killed-mid-step-token';

let env: TestWorkflowEnvironment;
let backend: Child;
let proxy: SlowProxy;
let traffic: TrafficRun | undefined;
let worker: Child | undefined;
let backendUrl: string;
let dataDir: string;
let bundlePath: string;
const figures: string[] = [];

/** Every worker starts from one prebuilt bundle, as production workers do (seconds, not 10+). */
function startWorker(): Child {
  return startWorkerProcess(env.address, { ADMIN_TOKEN: TOKEN, ROLLOUT_WORKFLOW_BUNDLE: bundlePath });
}

beforeAll(async () => {
  const dir = tempDir('killed-mid-step');
  const [devEnv, bundle] = await Promise.all([
    createDevServerEnv(path.join(dir, 'temporal.db')),
    workflowBundleFile(),
  ]);
  env = devEnv;
  bundlePath = bundle;
  dataDir = path.join(dir, 'backend');
  const port = await freePort();
  backend = startBackendProcess(port, dataDir, {
    ADMIN_TOKEN: TOKEN,
    ROLLOUT_PERCENT: '0',
    USE_DOMAIN_SERVICE: 'true',
  });
  await backend.waitFor(/listening on/);
  backendUrl = `http://127.0.0.1:${port}`;
  proxy = await startSlowProxy(backendUrl);
  traffic = startTraffic({ target: backendUrl, rps: 40, writeRatio: 0.1 });
  worker = startWorker();
  await worker.waitFor(/rollout worker:/, 120_000);
});

afterAll(async () => {
  await traffic?.stop();
  await worker?.stop('SIGKILL');
  await proxy?.close();
  await backend?.stop();
  await env?.teardown();
  if (figures.length) console.log(`replacement worker up → step went on:\n${figures.join('\n')}`);
});

afterEach(async () => {
  // Each test starts from legacy everywhere, whatever the previous one left.
  await axios.put(
    `${backendUrl}/admin/rollout`,
    { useDomainService: true, groups: { read: { percent: 0 }, write: { percent: 0 } } },
    { headers: { Authorization: `Bearer ${TOKEN}` } },
  );
});

/** The seed plan against the proxy (traffic switch and probes); metrics read straight from the backend. */
function plan(id: string) {
  const p = seedPlan();
  p.target.id = id;
  p.target.baseUrl = proxy.url;
  p.target.traffic = { type: 'http', url: `${proxy.url}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' };
  p.target.metrics = { type: 'exposition', url: `${backendUrl}/metrics` };
  p.target.consistency = {
    type: 'sqlite-yaml',
    database: path.join(dataDir, 'cameras.db'),
    yaml: path.join(dataDir, 'cameras.yaml'),
  };
  // timeScale 1200: a 30m window is 1.5 s, the 40m baseline 2 s, checks every 0.5 s.
  p.defaults.checkInterval = '10m';
  p.defaults.baselineWindow = '40m';
  // Verdicts are not under test here: bands wide enough that compressed windows pass.
  p.defaults.thresholds = {
    ...p.defaults.thresholds,
    minSamples: 20,
    servedShare: { tolerance: 0.9 },
    p95Increase: { rollback: 0.5, minDeltaMs: 250 },
  };
  return p;
}

async function startRollout(id: string) {
  return env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `rollout-${id}`,
    args: [{ plan: plan(id), timeScale: 1200 }],
  });
}

type Handle = Awaited<ReturnType<typeof startRollout>>;

async function poll(
  handle: Handle,
  pred: (s: RolloutStatus) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<RolloutStatus> {
  const deadline = Date.now() + timeoutMs;
  let s: RolloutStatus | undefined;
  while (Date.now() < deadline) {
    s = await handle.query(statusQuery);
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; state ${s?.state} ${s?.group} ${s?.percent}%`);
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface Kill {
  /** Requests of the activity under test, as they reach the proxy. */
  match: (r: ProxiedRequest) => boolean;
  /** The state the rollout is in while the activity runs. */
  during: RolloutState;
  /** `read`'s percent then, when it is known in advance. */
  readPercent?: number;
}

/**
 * Holds the activity's next request at the proxy (armed at once, before anything is awaited) and,
 * once it is held, kills the worker and starts a replacement. Measured from the moment that is up:
 * until the activity's retry reaches the proxy, and until the rollout leaves `during`, read from
 * the server's search attribute (a query would first wait out the dead worker's sticky queue).
 */
function killMidActivity(
  kill: Kill,
): (handle: Handle) => Promise<{ retryMs: number; ms: number; after: RolloutStatus }> {
  const held = proxy.holdNext(kill.match, 120_000);
  return async (handle) => {
    await within(held, 60_000, 'held request');
    const before = await handle.query(statusQuery);
    expect(before.state).toBe(kill.during);
    if (kill.readPercent !== undefined) expect(before.groups.read.percent).toBe(kill.readPercent);
    const retried = proxy.holdNext(kill.match, 0).then(() => Date.now());
    worker!.proc.kill('SIGKILL');
    worker = startWorker();
    await worker.waitFor(/rollout worker:/, 120_000);
    const up = Date.now();
    const deadline = up + 120_000;
    let state: unknown = kill.during;
    while (state === kill.during && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await handle.describe()).typedSearchAttributes.get(rolloutStateKey);
    }
    const ms = Date.now() - up;
    const retryMs = Math.max(0, (await within(retried, 60_000, 'retried request')) - up);
    return { retryMs, ms, after: await handle.query(statusQuery) };
  };
}

async function backendTraffic(): Promise<{
  useDomainService: boolean;
  groups: Record<string, { percent: number }>;
}> {
  const res = await axios.get(`${backendUrl}/admin/rollout`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  return res.data;
}

const figure = (activity: string, retryMs: number, ms: number) =>
  `  ${activity.padEnd(16)} retried ${(retryMs / 1000).toFixed(1)} s and the state moved on ${(ms / 1000).toFixed(1)} s after the replacement was up`;

const isPut = (r: ProxiedRequest) => r.method === 'PUT' && r.url === '/admin/rollout';

test('killed during applyTraffic: the step is applied by the replacement within seconds', async () => {
  const killed = killMidActivity({ match: isPut, during: 'applying', readPercent: 0 });
  const handle = await startRollout('kill-apply');
  try {
    const { retryMs, ms, after } = await killed(handle);
    figures.push(figure('applyTraffic', retryMs, ms));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(['verifying', 'observing']).toContain(after.state);
    expect(after.groups.read.percent).toBe(10);
    expect((await backendTraffic()).groups.read.percent).toBe(10);
    // Let the step's verification finish before the rollout is terminated: terminating does not
    // stop an activity in flight, and its probes would reach the next test's armed proxy.
    const deadline = Date.now() + 60_000;
    while ((await handle.query(statusQuery)).state === 'verifying' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
  } finally {
    await handle.terminate('test over');
  }
});

test('killed during verifyStage: the verification is run again by the replacement within seconds', async () => {
  // The first probe of the first step's verification: probes pick the implementation, users do not.
  const probe = (r: ProxiedRequest) => r.method === 'GET' && r.headers['x-rollout-force'] !== undefined;
  const killed = killMidActivity({ match: probe, during: 'verifying', readPercent: 10 });
  const handle = await startRollout('kill-verify');
  try {
    const { retryMs, ms, after } = await killed(handle);
    figures.push(figure('verifyStage', retryMs, ms));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(after.state).toBe('observing');
    expect(after.lastCheck?.verdict).not.toBe('rollback');
    expect(after.groups.read.percent).toBe(10);
  } finally {
    await handle.terminate('test over');
  }
});

test('killed during rollbackTraffic: the rollback is completed by the replacement within seconds', async () => {
  const handle = await startRollout('kill-rollback');
  try {
    await poll(handle, (s) => s.state === 'observing', 'the first window');
    const revert = (r: ProxiedRequest) => isPut(r) && /"percent":0\b|"useDomainService":false/.test(r.body);
    const killed = killMidActivity({ match: revert, during: 'rolling-back' });
    await handle.signal(rollbackSignal, { by: 'ci', reason: 'durability test' });
    const { retryMs, ms, after } = await killed(handle);
    figures.push(figure('rollbackTraffic', retryMs, ms));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(after.state).toBe('rolled-back');
    expect(after.rollback?.completedAt).not.toBeNull();
    const live = await backendTraffic();
    expect(live.useDomainService ? live.groups.read.percent : 0).toBe(0);
  } finally {
    await handle.terminate('test over').catch(() => undefined);
  }
});
