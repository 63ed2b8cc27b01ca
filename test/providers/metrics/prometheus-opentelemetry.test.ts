import { Histogram, Registry } from 'prom-client';
import { createMetricsProvider } from '../../../src/providers/metrics';
import type { GroupSample } from '../../../src/judge/samples';
import { startPrometheus, type RunningPrometheus } from '../../helpers/prometheus';
import { serve, waitFor, type Served } from '../support';

/**
 * A real Prometheus scraping a small service that exports OpenTelemetry HTTP semantic conventions
 * (`http_server_request_duration_seconds`, its `_count` the request counter) for two
 * implementations, read through the `opentelemetry` preset, and through the plan's own PromQL.
 */

const endpoints = [
  { method: 'GET', route: '/api/v1/system/info' },
  { method: 'PUT', route: '/api/v1/cameras/{camera_id}' },
];
const JOB = 'otel-api';

describe('prometheus provider, opentelemetry preset, against a real Prometheus', () => {
  const registry = new Registry();
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests.',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code', 'impl'],
    // The semantic conventions' advice for this histogram.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    registers: [registry],
  });
  let server: Served;
  let prometheus: RunningPrometheus;

  const hit = (impl: string, method: string, route: string, status: number, seconds: number, n: number) => {
    const labels = { http_request_method: method, http_route: route, http_response_status_code: String(status), impl };
    for (let i = 0; i < n; i++) duration.observe(labels, seconds);
  };
  const scraped = async () =>
    Number((await prometheus.query(`sum(http_server_request_duration_seconds_count{job="${JOB}"})`))[0]?.value[1] ?? 0);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let from: Date;
  let to: Date;

  beforeAll(async () => {
    server = await serve(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(await registry.metrics());
    });
    prometheus = await startPrometheus(new URL(server.url).host, JOB);
    // Every series exists before the window: increase() cannot see a series' first value.
    hit('domain', 'GET', '/api/v1/system/info', 200, 0.03, 1);
    hit('domain', 'PUT', '/api/v1/cameras/:camera_id', 500, 0.3, 1);
    hit('legacy', 'GET', '/api/v1/system/info', 200, 0.008, 1);
    hit('legacy', 'GET', '/api/v1/cameras', 200, 0.008, 1);
    await waitFor('the first requests to be scraped', async () => ((await scraped()) === 4 ? true : undefined), 30_000);
    await sleep(1500);
    from = new Date();
    await sleep(1500);
    hit('domain', 'GET', '/api/v1/system/info', 200, 0.03, 30);
    hit('domain', 'PUT', '/api/v1/cameras/:camera_id', 500, 0.3, 10);
    hit('legacy', 'GET', '/api/v1/system/info', 200, 0.008, 20);
    hit('legacy', 'GET', '/api/v1/cameras', 200, 0.008, 50); // not an endpoint of the group
    await waitFor('the requests to be scraped', async () => ((await scraped()) === 114 ? true : undefined), 30_000);
    await sleep(Math.max(1500, from.getTime() + 10_000 - Date.now()));
    to = new Date();
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
  }, 30_000);

  // increase() extrapolates to the window's edges: never below what was sent, somewhat above.
  const near = (value: number, sent: number) => {
    expect(value).toBeGreaterThanOrEqual(sent);
    expect(value).toBeLessThanOrEqual(Math.ceil(sent * 1.35));
  };
  /** What was sent in the window: 40 domain requests (10 of them 500s), 20 legacy (no errors). */
  const expectCounts = (s: GroupSample) => {
    near(s.domain.requests, 40);
    near(s.domain.errors, 10);
    near(s.domain.successes, 30);
    near(s.legacy.requests, 20);
    expect(s.legacy.errors).toBe(0);
  };

  test('requests, errors, successes and buckets per implementation, through the preset', async () => {
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: prometheus.url,
      selector: `job="${JOB}"`,
      timeout: '5s',
      preset: 'opentelemetry',
    });
    const s = await provider.sample({ key: 'any', group: 'read', endpoints, from, to });
    expectCounts(s);
    expect(s.domain.unknownStatus).toBeUndefined();
    const at = (b: Array<[number, number]>, le: number) => b.find(([x]) => x === le)?.[1] ?? -1;
    // Domain: 30 at 30 ms, 10 at 300 ms; legacy: all at 8 ms.
    expect(at(s.domain.buckets, 0.025)).toBe(0);
    near(at(s.domain.buckets, 0.05), 30);
    near(at(s.domain.buckets, 0.5), 40);
    near(at(s.legacy.buckets, 0.01), 20);
    expect(s.domain.buckets[s.domain.buckets.length - 1][0]).toBe(10);
  }, 30_000);

  test('the same figures from the plan’s own PromQL templates', async () => {
    const series = (metric: string, extra = '') =>
      `${metric}{job="${JOB}",{impl_selector},http_route=~"{routes}",http_request_method=~"{methods}"${extra}}`;
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: prometheus.url,
      selector: `job="${JOB}"`,
      timeout: '5s',
      queries: {
        requests: `sum(increase(${series('http_server_request_duration_seconds_count')}[{range}]))`,
        errors: `sum(increase(${series('http_server_request_duration_seconds_count', ',http_response_status_code=~"5.."')}[{range}]))`,
        successes: `sum(increase(${series('http_server_request_duration_seconds_count', ',http_response_status_code=~"2.."')}[{range}]))`,
        buckets: `sum by (le) (increase(${series('http_server_request_duration_seconds_bucket')}[{range}]))`,
      },
    });
    const s = await provider.sample({ key: 'any', group: 'read', endpoints, from, to });
    // {methods} and {routes} are two regexes (a template pairs no method with its route); legacy's
    // GET /api/v1/cameras matches no route of the group.
    expectCounts(s);
    near(s.domain.buckets.find(([le]) => le === 0.5)?.[1] ?? -1, 40);
  }, 30_000);
});
