import { inBatches, randomKey, startTestBackend, type TestBackend } from './helpers';

type Series = Map<string, number>;

/** `name{a="1",b="2"} 3` → key `name{a="1",b="2"}` with labels sorted, so tests need not know the order. */
function parseExposition(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '').match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
    series.set(`${match[1]}{${labels.sort().join(',')}}`, Number(match[3]));
  }
  return series;
}

function key(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return `${name}{${parts.sort().join(',')}}`;
}

describe('example backend metrics', () => {
  let backend: TestBackend;

  beforeEach(async () => {
    backend = await startTestBackend({ env: { ROLLOUT_PERCENT: '50' } });
  });
  afterEach(async () => {
    await backend.dispose();
  });

  const scrape = async () => {
    const reply = await backend.request('GET', '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    return { text: reply.text, series: parseExposition(reply.text) };
  };

  it('counts routed requests by route template, method, implementation and status', async () => {
    const replies = await inBatches(200, 40, (i) =>
      backend.request(i % 2 ? 'GET' : 'PUT', i % 2 ? '/api/v1/cameras' : `/api/v1/cameras/missing-${i}`, {
        body: i % 2 ? undefined : { name: 'x' },
        headers: { 'X-Rollout-Key': randomKey() },
      }),
    );
    const expected = new Map<string, number>();
    for (const r of replies) {
      const route = r.method === 'GET' ? '/api/v1/cameras' : '/api/v1/cameras/{camera_id}';
      const k = key('http_requests_total', {
        route,
        method: r.method,
        impl: r.servedBy!,
        status: String(r.status),
      });
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    // Both implementations served some of each at 50%.
    expect(expected.size).toBe(4);

    const { series, text } = await scrape();
    for (const [k, n] of expected) expect([k, series.get(k)]).toEqual([k, n]);
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    for (const [k, n] of expected) {
      const labels = Object.fromEntries(labelPairs(k));
      expect(series.get(key('http_request_duration_seconds_count', labels))).toBe(n);
      expect(series.get(key('http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }))).toBe(n);
    }
    for (const le of ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10']) {
      expect(text).toContain(
        `http_request_duration_seconds_bucket{le="${le}",route="/api/v1/cameras",method="GET"`,
      );
    }
    expect(text).not.toMatch(/route="\/api\/v1\/cameras\/missing/);
  });

  it('keeps forced (probe) requests out of http_requests_total and counts them apart', async () => {
    await inBatches(30, 10, (i) =>
      backend.request('GET', '/api/v1/system/info', {
        headers: { 'X-Rollout-Force': i % 3 ? 'domain' : 'legacy' },
      }),
    );
    const { series, text } = await scrape();
    expect(text).not.toMatch(/http_requests_total\{[^}]*route="\/api\/v1\/system\/info"/);
    expect(text).not.toMatch(/http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/system\/info"/);
    const probe = (impl: string) =>
      series.get(
        key('rollout_probe_requests_total', {
          route: '/api/v1/system/info',
          method: 'GET',
          impl,
          status: '200',
        }),
      );
    expect(probe('domain')).toBe(20);
    expect(probe('legacy')).toBe(10);
  });

  it('exposes the rollout switches as gauges and follows live changes', async () => {
    let { series } = await scrape();
    expect(series.get('rollout_percent{group="read"}')).toBe(50);
    expect(series.get('rollout_percent{group="write"}')).toBe(50);
    expect(series.get('rollout_use_domain_service{}')).toBe(1);

    await backend.admin('PUT', '/admin/rollout', {
      useDomainService: false,
      groups: { write: { percent: 5 } },
    });
    ({ series } = await scrape());
    expect(series.get('rollout_percent{group="read"}')).toBe(50);
    expect(series.get('rollout_percent{group="write"}')).toBe(5);
    expect(series.get('rollout_use_domain_service{}')).toBe(0);
  });

  it('records injected errors and latency in the routed series', async () => {
    await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 100 } } });
    await backend.admin('PUT', '/admin/faults', { domain: { errorRate: 1, latencyMs: 120 } });
    await inBatches(6, 6, () => backend.request('GET', '/api/v1/alerts/rules'));
    const { series } = await scrape();
    const labels = { route: '/api/v1/alerts/rules', method: 'GET', impl: 'domain', status: '500' };
    expect(series.get(key('http_requests_total', labels))).toBe(6);
    expect(series.get(key('http_request_duration_seconds_bucket', { ...labels, le: '0.1' }))).toBe(0);
    expect(series.get(key('http_request_duration_seconds_bucket', { ...labels, le: '0.25' }))).toBe(6);
  });
});

function labelPairs(braced: string): Array<[string, string]> {
  return [...braced.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]);
}
