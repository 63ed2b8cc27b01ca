/**
 * Faults injected into a healthy canary, end to end: each must roll back the right group with the
 * right trigger, and the backend must then route that group 0% to the domain service. The last
 * test takes its metrics from a real Prometheus (the `prometheus` provider) instead of `/metrics`.
 * One dev server and one worker process for the file; each test has its own backend and traffic.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PlanInput } from '../../src/plan/schema';
import type { Trigger } from '../../src/judge/verdicts';
import { approveSignal, TASK_QUEUE, type RolloutStatus } from '../../src/contracts/definitions';
import type { rolloutWorkflow } from '../../src/workflows';
import { freePort, startWorkerProcess, type Child } from '../helpers/processes';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus';
import { createDevServerEnv } from '../helpers/temporal';
import {
  ADMIN_TOKEN,
  E2E_P95_INCREASE,
  seedPlan,
  startBackend,
  targetAt,
  waitForCleanChecks,
  waitForGroupAtZero,
  waitForStatus,
  type Backend,
  type RolloutHandle,
} from './support';

jest.setTimeout(180_000);

/** 1 minute of plan time is 1 s: 1 s ticks, a 3 s baseline, 60 s windows (never reached). */
const TIME_SCALE = 60;
const TRAFFIC = { rps: 100, writeRatio: 0.3 };

let env: TestWorkflowEnvironment;
let worker: Child | undefined;
let backend: Backend | undefined;
let prometheus: RunningPrometheus | undefined;

/** The worker serves its own metrics here (`ROLLOUT_METRICS_ADDRESS`). */
let metricsUrl: string;

beforeAll(async () => {
  env = await createDevServerEnv();
  metricsUrl = `http://127.0.0.1:${await freePort()}/metrics`;
  worker = startWorkerProcess(env.address, {
    ADMIN_TOKEN,
    ROLLOUT_METRICS_ADDRESS: new URL(metricsUrl).host,
  });
  await worker.waitFor(/rollout worker:/, 180_000);
});

afterEach(async () => {
  // Traffic first (it deletes its cameras through the backend), then Prometheus, then the backend.
  await backend?.traffic?.stop();
  await prometheus?.stop();
  prometheus = undefined;
  await backend?.stop();
  backend = undefined;
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

/**
 * The seed plan against `backend`, compressed, with long windows so only a fault ends a step:
 * - `read`: reads at 50% for 1h (→ 60 s), the fault is injected while they are observed;
 * - `write`: reads straight to 100% (monitored from then on), then, after the approval, writes at
 *   5% for 1h (→ 60 s), the fault is injected while they are observed.
 */
function faultPlan(backend: Backend, id: string, focus: 'read' | 'write', observe = '1h'): PlanInput {
  const seed = targetAt(seedPlan(), backend, id);
  const [read, write] = seed.phases;
  const defaults = seed.defaults ?? {};
  return {
    ...seed,
    defaults: {
      ...defaults,
      checkInterval: '1m',
      lookback: '3m',
      baselineWindow: '3m',
      thresholds: {
        ...defaults.thresholds,
        p95Increase: E2E_P95_INCREASE,
        minSamples: 20,
        // Workaround for a workflow bug (see the report): the first metrics sample after a step
        // changes still counts traffic from before the change, so the reads' jump 0% → 50% (or
        // → 100%) can look like a share far below the new percent and roll back a healthy canary.
        // With 1.0 the band is [0, 2 × percent]: too little domain traffic is never a rollback
        // here, too much still is (the served-share test skews the writes from 5% to 60%).
        // Opted in: a share three times off the configured one rolls back (the served-share test).
        servedShare: { tolerance: 1, rollbackFactor: 3 },
      },
    },
    phases:
      focus === 'read'
        ? [
            {
              ...read,
              steps: [
                { percent: 50, observe },
                { percent: 100, observe: 'continuous' },
              ],
            },
          ]
        : [
            { ...read, steps: [{ percent: 100, observe: 'continuous' }] },
            {
              ...write,
              steps: [
                { percent: 5, observe },
                { percent: 100, observe: 'continuous' },
              ],
            },
          ],
  };
}

/** Starts the rollout and brings it to a healthy, observed canary of `focus`. */
async function healthyCanary(
  id: string,
  focus: 'read' | 'write',
  options: { observe?: string; traffic?: typeof TRAFFIC } = {},
): Promise<{ handle: RolloutHandle; before: RolloutStatus }> {
  backend = await startBackend();
  backend.startTraffic(options.traffic ?? TRAFFIC);
  const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `rollout-${id}`,
    args: [{ plan: faultPlan(backend, id, focus, options.observe), timeScale: TIME_SCALE }],
  });
  if (focus === 'write') {
    await waitForStatus(handle, (s) => s.state === 'awaiting-approval', 'approval of phase 3', 60_000);
    await handle.signal(approveSignal, { by: 'alice', comment: 'reads at 100% and stable' });
  }
  const before = await waitForCleanChecks(handle, focus, 3, 60_000);
  expect(before.groups[focus].percent).toBe(focus === 'read' ? 50 : 5);
  expect((await backend.rollout()).groups[focus].percent).toBe(focus === 'read' ? 50 : 5);
  return { handle, before };
}

