import fs from 'node:fs';
import path from 'node:path';
import type { ImplStats } from '../../../src/judge/samples';
import { p95Ms } from '../../../src/judge/verdicts';
import type { MetricsMappingConfig } from '../../../src/plan/metrics-conventions';
import { createMetricsProvider, parseExposition } from '../../../src/providers/metrics';
import { conventionFor, statusOf } from '../../../src/providers/metrics/conventions';
import { difference, readingOf } from '../../../src/providers/metrics/exposition-reading';
import { conventionQueries, increaseQuery } from '../../../src/providers/metrics/prometheus';
import { fillQuery } from '../../../src/providers/metrics/query-templates';
import { serve, type Served } from '../support';

/**
 * Metrics as services export them (issue 23, part 2): each preset read over a scrape of its
 * convention (fixtures/conventions/<preset>.txt): HAProxy's and Micrometer's recorded from the
 * real exporters (each file's header says how), the others hand-written from their docs. Every
 * fixture holds the same traffic:
 * domain 14 × 2xx and 2 × 5xx on the read group's endpoints, legacy 22 × 2xx and 3 × 4xx, and
 * traffic that is not the group's (other routes, another backend, POSTs) that must not count.
 */

const fixture = (name: string) =>
  fs.readFileSync(path.join(__dirname, 'fixtures', 'conventions', `${name}.txt`), 'utf8');
const read = [
  { method: 'GET', route: '/api/v1/system/info' },
  { method: 'GET', route: '/api/v1/alerts/rules' },
];
const write = [
  { method: 'POST', route: '/api/v1/cameras' },
  { method: 'PUT', route: '/api/v1/cameras/{camera_id}' },
];

/** Totals of a scrape for a group, as the provider's difference to an empty earlier reading. */
function totals(text: string, config: MetricsMappingConfig, group: string, endpoints = read) {
  const where = 'fixture';
  const reading = readingOf(parseExposition(text, where), { group, endpoints, convention: conventionFor(config, group) }, new Date(), where);
  const diff = difference({ at: new Date(0).toISOString(), values: {} }, reading, where);
  if (!diff) throw new Error('no difference');
  return diff;
}

interface Expected {
  requests: number;
  errors: number;
  successes: number;
  unknownStatus?: number;
  /** Cumulative counts at some bounds (seconds); `none`: no histogram. */
  buckets: Record<number, number> | 'none';
}
const at = (s: ImplStats, le: number) => s.buckets.find(([b]) => Math.abs(b - le) < 1e-12)?.[1];
function expectStats(s: ImplStats, e: Expected) {
  expect({ requests: s.requests, errors: s.errors, successes: s.successes, unknownStatus: s.unknownStatus }).toEqual({
    requests: e.requests,
    errors: e.errors,
    successes: e.successes,
    unknownStatus: e.unknownStatus,
  });
  if (e.buckets === 'none') expect(s.buckets).toEqual([]);
  else for (const [le, n] of Object.entries(e.buckets)) expect([le, at(s, Number(le))]).toEqual([le, n]);
}

const routedDomain: Expected = { requests: 16, errors: 2, successes: 14, buckets: { 0.01: 0, 0.05: 14, 0.5: 16 } };
const routedLegacy: Expected = { requests: 25, errors: 0, successes: 22, buckets: { 0.005: 0, 0.01: 25 } };

test.each<[string, string, MetricsMappingConfig, Expected, Expected]>([
  ['default (prom-client)', 'default', {}, routedDomain, routedLegacy],
  ['OpenTelemetry: the histogram _count is the request counter', 'opentelemetry', { preset: 'opentelemetry' }, routedDomain, routedLegacy],
  [
    'Micrometer (recorded): uri, status codes, its own bucket bounds; a 404 is no error, an unmapped one (uri NOT_FOUND) not the group’s',
    'micrometer',
    { preset: 'micrometer' },
    // Domain: 14 at 30 ms, 2 × 500 at 300 ms; legacy: 25 at 8 ms (Micrometer's bounds, RecordScrape.java).
    { ...routedDomain, buckets: { 0.027962026: 0, 0.033554431: 14, 0.268435456: 14, 0.357913941: 16, 30: 16 } },
    { ...routedLegacy, buckets: { 0.006990506: 0, 0.008388607: 25, 30: 25 } },
  ],
  [
    'HAProxy (recorded): a backend per group, class codes, no histogram',
    'haproxy',
    { preset: 'haproxy', impl: { domain: 'domain', legacy: 'legacy' }, groups: { read: { match: { proxy: 'be_read' } } } },
    { requests: 16, errors: 2, successes: 14, buckets: 'none' },
    { requests: 25, errors: 0, successes: 22, buckets: 'none' },
  ],
  [
    'Envoy: a cluster per implementation, classes as bare digits, buckets in milliseconds',
    'envoy',
    { preset: 'envoy', groups: { read: { impl: { domain: 'read_domain', legacy: 'read_legacy' } } } },
    { ...routedDomain, buckets: { 0.005: 0, 0.01: 0, 0.025: 0, 0.05: 14, 0.25: 14, 0.5: 16, 3600: 16 } },
    { ...routedLegacy, buckets: { 0.005: 0, 0.01: 25 } },
  ],
  [
    'Traefik: a service per implementation, only the group’s methods',
    'traefik',
    { preset: 'traefik', impl: { domain: 'domain@file', legacy: 'legacy@file' } },
    { ...routedDomain, buckets: { 0.1: 14, 0.3: 16, 5: 16 } },
    { ...routedLegacy, buckets: { 0.1: 25 } },
  ],
])('%s', (_name, file, config, domain, legacy) => {
  const stats = totals(fixture(file), config, 'read');
  expectStats(stats.domain, domain);
  expectStats(stats.legacy, legacy);
});

