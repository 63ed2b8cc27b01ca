import { Counter, Histogram, Registry } from 'prom-client';
import { createMetricsProvider } from '../../../src/providers/metrics';
import { freePort, rejectionOf, serve, startTestBackend, type Served } from '../support';

const config = (url: string) => ({ type: 'exposition', url: `${url}/metrics`, timeout: '5s' }) as const;
const endpoints = [
  { method: 'GET', route: '/api/v1/system/info' },
  { method: 'GET', route: '/api/v1/alerts/rules' },
];
const window = { from: new Date(), to: new Date() };

describe('exposition provider against a prom-client registry over HTTP', () => {
  const registry = new Registry();
  const labelNames = ['route', 'method', 'impl', 'status'];
  const requests = new Counter({ name: 'http_requests_total', help: 'r', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'd',
    labelNames,
    buckets: [0.01, 0.1, 1],
    registers: [registry],
  });
  let server: Served;

  const hit = (impl: string, status: number, seconds: number, route = '/api/v1/system/info', n = 1) => {
    const labels = { route, method: 'GET', impl, status: String(status) };
    for (let i = 0; i < n; i++) {
      requests.inc(labels);
      duration.observe(labels, seconds);
    }
  };

  beforeAll(async () => {
    server = await serve(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(await registry.metrics());
    });
  });
  afterAll(() => server.close());

  test('first reading is a warmup, then differences per implementation; a reset warms up again', async () => {
    hit('legacy', 200, 0.005, undefined, 7); // before the first reading: must not count
    const provider = createMetricsProvider(config(server.url));
    const first = await provider.sample({ key: 'r1', group: 'read', endpoints, ...window });
    expect(first.warmup).toBe(true);
    expect(first.domain.requests + first.legacy.requests).toBe(0);

    hit('domain', 200, 0.05, undefined, 8);
    hit('domain', 500, 0.5, '/api/v1/alerts/rules', 2);
    hit('legacy', 200, 0.005, undefined, 10);
    hit('legacy', 200, 0.005, '/api/v1/cameras', 50); // not an endpoint of the group
    const second = await provider.sample({ key: 'r1', group: 'read', endpoints, ...window });
    expect(second.warmup).toBeUndefined();
    expect(second.domain).toEqual({
      requests: 10,
      errors: 2,
      successes: 8,
      buckets: [
        [0.01, 0],
        [0.1, 8],
        [1, 10],
      ],
    });
    expect(second.legacy).toEqual({
      requests: 10,
      errors: 0,
      successes: 10,
      buckets: [
        [0.01, 10],
        [0.1, 10],
        [1, 10],
      ],
    });
    expect(Date.parse(second.to)).toBeGreaterThanOrEqual(Date.parse(second.from));

    // Another key has its own previous reading.
    expect((await provider.sample({ key: 'r2', group: 'read', endpoints, ...window })).warmup).toBe(true);

    registry.resetMetrics(); // the target restarted
    hit('domain', 200, 0.05, undefined, 1);
    const afterReset = await provider.sample({ key: 'r1', group: 'read', endpoints, ...window });
    expect(afterReset.warmup).toBe(true);
    expect(afterReset.domain.requests).toBe(0);
    hit('domain', 200, 0.05, undefined, 4);
    expect((await provider.sample({ key: 'r1', group: 'read', endpoints, ...window })).domain.requests).toBe(
      4,
    );
  });

  test("a reference kept by the caller carries over to another worker's provider: no traffic lost", async () => {
    const before = await createMetricsProvider(config(server.url)).sample({
      key: 'r3',
      group: 'read',
      endpoints,
      ...window,
      previous: null,
    });
    expect(before.warmup).toBe(true);
    // The worker dies; traffic goes on; a new worker (a provider with no memory) reads next.
    hit('domain', 200, 0.05, undefined, 6);
    hit('domain', 500, 0.05, undefined, 3);
    const kept = JSON.parse(JSON.stringify(before.reference));
    const after = await createMetricsProvider(config(server.url)).sample({
      key: 'r3',
      group: 'read',
      endpoints,
      ...window,
      previous: kept,
    });
    expect(after.warmup).toBeUndefined();
    expect([after.domain.requests, after.domain.errors]).toEqual([9, 3]);
    expect(after.from).toBe(before.reference!.at);
    // `previous: null` says the caller has none: a warmup, though this provider's memory has one.
    const fresh = createMetricsProvider(config(server.url));
    await fresh.sample({ key: 'r4', group: 'read', endpoints, ...window });
    hit('domain', 200, 0.05, undefined, 2);
    expect((await fresh.sample({ key: 'r4', group: 'read', endpoints, ...window, previous: null })).warmup).toBe(true);
  });
});

