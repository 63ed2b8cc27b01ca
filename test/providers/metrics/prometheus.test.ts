import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createMetricsProvider, MetricsGarbageError } from '../../../src/providers/metrics';
import { increaseQuery, routingKeysQuery } from '../../../src/providers/metrics/prometheus';
import {
  freePort,
  rejectionOf,
  serve,
  startTestBackend,
  tempDir,
  waitFor,
  type Backend,
  type Served,
} from '../support';

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

describe('routingKeysQuery', () => {
  test("the group's gauge, the largest replica's figure per implementation", () => {
    expect(routingKeysQuery('read', '{job="camera-api"}')).toBe(
      'max by (impl) (rollout_routing_keys{job="camera-api",group="read"})',
    );
    expect(routingKeysQuery('wr"ite')).toBe('max by (impl) (rollout_routing_keys{group="wr\\"ite"})');
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
      // Prometheus scrapes itself too: a target whose requests counter has another name.
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: camera-api\n    static_configs:\n      - targets: ['${target}']\n` +
        `  - job_name: itself\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
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
  /** Samples of `up` Prometheus holds for a job: its scrapes so far. */
  const scrapedOf = async (job: string) => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(`count_over_time(up{job="${job}"}[1m])`)}`);
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
    const s = await provider.sample({ key: 'any', group: 'read', endpoints, from, to });
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
    // rollout_routing_keys at `to`: the last switch to domain reset the group's keys, then 10
    // keyless requests (each a key of its own) went to domain.
    expect(s.domain.keys).toBe(10);
    expect(s.legacy.keys).toBe(0);

    // A window before any traffic: zeros, not an error (the selector does match a target).
    const early = await provider.sample({
      key: 'any',
      group: 'read',
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
      provider.sample({
        key: 'k',
        group: 'read',
        endpoints,
        from: new Date(Date.now() - 10_000),
        to: new Date(),
      }),
    );
    expect(err.message).toMatch(/scrapes no target matching \{job="no-such-job"\}/);
  });

  test('a target without the requests counter: an error naming the counter and those it has', async () => {
    const provider = createMetricsProvider({ type: 'prometheus', url: promUrl, selector: 'job="itself"', timeout: '5s' });
    await waitFor('Prometheus to scrape itself', async () => ((await scrapedOf('itself')) > 0 ? true : undefined));
    const err = await rejectionOf(
      provider.sample({ key: 'k', group: 'read', endpoints, from: new Date(Date.now() - 10_000), to: new Date() }),
    );
    expect(err.message).toMatch(
      /no series named http_requests_total\{job="itself"\} in Prometheus: the requests cannot be counted; counters seen: .*prometheus_http_requests_total/,
    );
  });

  test('checks shorter than two scrapes: an error naming the scrape interval and the check interval to set', async () => {
    const provider = createMetricsProvider({ type: 'prometheus', url: promUrl, selector: 'job="camera-api"', timeout: '5s' });
    // An hour ago, one second long: nothing was scraped in it, and nothing could be.
    const from = new Date(Date.now() - 3_600_000);
    const err = await rejectionOf(
      provider.sample({ key: 'k', group: 'read', endpoints, from, to: new Date(from.getTime() + 1000) }),
    );
    expect(err.message).toMatch(
      /the check interval \(1s\) is shorter than two scrapes of camera-api\/127\.0\.0\.1:\d+ \(scraped every 1s\): increase\(\) sees no requests in it; a check must span 2s or more: raise defaults\.checkInterval \(a rollout started with --time-scale N checks every checkInterval ÷ N\)/,
    );
  });

  test('a selector Prometheus cannot parse is a permanent error with its message', async () => {
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: promUrl,
      selector: 'job=camera-api',
      timeout: '5s',
    });
    const err = await rejectionOf(
      provider.sample({
        key: 'k',
        group: 'read',
        endpoints,
        from: new Date(Date.now() - 10_000),
        to: new Date(),
      }),
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
    const err = await rejectionOf(provider.sample({ key: 'k', group: 'read', endpoints, ...window }));
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
      const err = await rejectionOf(provider.sample({ key: 'k', group: 'read', endpoints, ...window }));
      expect(err.message).toMatch(pattern);
      expect(err.message).toContain(`Prometheus ${fake.url}/api/v1/query`);
    } finally {
      await fake.close();
    }
  });
});

/**
 * A fake Prometheus answering each of the provider's three queries with rows shaped like the real
 * server's (`sum by (impl, status)` of the request increases, `sum by (impl, le)` of the bucket
 * increases, `max by (impl)` of the routing-keys gauge); one row altered per case.
 */
describe('prometheus provider: garbage in a query answer is a metrics-source error', () => {
  type Rows = Array<[Record<string, string>, string]>;
  const t = 1_700_000_000;
  const requests: Rows = [
    [{ impl: 'domain', status: '200' }, '38.00000000000001'],
    [{ impl: 'domain', status: '500' }, '2.0000000000000004'],
    [{ impl: 'legacy', status: '200' }, '360'],
  ];
  const buckets: Rows = [
    ...(['0.005', '0.01', '0.025', '0.05', '0.1', '+Inf'] as const).map(
      (le, i): [Record<string, string>, string] => [
        { impl: 'domain', le },
        String([0, 4, 19, 37, 40, 40][i]),
      ],
    ),
    ...(['0.005', '0.01', '0.025', '0.05', '0.1', '+Inf'] as const).map(
      (le, i): [Record<string, string>, string] => [
        { impl: 'legacy', le },
        String([12, 150, 340, 358, 360, 360][i]),
      ],
    ),
  ];
  const keys: Rows = [
    [{ impl: 'domain' }, '17'],
    [{ impl: 'legacy' }, '183'],
  ];
  let answer = { requests, buckets, keys };
  const seen: string[] = [];
  let fake: Served;
  const vector = (rows: Rows) =>
    JSON.stringify({
      status: 'success',
      data: { resultType: 'vector', result: rows.map(([metric, v]) => ({ metric, value: [t, v] })) },
    });

  beforeAll(async () => {
    fake = await serve((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams.get('query') ?? '';
      seen.push(q);
      const rows = q.startsWith('sum by (impl, status)')
        ? answer.requests
        : q.startsWith('sum by (impl, le)')
          ? answer.buckets
          : q.startsWith('max by (impl) (rollout_routing_keys')
            ? answer.keys
            : [[{}, '1']];
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(vector(rows as Rows));
    });
  });
  afterAll(() => fake.close());
  const sample = () =>
    createMetricsProvider({
      type: 'prometheus',
      url: fake.url,
      selector: 'job="camera-api"',
      timeout: '2s',
    }).sample({
      key: 'k',
      group: 'read',
      endpoints,
      from: new Date(t * 1000 - 60_000),
      to: new Date(t * 1000),
    });

  test('a good answer: counts rounded, buckets without +Inf, keys from the gauge of the group', async () => {
    answer = { requests, buckets, keys };
    seen.length = 0;
    const s = await sample();
    expect(s.domain).toEqual({
      requests: 40,
      errors: 2,
      successes: 38,
      buckets: [
        [0.005, 0],
        [0.01, 4],
        [0.025, 19],
        [0.05, 37],
        [0.1, 40],
      ],
      keys: 17,
    });
    expect(s.legacy).toMatchObject({ requests: 360, keys: 183 });
    expect(seen).toContain('max by (impl) (rollout_routing_keys{job="camera-api",group="read"})');
  });

  test('no keys when Prometheus has no routing-keys gauge', async () => {
    answer = { requests, buckets, keys: [] };
    const s = await sample();
    expect(s.domain.requests).toBe(40);
    expect(s.domain.keys).toBeUndefined();
    expect(s.legacy.keys).toBeUndefined();
  });

  const alter = (rows: Rows, i: number, v: string): Rows => rows.map(([m, old], j) => [m, j === i ? v : old]);
  test.each<[string, Partial<typeof answer>, string, RegExp]>([
    [
      'a NaN request count',
      { requests: alter(requests, 1, 'NaN') },
      'MetricsNotANumber',
      /result\[1\]: \{impl="domain",status="500"\} is NaN: not a number \(query: sum by \(impl, status\)/,
    ],
    [
      'a +Inf request count',
      { requests: alter(requests, 0, '+Inf') },
      'MetricsInfinite',
      /result\[0\]: \{impl="domain",status="200"\} is \+Inf: a count cannot be infinite/,
    ],
    [
      'a -Inf bucket',
      { buckets: alter(buckets, 3, '-Inf') },
      'MetricsInfinite',
      /result\[3\]: \{impl="domain",le="0.05"\} is -Inf.*\(query: sum by \(impl, le\)/,
    ],
    [
      'a negative request count',
      { requests: alter(requests, 2, '-360') },
      'MetricsNegative',
      /result\[2\]: \{impl="legacy",status="200"\} is -360: a count cannot be negative/,
    ],
    [
      'a series listed twice',
      { requests: [...requests, requests[1]] },
      'MetricsDuplicateSeries',
      /result\[3\]: \{impl="domain",status="500"\} is listed twice \(first at result\[1\]\)/,
    ],
    [
      'buckets that are not cumulative',
      { buckets: alter(buckets, 4, '30') },
      'MetricsNotCumulative',
      /result\[4\]: http_request_duration_seconds_bucket\{impl="domain"\} bucket le="0.1" grew by 30, less than le="0.05" \(result\[3\]\) with 37/,
    ],
    [
      'a +Inf bucket below the last finite one',
      { buckets: alter(buckets, 11, '300') },
      'MetricsNotCumulative',
      /result\[11\]: .*\{impl="legacy"\} bucket le="\+Inf" grew by 300, less than le="0.1"/,
    ],
    [
      'a NaN routing-keys gauge',
      { keys: alter(keys, 0, 'NaN') },
      'MetricsNotANumber',
      /result\[0\]: \{impl="domain"\} is NaN.*rollout_routing_keys\{job="camera-api",group="read"\}/,
    ],
    [
      'a negative routing-keys gauge',
      { keys: alter(keys, 1, '-1') },
      'MetricsNegative',
      /result\[1\]: \{impl="legacy"\} is -1: a count cannot be negative/,
    ],
  ])('%s names the row, the series and the query', async (_name, change, type, pattern) => {
    answer = { requests, buckets, keys, ...change };
    const err = await rejectionOf(sample());
    expect(err).toBeInstanceOf(MetricsGarbageError);
    expect(err.type).toBe(type);
    expect(err.message).toContain(`Prometheus ${fake.url}/api/v1/query`);
    expect(err.message).toMatch(pattern);
  });
});