test("HAProxy's other backend is the other group's; its class \"other\" (a 600) counted apart", () => {
  const config: MetricsMappingConfig = {
    preset: 'haproxy',
    impl: { domain: 'domain', legacy: 'legacy' },
    groups: { read: { match: { proxy: 'be_read' } }, write: { match: { proxy: 'be_write' } } },
  };
  const stats = totals(fixture('haproxy'), config, 'write', write);
  expectStats(stats.domain, { requests: 51, errors: 9, successes: 40, unknownStatus: 1, buckets: 'none' });
  expectStats(stats.legacy, { requests: 50, errors: 0, successes: 50, buckets: 'none' });
});

test('a route-aware preset reads templated routes of the other group, not the read ones', () => {
  const stats = totals(fixture('micrometer'), { preset: 'micrometer' }, 'write', write);
  expectStats(stats.domain, { requests: 4, errors: 0, successes: 4, buckets: { 0.002796201: 0, 0.003145726: 4 } });
  expectStats(stats.legacy, { requests: 0, errors: 0, successes: 0, buckets: {} });
});

test.each<[string, 'code' | 'class', string | undefined, string | undefined]>([
  ['a code', 'code', '503', '503'],
  ['a class', 'class', '5xx', '5xx'],
  ["Envoy's bare digit", 'class', '5', '5xx'],
  ['a bare digit read as a code stays unknown', 'code', '5', '5'],
  ['no label', 'class', undefined, undefined],
])('status: %s', (_name, statusKind, value, expected) => {
  const c = { ...conventionFor({}, 'read'), statusKind };
  expect(statusOf(c, value === undefined ? {} : { status: value })).toBe(expected);
});

describe('Micrometer as it writes the timer (fixtures/conventions/micrometer.txt, recorded from 1.17.2)', () => {
  const families = parseExposition(fixture('micrometer'), 'fixture');
  const series = (suffix: string) => families.get(`http_server_requests_seconds${suffix}`) ?? [];

  test('a histogram with _count and _sum (no _total), and a _max gauge beside it', () => {
    expect([...families.keys()].sort()).toEqual(['_bucket', '_count', '_max', '_sum'].map((x) => `http_server_requests_seconds${x}`));
  });

  test('le as Micrometer writes its percentile-histogram bounds: from 0.001 to 30.0 (a timer’s maximum expected), then +Inf', () => {
    const les = [...new Set(series('_bucket').map((s) => s.labels.le))];
    expect(les.slice(0, 4)).toEqual(['0.001', '0.001048576', '0.001398101', '0.001747626']);
    expect(les.slice(-3)).toEqual(['28.633115306', '30.0', '+Inf']);
    // Every series has every bound: a timer's buckets do not depend on what it recorded.
    const perSeries = series('_bucket').length / series('_count').length;
    expect([perSeries, les.length]).toEqual([les.length, 69]);
  });

  test.each<[string, string, string]>([
    ['200', 'SUCCESS', 'none'],
    ['404', 'CLIENT_ERROR', 'none'],
    ['500', 'SERVER_ERROR', 'none'],
    ['500', 'SERVER_ERROR', 'IllegalStateException'],
  ])('Spring Boot’s tags: status %s with outcome %s, exception %s', (status, outcome, exception) => {
    const found = series('_count').filter((s) => s.labels.status === status && s.labels.exception === exception);
    expect(found.length).toBeGreaterThan(0);
    for (const s of found) {
      expect(Object.keys(s.labels).sort()).toEqual(['application', 'error', 'exception', 'impl', 'method', 'outcome', 'status', 'uri']);
      expect([s.labels.outcome, s.labels.error]).toEqual([outcome, exception]);
    }
  });

  test('P95 from Micrometer’s buckets: 2 of 16 domain requests at 300 ms put it in (268 ms, 358 ms]; legacy all at 8 ms', () => {
    const stats = totals(fixture('micrometer'), { preset: 'micrometer' }, 'read');
    // Interpolated in the bucket as histogram_quantile does: rank 15.2 of 16, 1.2 of the bucket's 2.
    expect(p95Ms(stats.domain)).toBeCloseTo(268.435456 + (357.913941 - 268.435456) * 0.6, 6);
    expect(p95Ms(stats.legacy)).toBeCloseTo(6.990506 + (8.388607 - 6.990506) * (23.75 / 25), 6);
  });
});

