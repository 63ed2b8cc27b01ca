/**
 * Rollouts through real routers (issue 23): a service the orchestrator has never seen, run as two
 * processes (legacy and domain, each on its own port with its own `/metrics` in OpenTelemetry's
 * conventions), a real Prometheus scraping them as two jobs (`preset: opentelemetry`, the
 * implementations told apart by `job`), and in front of them a real HAProxy (the `haproxy`
 * provider, and the `command` provider through an operator's script) or a real nginx (the `nginx`
 * provider). Users' requests go through the router all along. Per router: a healthy domain
 * completes 10 → 50 → 100; a domain failing 40% of one route is rolled back, and the router itself
 * (read without the provider, and by requests through it) sends the domain nothing.
 * One dev server, worker, Prometheus, service pair, HAProxy and nginx for the file.
 */
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PlanInput, TrafficConfig } from '../../src/plan/schema';
import { TASK_QUEUE, type RolloutStatus } from '../../src/contracts/definitions';
import { createTrafficProvider } from '../../src/providers/traffic';
import type { rolloutWorkflow } from '../../src/workflows';
import { ITEM_ENDPOINTS, startLoad, startOtelService, type LoadRun, type OtelService } from '../helpers/otel-service';
import { freePort, startWorkerProcess, tempDir, type Child } from '../helpers/processes';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus';
import {
  HAPROXY_WEIGHTS_SCRIPT,
  NGINX_BIN,
  haproxyRuntime,
  nginxServedPercents,
  servedBy,
  startHaproxy,
  startNginx,
  type Detached,
} from '../helpers/routers';
import { createDevServerEnv } from '../helpers/temporal';
import { E2E_P95_INCREASE, driveRollout, waitForCleanChecks, waitForStatus, type RolloutHandle } from './support';

jest.setTimeout(120_000);

/**
 * 1 minute of plan time is 1 s: 3 s checks (Prometheus scrapes every 1 s: increase() needs two
 * scrapes in a range), a 3 s legacy baseline, 6 s windows.
 */
const TIME_SCALE = 60;
/** Users' requests a second through the router: at 10%, about 8 a second reach the domain. */
const RPS = 80;
const JOBS = { legacy: 'catalogue-legacy', domain: 'catalogue-domain' };
/** The domain's fault: 40% of the single-item reads answer 500 (20% of the group's requests). */
const FAULT = { route: '/api/items/{id}', errorRate: 0.4 };

const dir = tempDir('routers-e2e');
let env: TestWorkflowEnvironment;
let worker: Child | undefined;
let legacy: OtelService | undefined;
let domain: OtelService | undefined;
let prometheus: RunningPrometheus | undefined;
const routerProcs: Detached[] = [];
let load: LoadRun | undefined;

/** A router in front of the pair, as one kind of `target.traffic` sees it. */
interface Router {
  front: string;
  traffic: TrafficConfig;
  /** The domain's share of the read group as the router itself holds it, read without any provider. */
  domainPercent(): Promise<number>;
}
const routers = {} as Record<'haproxy' | 'nginx' | 'command', Router>;

/**
 * HAProxy: backend be_read with a legacy and a domain server. The orchestrator's probes say which
 * implementation they want (`X-Rollout-Force`), and the router honours it through a backend each.
 */
async function startHaproxyRouter(): Promise<void> {
  const frontPort = await freePort();
  const { proc, socket } = await startHaproxy(path.join(dir, 'haproxy'), [
    'frontend fe',
    `  bind 127.0.0.1:${frontPort}`,
    '  use_backend force_legacy if { req.hdr(x-rollout-force) -m str legacy }',
    '  use_backend force_domain if { req.hdr(x-rollout-force) -m str domain }',
    '  default_backend be_read',
    'backend be_read',
    '  balance roundrobin',
    `  server legacy ${legacy!.address} weight 100`,
    `  server domain ${domain!.address} weight 0`,
    'backend force_legacy',
    `  server legacy ${legacy!.address}`,
    'backend force_domain',
    `  server domain ${domain!.address}`,
  ]);
  routerProcs.push(proc);
  const front = `http://127.0.0.1:${frontPort}`;
  // HAProxy's own weights, through its Runtime API: the domain's share of the two.
  const domainPercent = async () => {
    const s = await haproxyRuntime.serverStates(socket, 'be_read');
    return (s.domain.weight * 100) / (s.domain.weight + s.legacy.weight);
  };
  routers.haproxy = {
    front,
    traffic: {
      type: 'haproxy',
      runtimeApi: `unix:${socket}`,
      groups: { read: { backend: 'be_read', legacy: 'legacy', domain: 'domain' } },
      timeout: '5s',
    },
    domainPercent,
  };
  // The same HAProxy driven by an operator's script (group read → backend be_read).
  routers.command = {
    front,
    traffic: {
      type: 'command',
      set: [HAPROXY_WEIGHTS_SCRIPT, socket, 'set', '{group}', '{percent}'],
      read: [HAPROXY_WEIGHTS_SCRIPT, socket, 'read', '{group}'],
      timeout: '10s',
    },
    domainPercent,
  };
}

