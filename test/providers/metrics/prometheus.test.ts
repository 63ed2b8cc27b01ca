import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createMetricsProvider } from '../../../src/providers/metrics';
import { increaseQuery } from '../../../src/providers/metrics/prometheus';
import { freePort, rejectionOf, serve, startTestBackend, tempDir, waitFor, type Backend } from '../support';

const endpoints = [
  { method: 'GET', route: '/api/v1/system/info' },
  { method: 'GET', route: '/api/v1/alerts/rules' },
];

describe('increaseQuery', () => {
  test('one selector per endpoint, the plan selector in each, both route spellings for templates', () => {
    const q = increaseQuery(
      'http_requests_total',
      [...endpoints, { method: 'put', route: '/api/v1/cameras/{camera_id}' }],
      300,
      ['impl', 'status'],
      '{job="camera-api"}',
    );
    expect(q).toBe(
      'sum by (impl, status) (' +
        'increase(http_requests_total{job="camera-api",method="GET",route="/api/v1/system/info"}[300s])' +
        ' or increase(http_requests_total{job="camera-api",method="GET",route="/api/v1/alerts/rules"}[300s])' +
        ' or increase(http_requests_total{job="camera-api",method="PUT",route=~"/api/v1/cameras/\\\\{camera_id\\\\}|/api/v1/cameras/:camera_id"}[300s])' +
        ')',
    );
  });
});

/** The Debian `prometheus` binary scraping the example backend every second. */
describe('prometheus provider against a real Prometheus', () => {
  let backend: Backend;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  const dir = tempDir('prometheus-provider');
  let log = '';

  beforeAll(async () => {
    const which = spawnSync('sh', ['-c', 'command -v prometheus']);
    if (which.status !== 0) {
      throw new Error(
        'the prometheus binary is missing: run `apt-get install prometheus` (Debian package) and run the tests again',
      );
    }
    backend = await startTestBackend({ USE_DOMAIN_SERVICE: 'true' });
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = new URL(backend.url).host;
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: camera-api\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (d) => (log += d));
    prometheus.stderr!.on('data', (d) => (log = (log + d).slice(-20_000)));
    await waitFor(
      'prometheus to be ready',
      async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined),
      30_000,
    ).catch((err) => {
      throw new Error(`${err.message}\n${log.slice(-3000)}`);
    });
  }, 60_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await backend?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** Total `http_requests_total` Prometheus has scraped so far. */
  const scrapedTotal = async () => {
    const res = await fetch(
      `${promUrl}/api/v1/query?query=${encodeURIComponent('sum(http_requests_total{job="camera-api"})')}`,
    );
    const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    return Number(body.data.result[0]?.value[1] ?? 0);
  };
  const send = async (impl: 'domain' | 'legacy', fail: boolean, n: number) => {
    await backend.admin('PUT', '/admin/rollout', {
      groups: { read: { percent: impl === 'domain' ? 100 : 0 } },
    });
    await backend.admin('PUT', '/admin/faults', { domain: { errorRate: fail ? 1 : 0 } });
    for (let i = 0; i < n; i++) {
      const r = await backend.call('GET', i % 2 ? '/api/v1/system/info' : '/api/v1/alerts/rules');
      expect(r.status).toBe(fail ? 500 : 200);
    }
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('increase over [from, to] per implementation, close to what was sent', async () => {
    // Every series must exist before the window: increase() cannot see a series' first value.
    await send('domain', false, 2);
    await send('legacy', false, 2);
    await send('domain', true, 2);
    await waitFor('the warm-up requests to be scraped', async () =>
      (await scrapedTotal()) === 6 ? true : undefined,
    );
    await sleep(1500);

    const from = new Date();
    await sleep(1500);
    await send('domain', false, 30);
    await send('legacy', false, 20);
    await send('domain', true, 10);
    await waitFor('the requests to be scraped', async () =>
      (await scrapedTotal()) === 66 ? true : undefined,
    );
    await sleep(Math.max(1500, from.getTime() + 10_000 - Date.now()));
    const to = new Date();

    const provider = createMetricsProvider({
      type: 'prometheus',
      url: promUrl,
      selector: 'job="camera-api"',
      timeout: '5s',
    });
    const s = await provider.sample({ key: 'any', endpoints, from, to });
    expect(s.warmup).toBeUndefined();
    expect(s.from).toBe(from.toISOString());
    expect(s.to).toBe(to.toISOString());
    // increase() extrapolates to the window's edges: never below what was sent, somewhat above.
    const near = (value: number, sent: number) => {
      expect(value).toBeGreaterThanOrEqual(sent);
      expect(value).toBeLessThanOrEqual(Math.ceil(sent * 1.35));
    };
    near(s.domain.requests, 40);
    near(s.domain.errors, 10);
    near(s.domain.successes, 30);
    near(s.legacy.requests, 20);
    expect(s.legacy.errors).toBe(0);
    expect(s.domain.errors / s.domain.requests).toBeCloseTo(0.25, 1);
    // Cumulative buckets, ascending, ending at (about) the request count.
    const last = s.domain.buckets[s.domain.buckets.length - 1];
    expect(last[0]).toBe(10);
    near(last[1], 40);
    for (let i = 1; i < s.domain.buckets.length; i++)
      expect(s.domain.buckets[i][1]).toBeGreaterThanOrEqual(s.domain.buckets[i - 1][1]);

    // A window before any traffic: zeros, not an error (the selector does match a target).
    const early = await provider.sample({
      key: 'any',
      endpoints,
      from: new Date(from.getTime() - 60_000),
      to: new Date(from.getTime() - 30_000),
    });
    expect(early.domain.requests + early.legacy.requests).toBe(0);
  }, 90_000);

  test('a selector matching no scrape target is an error that says so', async () => {
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: promUrl,
      selector: 'job="no-such-job"',
      timeout: '5s',
    });
    const err = await rejectionOf(
      provider.sample({ key: 'k', endpoints, from: new Date(Date.now() - 10_000), to: new Date() }),
    );
    expect(err.message).toMatch(/scrapes no target matching \{job="no-such-job"\}/);
  });

  test('a selector Prometheus cannot parse is a permanent error with its message', async () => {
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: promUrl,
      selector: 'job=camera-api',
      timeout: '5s',
    });
    const err = await rejectionOf(
      provider.sample({ key: 'k', endpoints, from: new Date(Date.now() - 10_000), to: new Date() }),
    );
    expect(err.message).toMatch(/bad_data: .*parse error/);
    expect(err.nonRetryable).toBe(true);
  });
});