describe('exposition provider: garbage from the metrics endpoint gives a clear error', () => {
  const cases: Array<[string, number, string, string, RegExp]> = [
    ['a 500', 500, 'text/plain', 'internal error', /HTTP 500: "internal error"/],
    [
      'an HTML login page',
      200,
      'text/html',
      '<!doctype html><html><body>Sign in</body></html>',
      /answered HTML \(content-type text\/html\)/,
    ],
    ['HTML served as text/plain', 200, 'text/plain', '<html><body>oops</body></html>', /answered HTML/],
    ['JSON', 200, 'application/json', '{"status":"ok"}', /answered JSON/],
    [
      'truncated text',
      200,
      'text/plain',
      '# TYPE http_requests_total counter\nhttp_requests_total{route="/api/v1/system/info",method="GE',
      /body truncated: line 2 "http_requests_total\{route=.*" does not end with a newline/,
    ],
    ['an empty body', 200, 'text/plain', '', /empty body/],
    [
      'metrics of some other service',
      200,
      'text/plain',
      'process_cpu_seconds_total 1\n',
      /has no http_requests_total metric/,
    ],
  ];
  test.each(cases)('%s', async (_name, status, type, body, pattern) => {
    const fake = await serve((_req, res) => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(body);
    });
    try {
      const err = await rejectionOf(
        createMetricsProvider(config(fake.url)).sample({ key: 'k', group: 'read', endpoints, ...window }),
      );
      expect(err.message).toMatch(pattern);
      expect(err.message).toContain(`GET ${fake.url}/metrics`);
    } finally {
      await fake.close();
    }
  });

  test('an unreachable endpoint names the URL', async () => {
    const port = await freePort();
    const err = await rejectionOf(
      createMetricsProvider(config(`http://127.0.0.1:${port}`)).sample({
        key: 'k',
        group: 'read',
        endpoints,
        ...window,
      }),
    );
    expect(err.message).toMatch(new RegExp(`127.0.0.1:${port}.*ECONNREFUSED`));
  });
});

describe('exposition provider against the example backend', () => {
  test('counts routed requests per implementation and leaves forced probes out', async () => {
    const backend = await startTestBackend({ USE_DOMAIN_SERVICE: 'true', ROLLOUT_PERCENT_READ: '50' });
    try {
      const provider = createMetricsProvider(config(backend.url));
      expect((await provider.sample({ key: 'k', group: 'read', endpoints, ...window })).warmup).toBe(true);
      const served = { legacy: 0, domain: 0 };
      for (let i = 0; i < 60; i++) {
        const r = await backend.call(
          'GET',
          i % 2 ? '/api/v1/system/info' : '/api/v1/alerts/rules',
          undefined,
          { 'X-Rollout-Key': `user-${i}` },
        );
        expect(r.status).toBe(200);
        served[r.servedBy as 'legacy' | 'domain']++;
      }
      // Probes pick their implementation and are metered apart.
      for (let i = 0; i < 5; i++)
        await backend.call('GET', '/api/v1/system/info', undefined, { 'X-Rollout-Force': 'domain' });
      // Routed (group read) but not an endpoint of the plan's group: counts as one keyless key.
      const cameras = (await backend.call('GET', '/api/v1/cameras')).servedBy;
      const s = await provider.sample({ key: 'k', group: 'read', endpoints, ...window });
      expect(s.domain.requests).toBe(served.domain);
      expect(s.legacy.requests).toBe(served.legacy);
      expect(s.domain.successes + s.legacy.successes).toBe(60);
      expect(s.domain.requests).toBeGreaterThan(10);
      expect(s.legacy.requests).toBeGreaterThan(10);
      // Cumulative buckets end at the request count.
      expect(s.domain.buckets[s.domain.buckets.length - 1]).toEqual([10, served.domain]);
      // rollout_routing_keys: 60 distinct users, the keyless cameras request, no probes.
      expect(s.domain.keys).toBe(served.domain + (cameras === 'domain' ? 1 : 0));
      expect(s.legacy.keys).toBe(served.legacy + (cameras === 'legacy' ? 1 : 0));
    } finally {
      await backend.dispose();
    }
  });
});