describe('the queries the prometheus provider runs for a preset', () => {
  test('no preset: exactly the queries it ran before', () => {
    const c = conventionFor({}, 'read');
    expect(conventionQueries(c, read, 60, 'read', 'job="api"').requests).toBe(
      increaseQuery('http_requests_total', read, 60, ['impl', 'status'], 'job="api"'),
    );
  });
  test.each<[string, MetricsMappingConfig, { requests: string; buckets: string | null }]>([
    [
      'opentelemetry',
      { preset: 'opentelemetry' },
      {
        requests:
          'sum by (impl, http_response_status_code) (' +
          'increase(http_server_request_duration_seconds_count{job="api",http_request_method="GET",http_route="/api/v1/system/info"}[60s])' +
          ' or increase(http_server_request_duration_seconds_count{job="api",http_request_method="GET",http_route="/api/v1/alerts/rules"}[60s]))',
        buckets:
          'sum by (impl, le) (' +
          'increase(http_server_request_duration_seconds_bucket{job="api",http_request_method="GET",http_route="/api/v1/system/info"}[60s])' +
          ' or increase(http_server_request_duration_seconds_bucket{job="api",http_request_method="GET",http_route="/api/v1/alerts/rules"}[60s]))',
      },
    ],
    [
      'haproxy: one selector for the group, its backend, no buckets',
      { preset: 'haproxy', impl: { domain: 'd', legacy: 'l' }, groups: { read: { match: { proxy: 'be_read' } } } },
      {
        requests: 'sum by (server, code) (increase(haproxy_server_http_responses_total{job="api",proxy="be_read"}[60s]))',
        buckets: null,
      },
    ],
    [
      'traefik: the group’s methods',
      { preset: 'traefik', impl: { domain: 'd@file', legacy: 'l@file' } },
      {
        requests: 'sum by (service, code) (increase(traefik_service_requests_total{job="api",method="GET"}[60s]))',
        buckets: 'sum by (service, le) (increase(traefik_service_request_duration_seconds_bucket{job="api",method="GET"}[60s]))',
      },
    ],
  ])('%s', (_name, config, expected) => {
    const q = conventionQueries(conventionFor(config, 'read'), read, 60, 'read', 'job="api"');
    expect({ requests: q.requests, buckets: q.buckets }).toEqual(expected);
  });
});

test('a template filled for one implementation: values escaped for where they stand', () => {
  const filled = fillQuery(
    'sum(increase(http_requests_total{{impl_selector},route=~"{routes}",method=~"{methods}",svc="{impl}",g="{group}"}[{range}]))',
    {
      impl: { label: 'job', domain: 'api-"new"', legacy: 'api-old' },
      which: 'domain',
      match: { cluster: 'eu' },
      rangeSeconds: 30,
      endpoints: [...read, { method: 'put', route: '/api/v1/cameras/:camera_id' }],
      group: 'read',
    },
  );
  expect(filled).toBe(
    'sum(increase(http_requests_total{job="api-\\"new\\"",cluster="eu",' +
      'route=~"/api/v1/system/info|/api/v1/alerts/rules|/api/v1/cameras/\\\\{camera_id\\\\}|/api/v1/cameras/:camera_id",' +
      'method=~"GET|PUT",svc="api-\\"new\\"",g="read"}[30s]))',
  );
});