describe('prometheus provider: unreachable or garbage', () => {
  const window = { from: new Date(Date.now() - 60_000), to: new Date() };

  test('connection refused names the URL and is retryable', async () => {
    const port = await freePort();
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: `http://127.0.0.1:${port}`,
      selector: '',
      timeout: '2s',
    });
    const err = await rejectionOf(provider.sample({ key: 'k', endpoints, ...window }));
    expect(err.message).toMatch(new RegExp(`GET http://127.0.0.1:${port}/api/v1/query: .*ECONNREFUSED`));
    expect(err.nonRetryable).toBeUndefined();
  });

  test.each([
    ['an HTML page', 200, '<html><body>proxy login</body></html>', /HTTP 200, not JSON: "<html>/],
    ['JSON of another API', 200, '{"items":[]}', /unexpected answer: status: .*; got/],
    [
      'a matrix instead of a vector',
      200,
      '{"status":"success","data":{"resultType":"matrix","result":[]}}',
      /data.resultType: /,
    ],
    [
      'a 503 with an error body',
      503,
      '{"status":"error","errorType":"unavailable","error":"overloaded"}',
      /unavailable: overloaded/,
    ],
  ])('%s gives a clear error', async (_name, status, body, pattern) => {
    const fake = await serve((_req, res) => {
      res.writeHead(status, { 'Content-Type': body.startsWith('<') ? 'text/html' : 'application/json' });
      res.end(body);
    });
    try {
      const provider = createMetricsProvider({
        type: 'prometheus',
        url: fake.url,
        selector: '',
        timeout: '2s',
      });
      const err = await rejectionOf(provider.sample({ key: 'k', endpoints, ...window }));
      expect(err.message).toMatch(pattern);
      expect(err.message).toContain(`Prometheus ${fake.url}/api/v1/query`);
    } finally {
      await fake.close();
    }
  });
});