/** The rollout ended rolled back: the group, the trigger, the reason, and the backend agree. */
async function expectRolledBack(
  handle: RolloutHandle,
  group: 'read' | 'write',
  trigger: Trigger,
  reason: RegExp,
): Promise<RolloutStatus> {
  const result = await waitForStatus(
    handle,
    (s) => s.state === 'rolled-back',
    `rolled-back (${trigger})`,
    60_000,
  );
  expect(result.rollback).toMatchObject({ trigger, groups: [group], by: null });
  expect(result.rollback!.completedAt).not.toBeNull();
  expect(result.rollback!.reason).toMatch(reason);
  expect(result.groups[group]).toEqual({ percent: 0, state: 'rolled-back' });
  const step = result.history.find((h) => h.group === group && h.percent === (group === 'read' ? 50 : 5))!;
  expect(step.outcome).toBe('rolled-back');
  expect(step.reason).toMatch(new RegExp(`^${trigger}: `));
  expect((await handle.result()).state).toBe('rolled-back');

  const backendState = await backend!.rollout();
  expect(backendState.useDomainService).toBe(true);
  expect(backendState.groups[group].percent).toBe(0);
  return result;
}

test('a 50% domain error rate on the reads rolls the reads back (errorRate)', async () => {
  const { handle } = await healthyCanary('e2e-error-rate', 'read');
  const injectedAt = Date.now();
  await backend!.admin('PUT', '/admin/faults', { domain: { errorRate: 0.5 } });
  const zeroAt = await waitForGroupAtZero(backend!, 'read', 60_000);
  const seconds = (zeroAt - injectedAt) / 1000;
  console.log(
    `50% domain error rate injected → backend reports read at 0%: ${seconds.toFixed(2)} s ` +
      `(reads at 50%, ${TRAFFIC.rps} req/s of traffic, ${(TRAFFIC.rps * (1 - TRAFFIC.writeRatio)).toFixed(0)} of them reads, checks every 1 s)`,
  );
  const result = await expectRolledBack(
    handle,
    'read',
    'errorRate',
    /domain error rate \d+\.\d+% \(\d+\/\d+ over the last \d+ checks\), above the rollback bar 5\.00% by a sequential test/,
  );
  // Judged at a tick, not at the window's end: the 60 s window was far from over.
  expect(seconds).toBeLessThan(15);
  expect(result.lastCheck).toMatchObject({ group: 'read', verdict: 'rollback' });
  // The evidence the rollback was decided on (the last checks, by the sequential test) is far above
  // the 5% threshold. (The window's own interval also holds the healthy checks before the fault, so
  // its low end depends on how many there were: 4.68% once in CI, not a property of the rule.)
  const decided = /domain error rate (\d+\.\d+)% \(\d+\/\d+ over the last \d+ checks\)/.exec(
    result.rollback!.reason,
  );
  expect(Number(decided![1])).toBeGreaterThan(25);
  // Only the reads were started; the writes never left 0%.
  expect((await backend!.rollout()).groups.write.percent).toBe(0);

  // The worker's own metrics tell the same story, followed by the SDK's runtime metrics.
  const text = await (await fetch(metricsUrl)).text();
  const value = (line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);
  expect(
    value(/^rollout_orchestrator_rollbacks_total\{trigger="errorRate"\} (\d+)$/m),
  ).toBeGreaterThanOrEqual(1);
  expect(
    value(/^rollout_orchestrator_rollback_seconds_count\{trigger="errorRate"\} (\d+)$/m),
  ).toBeGreaterThanOrEqual(1);
  expect(value(/^rollout_orchestrator_percent\{target="e2e-error-rate",group="read"\} (\d+)$/m)).toBe(0);
  expect(value(/^rollout_orchestrator_checks_total\{group="read",verdict="pass"\} (\d+)$/m)).toBeGreaterThan(
    0,
  );
  expect(
    value(/^rollout_orchestrator_checks_total\{group="read",verdict="rollback"\} (\d+)$/m),
  ).toBeGreaterThanOrEqual(1);
  expect(value(/^rollout_orchestrator_rollouts\{state="rolled-back"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
  expect(text).toMatch(/^rollout_orchestrator_metrics_source_errors_total \d+$/m);
  expect(text).toMatch(/^temporal_workflow_task_schedule_to_start_latency/m);
});

test('300 ms of added domain latency on the reads rolls the reads back (p95)', async () => {
  const { handle, before } = await healthyCanary('e2e-latency', 'read');
  const legacyP95 = before.lastCheck!.metrics.p95ReferenceMs;
  await backend!.admin('PUT', '/admin/faults', { domain: { latencyMs: 300 } });
  const result = await expectRolledBack(
    handle,
    'read',
    'p95',
    /domain P95 ≈ \d+\.\dms vs \d+\.\dms for legacy \((window|last checks)\): [\d.]+% of domain requests over \d+\.\dms vs [\d.]+% of legacy over \d+\.\dms, over \+50\.00% by a two-sample test/,
  );
  const m = result.lastCheck!.metrics;
  // Interpolated inside the histogram's 250–500 ms bucket, far above legacy.
  expect(m.p95DomainMs as number).toBeGreaterThan(200);
  expect((m.p95DomainMs as number) - (m.p95ReferenceMs as number)).toBeGreaterThan(100);
  expect(m.p95Increase as number).toBeGreaterThan(0.5);
  // No errors: latency alone made the call.
  expect(m.errorRate).toBe(0);
  console.log(
    `p95 rollback: domain ${(m.p95DomainMs as number).toFixed(0)} ms vs legacy ${(m.p95ReferenceMs as number).toFixed(1)} ms (before the fault: ${legacyP95})`,
  );
});

test('a YAML desync of the domain writes rolls the writes back (writeProbe), the reads stay at 100%', async () => {
  // Writes at 5% observed for 15m (→ 15 s). Fewer writes than elsewhere: see below.
  const { handle, before } = await healthyCanary('e2e-yaml-desync', 'write', {
    observe: '15m',
    traffic: { rps: 100, writeRatio: 0.1 },
  });
  expect(before.lastCheck!.metrics.consistencyDifferences).toBe(0);
  await backend!.admin('PUT', '/admin/faults', { domain: { yamlDesync: true } });
  // Why writeProbe and not dataConsistency: the backend writes the YAML by rendering the whole
  // database, so the next legacy write (95% of the writes at 5%) puts a domain write's change into
  // the YAML a few milliseconds later; the per-tick consistency check, which confirms a difference
  // by reading again 500 ms later, does not see a lasting difference. The write probe at the end of
  // the window writes through the domain service and reads both stores right after each step:
  // the probe camera is missing in the YAML. (Fewer legacy writes make that check deterministic.)
  const result = await expectRolledBack(handle, 'write', 'writeProbe', /write probe failed: .*yaml/);
  const step = result.history.find((h) => h.group === 'write' && h.percent === 5)!;
  // Found at the window's end (15 s), not by a tick before it.
  expect(Date.parse(result.rollback!.at) - Date.parse(step.startedAt)).toBeGreaterThanOrEqual(step.windowMs!);
  expect(result.groups.read.percent).toBe(100);
  expect((await backend!.rollout()).groups.read.percent).toBe(100);
});

test("a served share skewed behind the orchestrator's back rolls the writes back (servedShare), the reads stay at 100%", async () => {
  const { handle } = await healthyCanary('e2e-served-share', 'write');
  // Someone sets the writes to 60% by hand while the plan says 5%.
  await backend!.admin('PUT', '/admin/rollout', { groups: { write: { percent: 60 } } });
  const result = await expectRolledBack(
    handle,
    'write',
    'servedShare',
    // The example backend routes by key and exports rollout_routing_keys: the share of keys is judged.
    /domain served \d+\.\d+% of \d+ routing keys \(interval .*; \d+\.\d+% of \d+ requests\), configured 5%/,
  );
  expect(result.lastCheck!.metrics.servedShareLow as number).toBeGreaterThan(0.075);
  expect(result.groups.read.percent).toBe(100);
  expect((await backend!.rollout()).groups.read.percent).toBe(100);
});

const PROMETHEUS_JOB = 'camera-api-e2e';

/** The seed's read phase with `metrics: prometheus`: ticks every 3 s (Prometheus scrapes every 1 s). */
function prometheusPlan(backend: Backend, prometheusUrl: string): PlanInput {
  const seed = targetAt(seedPlan(), backend, 'e2e-prometheus');
  const defaults = seed.defaults ?? {};
  return {
    ...seed,
    target: {
      ...seed.target,
      metrics: { type: 'prometheus', url: prometheusUrl, selector: `job="${PROMETHEUS_JOB}"` },
    },
    defaults: {
      ...defaults,
      checkInterval: '3m',
      lookback: '6m',
      baselineWindow: '9m',
      thresholds: {
        ...defaults.thresholds,
        p95Increase: E2E_P95_INCREASE,
        minSamples: 20,
        // As in faultPlan: the first sample of a step straddles the percent change.
        servedShare: { tolerance: 1 },
      },
    },
    phases: [
      {
        ...seed.phases[0],
        steps: [
          { percent: 25, observe: '12m' },
          { percent: 50, observe: '1h' },
          { percent: 100, observe: 'continuous' },
        ],
      },
    ],
  };
}

test('with metrics from a real Prometheus, a healthy step passes and a 50% domain error rate rolls the reads back', async () => {
  backend = await startBackend();
  // Fails at once, saying `apt-get install -y prometheus`, when the binary is missing.
  prometheus = await startPrometheus(`127.0.0.1:${backend.port}`, PROMETHEUS_JOB);
  backend.startTraffic({ rps: 100, writeRatio: 0.2 });
  const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: 'rollout-e2e-prometheus',
    args: [{ plan: prometheusPlan(backend, prometheus.url), timeScale: TIME_SCALE }],
  });

  // Step 1, 25% for 12 s, judged on PromQL increases over each 3 s tick.
  const atFifty = await waitForStatus(
    handle,
    (s) => {
      if (s.state === 'holding')
        throw new Error(`the 25% step held instead of passing: ${s.awaiting?.prompt}`);
      return s.percent === 50 && s.state === 'observing';
    },
    'the 50% step',
    90_000,
  );
  const first = atFifty.history[0];
  expect(first).toMatchObject({ group: 'read', percent: 25, outcome: 'passed', verdict: 'pass' });
  // Real counts came back from Prometheus: enough domain requests, a share near 25%.
  expect(first.metrics!.samples as number).toBeGreaterThanOrEqual(20);
  expect(first.metrics!.servedShare as number).toBeGreaterThan(0.15);
  expect(first.metrics!.servedShare as number).toBeLessThan(0.35);
  expect(first.metrics!.errorRate).toBe(0);
  expect(typeof first.metrics!.p95DomainMs).toBe('number');
  const baseline = atFifty.events.find((e) => /baseline legacy P95 \d/.test(e.message));
  expect(baseline).toBeDefined();

  await waitForCleanChecks(handle, 'read', 2, 30_000);
  const injectedAt = Date.now();
  await backend!.admin('PUT', '/admin/faults', { domain: { errorRate: 0.5 } });
  const zeroAt = await waitForGroupAtZero(backend!, 'read', 60_000);
  console.log(
    `prometheus provider: 50% domain error rate → read at 0% after ${((zeroAt - injectedAt) / 1000).toFixed(2)} s (3 s ticks, 1 s scrapes)`,
  );

  const result = await waitForStatus(handle, (s) => s.state === 'rolled-back', 'rolled-back', 30_000);
  expect(result.rollback).toMatchObject({ trigger: 'errorRate', groups: ['read'] });
  expect(result.rollback!.reason).toMatch(
    /domain error rate \d+\.\d+% \(\d+\/\d+ over the last \d+ checks\), above the rollback bar 5\.00% by a sequential test/,
  );
  expect(result.groups.read).toEqual({ percent: 0, state: 'rolled-back' });
  expect((await backend!.rollout()).groups.read.percent).toBe(0);
  // The metrics source never failed: every judgement came from Prometheus answers.
  expect(result.metricErrors).toBe(0);
  expect(result.events.filter((e) => /metrics source error/.test(e.message))).toEqual([]);
  // And Prometheus really holds the backend's series under the job the plan selects.
  const series = await prometheus!.query(`sum by (impl) (http_requests_total{job="${PROMETHEUS_JOB}"})`);
  expect(series.map((r) => r.metric.impl).sort()).toEqual(['domain', 'legacy']);
  // A hold is never approved in this test: the step passed on its own.
  expect(result.events.filter((e) => e.name === 'approve')).toEqual([]);
});
