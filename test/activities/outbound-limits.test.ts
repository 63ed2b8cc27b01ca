/**
 * Every outbound call of the activities is bounded: a deadline on the whole call (headers and
 * body) and a cap on the answer. A metrics source that drips or floods is a metrics-source error
 * (`reading.error`), counted toward `maxMetricErrors` and so a hold, never a hang; a probe gets a
 * transport failure; a webhook a retryable error naming only the origin. Real sockets, real axios.
 */
import axios from 'axios';
import { createActivities } from '../../src/activities';
import { resolveDeps } from '../../src/activities/deps';
import { readMetrics } from '../../src/activities/metrics';
import { runObservation } from '../../src/activities/observation-loop';
import { TargetClient } from '../../src/activities/target-client';
import { startObservation } from '../../src/contracts/observation';
import type { SampleMetricsInput } from '../../src/contracts/activities';
import { planSchema } from '../../src/plan/schema';
import { isPermanent } from '../../src/providers/errors';
import { seedPlan } from '../helpers/workflow-harness';
import { dripping, flooding, rejectionOf, type Misbehaving } from '../providers/support';

jest.setTimeout(40_000);

const SLACK = 16 * 1024 * 1024;
let server: Misbehaving | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const groups = [{ group: 'read', endpoints: ['GET /api/v1/system/info'] }];
const metricsInput = (url: string, timeout: string): SampleMetricsInput => ({
  metrics: { type: 'exposition', url, timeout },
  key: 'limits',
  groups,
  from: new Date(Date.now() - 10_000).toISOString(),
  to: new Date().toISOString(),
});

describe('sampleMetrics with a misbehaving metrics source', () => {
  test('a dripping /metrics is a metrics-source error in the reading, not a hang or a throw', async () => {
    server = await dripping();
    const url = `${server.url}/metrics`;
    const started = Date.now();
    const reading = await createActivities({ env: {} }).sampleMetrics(metricsInput(url, '1s'));
    expect(reading).toEqual({
      samples: {},
      error: `read: metrics from ${url}: no complete answer within 1s (deadline)`,
    });
    expect(Date.now() - started).toBeLessThan(1000 + 5000);
    await server.allHungUp();
  });

  test('a 200 MiB /metrics is a metrics-source error in the reading, cut off at 20 MiB', async () => {
    server = await flooding();
    const url = `${server.url}/metrics`;
    const reading = await createActivities({ env: {} }).sampleMetrics(metricsInput(url, '30s'));
    expect(reading).toEqual({
      samples: {},
      error: `read: metrics from ${url}: body larger than 20 MiB (cut off)`,
    });
    await server.allHungUp();
  });

  test('the observation loop counts a dripping source toward maxMetricErrors and holds', async () => {
    server = await dripping();
    const url = `${server.url}/metrics`;
    const plan = planSchema.parse(seedPlan());
    const deps = resolveDeps({ env: {} });
    const metrics = { type: 'exposition', url, timeout: '300ms' } as const;
    // Real scrapes against the dripping server; the clock between checks is virtual.
    const clock = { now: Date.parse('2026-12-01T03:00:00Z') };
    const result = await runObservation(
      {
        rolloutId: 'limits',
        metrics,
        groups: [
          {
            group: 'read',
            endpoints: groups[0].endpoints,
            context: {
              percent: 10,
              thresholds: plan.defaults.thresholds,
              checks: ['errorRate', 'successRate', 'p95', 'servedShare'],
              baseline: null,
              plannedLooks: 720,
              continuousLooks: 8640,
              lookbackChecks: 12,
            },
            appliedAtMs: clock.now,
            consistency: false,
          },
        ],
        primary: 'read',
        checkIntervalMs: 10_000,
        sliceMs: 3_600_000,
        maxMetricErrors: 3,
        state: startObservation(30 * 60_000),
      },
      {
        now: () => clock.now,
        sleep: async (ms) => {
          clock.now += ms;
          return true;
        },
        sample: (g, from, to) => readMetrics(deps, { metrics, key: 'limits', groups: g, from, to }),
        consistency: async () => ({ ok: true, checked: 0, differences: [] }),
        heartbeat: () => undefined,
      },
    );
    const error = `read: metrics from ${url}: no complete answer within 300ms (deadline)`;
    expect(result.end).toEqual({ kind: 'metrics-hold', error });
    expect(result.state.metricErrors).toBe(3);
  });
});

describe('probes (TargetClient)', () => {
  test('an answer dripping a byte a second is a transport failure at the deadline', async () => {
    server = await dripping('application/json');
    const client = new TargetClient(axios.create(), server.url, 1000);
    const started = Date.now();
    const r = await client.call('GET', '/api/v1/system/info', { impl: 'domain' });
    expect(r).toEqual({
      status: 0,
      body: undefined,
      error: `probe GET ${server.url}/api/v1/system/info: no complete answer within 1s (deadline)`,
    });
    expect(Date.now() - started).toBeLessThan(1000 + 5000);
    await server.allHungUp();
  });

  test('a 200 MiB answer is cut off at 4 MiB (the default cap)', async () => {
    server = await flooding('application/json');
    const client = new TargetClient(axios.create(), server.url);
    const r = await client.call('POST', '/api/v1/cameras', { impl: 'legacy', body: { id: 'x' } });
    expect(r.status).toBe(0);
    expect(r.error).toBe(`probe POST ${server.url}/api/v1/cameras: body larger than 4 MiB (cut off)`);
    await server.allHungUp();
    expect(server.answers[0].sent).toBeLessThan(4 * 1024 * 1024 + SLACK);
  });
});

describe('notify', () => {
  const input = (url: string) => ({
    webhookUrl: `${url}/secret-token-path`,
    idempotencyKey: 'k',
    event: { kind: 'awaiting-approval' as const, rolloutId: 'r', text: 't', phase: 'p' },
  });

  test('a receiver dripping its answer fails at the 10 s deadline, naming only the origin', async () => {
    server = await dripping('application/json');
    const started = Date.now();
    const err = await rejectionOf(createActivities({ env: {} }).notify(input(server.url)));
    expect(err.message).toBe(`webhook ${server.url}: no complete answer within 10s (deadline)`);
    expect(isPermanent(err)).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000 + 5000);
    await server.allHungUp();
  });

  test('a 200 MiB answer is cut off at 64 KiB', async () => {
    server = await flooding('application/json');
    const err = await rejectionOf(createActivities({ env: {} }).notify(input(server.url)));
    expect(err.message).toBe(`webhook ${server.url}: body larger than 64 KiB (cut off)`);
    expect(err.message).not.toContain('secret-token-path');
    await server.allHungUp();
    expect(server.answers[0].sent).toBeLessThan(64 * 1024 + SLACK);
  });
});