/** nginx: the provider's upstream t_read, and a map that sends forced probes to one implementation. */
async function startNginxRouter(): Promise<void> {
  const nginx = await startNginx(path.join(dir, 'nginx'), {
    groups: { read: { upstream: 't_read', legacy: legacy!.address, domain: domain!.address } },
    http: [
      'map $http_x_rollout_force $catalogue { legacy force_legacy; domain force_domain; default t_read; }',
      `upstream force_legacy { server ${legacy!.address}; }`,
      `upstream force_domain { server ${domain!.address}; }`,
    ],
    locations: ['location / { proxy_pass http://$catalogue; }'],
  });
  routerProcs.push(nginx.proc);
  routers.nginx = {
    front: nginx.front,
    traffic: nginx.config,
    // What nginx serves on the provider's status location: the file nginx has loaded.
    domainPercent: async () => (await nginxServedPercents(nginx.config.statusListen)).read,
  };
}

beforeAll(async () => {
  mkdirSync(path.join(dir, 'haproxy'));
  mkdirSync(path.join(dir, 'nginx'));
  [env, legacy, domain] = await Promise.all([
    createDevServerEnv(),
    startOtelService('legacy'),
    startOtelService('domain'),
  ]);
  worker = startWorkerProcess(env.address, {
    // nginx's test and reload commands, and the HAProxy script of the command provider.
    ROLLOUT_ALLOW_COMMANDS: [path.dirname(realpathSync(NGINX_BIN)), HAPROXY_WEIGHTS_SCRIPT].join(','),
  });
  [prometheus] = await Promise.all([
    // Two processes are two scrape jobs, as a real deployment of two implementations has them.
    startPrometheus({ [JOBS.legacy]: [legacy.address], [JOBS.domain]: [domain.address] }),
    startHaproxyRouter(),
    startNginxRouter(),
    worker.waitFor(/rollout worker:/, 180_000),
  ]);
}, 240_000);

afterEach(async () => {
  await load?.stop();
  load = undefined;
  await domain?.setFault(undefined);
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all(routerProcs.map((p) => p.stop()));
  await prometheus?.stop();
  await Promise.all([legacy?.stop(), domain?.stop()]);
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

/** The catalogue's read group, 10% → 50% → 100%, judged on Prometheus' figures of the two jobs. */
function catalogPlan(id: string, router: Router, fiftyFor: string): PlanInput {
  return {
    name: `catalogue ${id}`,
    target: {
      id,
      baseUrl: router.front,
      traffic: router.traffic,
      metrics: {
        type: 'prometheus',
        url: prometheus!.url,
        preset: 'opentelemetry',
        impl: { label: 'job', domain: JOBS.domain, legacy: JOBS.legacy },
      },
      // `{id}` of the single-item route is filled for the functional check.
      probes: { reads: [{ request: 'GET /api/items/{id}', params: { id: '7' } }] },
    },
    defaults: {
      checkInterval: '3m',
      lookback: '6m',
      baselineWindow: '3m',
      thresholds: {
        p95Increase: E2E_P95_INCREASE,
        minSamples: 20,
        // The first check of a step still counts requests from before the change (increase() over
        // the 3 s before it): the band is wide here; the router's split is asserted on the window.
        servedShare: { tolerance: 1 },
      },
    },
    phases: [
      {
        name: 'catalogue-read',
        group: 'read',
        endpoints: [...ITEM_ENDPOINTS],
        steps: [
          { percent: 10, observe: '6m' },
          { percent: 50, observe: fiftyFor },
          { percent: 100, observe: 'continuous' },
        ],
      },
    ],
  };
}

/** Puts the router back to 0% (the previous test may have left it at 100%), then starts the rollout. */
async function startRollout(name: keyof typeof routers, id: string, fiftyFor: string): Promise<RolloutHandle> {
  const router = routers[name];
  await createTrafficProvider(router.traffic, process.env).setPercent('read', 0);
  expect(await router.domainPercent()).toBe(0);
  load = startLoad(router.front, RPS);
  return env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `rollout-${id}`,
    args: [{ plan: catalogPlan(id, router, fiftyFor), timeScale: TIME_SCALE }],
  });
}