describe('providers over HTTP', () => {
  let server: Served;
  let body = '';
  let answers: (promql: string) => Array<{ metric: Record<string, string>; value: string }> = () => [];
  const asked: string[] = [];
  beforeAll(async () => {
    server = await serve((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
        res.end(body);
        return;
      }
      const q = url.searchParams.get('query') ?? '';
      asked.push(q);
      const result = answers(q).map((r) => ({ metric: r.metric, value: [1, r.value] }));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
  });
  afterAll(() => server.close());
  const window = { from: new Date(Date.now() - 60_000), to: new Date() };

  test('exposition, OpenTelemetry preset: a warm-up, then the increase per implementation', async () => {
    const after = fixture('opentelemetry');
    // The same series, every sample 0: a service just started.
    body = after.replace(/^([^#\s][^ ]*\}) [0-9.e+]+$/gm, '$1 0');
    const provider = createMetricsProvider({ type: 'exposition', url: `${server.url}/metrics`, timeout: '5s', preset: 'opentelemetry' });
    expect((await provider.sample({ key: 'k', group: 'read', endpoints: read, ...window })).warmup).toBe(true);
    body = after;
    const s = await provider.sample({ key: 'k', group: 'read', endpoints: read, ...window });
    expectStats(s.domain, routedDomain);
    expectStats(s.legacy, routedLegacy);
  });

  test('exposition: a scrape without the preset’s counter names it', async () => {
    body = fixture('default');
    const provider = createMetricsProvider({ type: 'exposition', url: `${server.url}/metrics`, timeout: '5s', preset: 'micrometer' });
    await expect(provider.sample({ key: 'k2', group: 'read', endpoints: read, ...window })).rejects.toThrow(
      /has no http_server_requests_seconds_count metric/,
    );
  });

  test('prometheus, HAProxy preset: class codes per server, no bucket query', async () => {
    asked.length = 0;
    answers = (q) =>
      q.startsWith('sum by (server, code)')
        ? [
            { metric: { server: 'domain', code: '2xx' }, value: '14' },
            { metric: { server: 'domain', code: '5xx' }, value: '2.2' },
            { metric: { server: 'legacy', code: '2xx' }, value: '22' },
            { metric: { server: 'legacy', code: '4xx' }, value: '3' },
            { metric: { server: 'backup', code: '2xx' }, value: '99' },
          ]
        : [];
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: server.url,
      selector: 'job="haproxy"',
      timeout: '5s',
      preset: 'haproxy',
      impl: { domain: 'domain', legacy: 'legacy' },
      groups: { read: { match: { proxy: 'be_read' } } },
    });
    const s = await provider.sample({ key: 'k', group: 'read', endpoints: read, ...window });
    expectStats(s.domain, { requests: 16, errors: 2, successes: 14, buckets: 'none' });
    expectStats(s.legacy, { requests: 25, errors: 0, successes: 22, buckets: 'none' });
    expect(asked.filter((q) => q.includes('_bucket'))).toEqual([]);
  });

  test('prometheus, the plan’s own queries: run per implementation, answers added up, buckets per le', async () => {
    asked.length = 0;
    const v = (value: string, metric: Record<string, string> = {}) => ({ metric, value });
    answers = (q) => {
      const d = q.includes('job="api-domain"');
      if (q.includes('_bucket'))
        return d
          ? [v('3', { le: '0.1', instance: 'a' }), v('2', { le: '0.1', instance: 'b' }), v('9', { le: '+Inf', instance: 'a' }), v('7', { le: '+Inf', instance: 'b' })]
          : [v('20', { le: '0.1' }), v('20', { le: '+Inf' })];
      if (q.includes('5..')) return d ? [v('1')] : [v('0')];
      if (q.includes('2..')) return d ? [v('14')] : [v('19')];
      if (q.includes('rollout_routing_keys')) return [];
      return d ? [v('10', { instance: 'a' }), v('6', { instance: 'b' })] : [v('20')];
    };
    const sel = (extra = '') => `{{impl_selector},route=~"{routes}"${extra}}`;
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: server.url,
      selector: '',
      timeout: '5s',
      impl: { label: 'job', domain: 'api-domain', legacy: 'api-legacy' },
      queries: {
        requests: `sum by (instance) (increase(http_requests_total${sel()}[{range}]))`,
        errors: `sum(increase(http_requests_total${sel(',status=~"5.."')}[{range}]))`,
        successes: `sum(increase(http_requests_total${sel(',status=~"2.."')}[{range}]))`,
        buckets: `sum by (le, instance) (increase(http_request_duration_seconds_bucket${sel()}[{range}]))`,
      },
    });
    const s = await provider.sample({ key: 'k', group: 'read', endpoints: read, ...window });
    expect(s.domain).toEqual({ requests: 16, errors: 1, successes: 14, buckets: [[0.1, 5]] });
    expect(s.legacy).toEqual({ requests: 20, errors: 0, successes: 19, buckets: [[0.1, 20]] });
    expect(asked).toContain(
      'sum by (instance) (increase(http_requests_total{job="api-domain",route=~"/api/v1/system/info|/api/v1/alerts/rules"}[60s]))',
    );
  });

  test('prometheus, the plan’s own queries finding nothing for either implementation: an error naming the query', async () => {
    answers = () => [];
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: server.url,
      selector: '',
      timeout: '5s',
      queries: { requests: 'sum(increase(nope_total{impl="{impl}"}[{range}]))', errors: 'sum(increase(nope_total{impl="{impl}",code="5"}[{range}]))' },
    });
    await expect(provider.sample({ key: 'k', group: 'read', endpoints: read, ...window })).rejects.toThrow(
      'target.metrics.queries.requests finds no series for either implementation (query: sum(increase(nope_total{impl="domain"}[60s])))',
    );
  });
});