/** The 10% step passed on its own, with a share of domain requests that only the router's split gives. */
function expectTenPercentPassed(status: RolloutStatus): void {
  const ten = status.history.find((h) => h.percent === 10)!;
  expect(ten).toMatchObject({ group: 'read', outcome: 'passed', verdict: 'pass' });
  expect(ten.metrics!.samples as number).toBeGreaterThanOrEqual(20);
  expect(ten.metrics!.servedShare as number).toBeGreaterThan(0.04);
  expect(ten.metrics!.servedShare as number).toBeLessThan(0.2);
}

describe.each(['haproxy', 'nginx', 'command'] as const)('through %s', (name) => {
  test('a healthy domain completes 10% → 50% → 100%, the router at 100% for the domain', async () => {
    const started = Date.now();
    const handle = await startRollout(name, `e2e-${name}-healthy`, '6m');
    const { holds } = await driveRollout(handle, () => Promise.reject(new Error('no approval gate')), 90_000);
    const result = await handle.result();
    expect(result.state).toBe('completed');
    // Every step passed on its own: no hold needed approving, no metrics source error.
    expect(holds).toEqual([]);
    expect(result.metricErrors).toBe(0);
    expectTenPercentPassed(result);
    const fifty = result.history.find((h) => h.percent === 50)!;
    expect(fifty).toMatchObject({ outcome: 'passed', verdict: 'pass' });
    expect(fifty.metrics!.servedShare as number).toBeGreaterThan(0.35);
    expect(fifty.metrics!.servedShare as number).toBeLessThan(0.65);
    expect(fifty.metrics!.errorRate).toBe(0);
    expect(result.history.map((h) => `${h.percent}:${h.outcome}`)).toEqual(['10:passed', '50:passed', '100:completed']);
    expect(result.groups.read).toMatchObject({ percent: 100 });

    // The router itself: its state, and the requests through it.
    expect(await routers[name].domainPercent()).toBe(100);
    expect((await servedBy(`${routers[name].front}/api/items`, 20)).legacy).toBe(0);
    await load!.stop();
    const counts = load!.counts();
    expect(counts.failed).toBe(0);
    expect(Object.keys(counts.statuses)).toEqual(['200']);
    expect(counts.domain).toBeGreaterThan(RPS * 5);
    console.log(
      `${name}: healthy rollout completed in ${((Date.now() - started) / 1000).toFixed(1)} s (` +
        result.history.map((h) => `${h.percent}%: ${((Date.parse(h.endedAt!) - Date.parse(h.startedAt)) / 1000).toFixed(1)} s`).join(', ') +
        '); ' +
        `${counts.legacy} requests served by legacy, ${counts.domain} by domain`,
    );
  });

  test('a domain failing 40% of one route is rolled back (errorRate), the router at 0% for the domain', async () => {
    const started = Date.now();
    const handle = await startRollout(name, `e2e-${name}-failing`, '1h');
    // The fault comes once the 50% step is observed clean: the 10% step passed before it.
    await waitForStatus(handle, (s) => s.percent === 50 && s.state === 'observing', 'the 50% step', 60_000);
    await waitForCleanChecks(handle, 'read', 1, 30_000);
    await domain!.setFault(FAULT);
    const result = await waitForStatus(handle, (s) => s.state === 'rolled-back', 'rolled-back', 60_000);

    expect(result.rollback).toMatchObject({ trigger: 'errorRate', groups: ['read'], by: null });
    expect(result.rollback!.completedAt).not.toBeNull();
    expect(result.rollback!.reason).toMatch(
      /domain error rate \d+\.\d+% \(\d+\/\d+ over the last \d+ checks\), above the rollback bar 5\.00% by a sequential test/,
    );
    // The evidence is the fault's: about 20% of the domain's requests fail, far past the 5% bar.
    const decided = /domain error rate (\d+\.\d+)% \(/.exec(result.rollback!.reason);
    expect(Number(decided![1])).toBeGreaterThan(8);
    expect(result.groups.read).toEqual({ percent: 0, state: 'rolled-back' });
    expectTenPercentPassed(result);
    expect(result.history.find((h) => h.percent === 50)).toMatchObject({ outcome: 'rolled-back' });
    expect(result.history.some((h) => h.percent === 100)).toBe(false);
    expect(result.metricErrors).toBe(0);
    expect((await handle.result()).state).toBe('rolled-back');

    // The router itself sends the domain nothing: its state, and the requests through it.
    expect(await routers[name].domainPercent()).toBe(0);
    expect((await servedBy(`${routers[name].front}/api/items`, 20)).domain).toBe(0);
    // The users saw the fault before the rollback: it was real, through the router.
    expect(load!.counts().statuses[500]).toBeGreaterThan(0);
    console.log(
      `${name}: rolled back ${((Date.now() - started) / 1000).toFixed(1)} s after the start: ${result.rollback!.reason}`,
    );
  });
});
