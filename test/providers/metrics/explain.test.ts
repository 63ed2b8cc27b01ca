import fs from 'node:fs';
import path from 'node:path';
import { diagnoseKeys, diagnoseLatency, diagnoseRequests, likelyFirst, statusesServed, type RequestsSeen } from '../../../src/providers/metrics/explain';
import { explainScrape, scrapeSelector } from '../../../src/providers/metrics/exposition-explain';
import { conventionFor } from '../../../src/providers/metrics/conventions';
import { parseExposition } from '../../../src/providers/metrics/text-format';

const seen = (over: Partial<RequestsSeen>): RequestsSeen => ({
  metric: 'http_requests_total{job="x"}',
  source: 'Prometheus',
  series: 4,
  impl: { label: 'impl', domain: 'domain', legacy: 'legacy' },
  status: { label: 'status', values: ['200', '500'] },
  counts: { legacy: 1204, domain: 131 },
  ...over,
});

describe('diagnoseRequests', () => {
  it.each([
    ['counts', seen({}), 'ok', 'ok: 1,204 legacy / 131 domain requests'],
    ['no target', seen({ noTarget: 'u: Prometheus scrapes no target matching {job="x"}' }), 'blind', 'u: Prometheus scrapes no target matching {job="x"}'],
    [
      'another name',
      seen({ series: 0, namesSeen: ['http_server_request_duration_seconds_count', 'go_gc_total'] }),
      'blind',
      'no series named http_requests_total{job="x"} in Prometheus; names seen: http_server_request_duration_seconds_count, go_gc_total',
    ],
    [
      'the counter, but none of the group',
      seen({ series: 0, implValuesSeen: ['v1', 'v2'] }),
      'blind',
      'http_requests_total{job="x"} has no series of this group (impl="legacy" / "domain" on its endpoints); impl values seen: v1, v2',
    ],
    ['short checks', seen({ shortRange: 'the check interval (1s) is shorter than two scrapes' }), 'blind', 'the check interval (1s) is shorter than two scrapes'],
    [
      'classes in the status label',
      seen({ status: { label: 'code', values: ['2xx', '5xx'] } }),
      'ok',
      'ok: 1,204 legacy / 131 domain requests; status label "code" holds classes (2xx, 5xx)',
    ],
    [
      'a status that is neither',
      seen({ status: { label: 'status', values: ['200', 'OK'] } }),
      'blind',
      'status label "status" holds neither codes nor classes (OK): those requests are neither successes nor errors; map target.metrics.names.status',
    ],
    ['no traffic', seen({ counts: { legacy: 0, domain: 0 } }), 'quiet', '4 series, but no requests in the window: send traffic, or widen --window'],
    [
      'declared, nothing served yet',
      seen({ series: 0, declaredOnly: true }),
      'quiet',
      'http_requests_total{job="x"} is declared (HELP/TYPE) but has no series yet: nothing served since the service started; send traffic and run again',
    ],
    ['no sample', seen({ counts: undefined }), 'ok', 'ok: 4 series'],
  ] as const)('%s', (_name, input, status, diagnosis) => {
    expect(diagnoseRequests(input)).toEqual({ status, diagnosis });
  });
});

describe('diagnoseLatency', () => {
  const base = { metric: 'h_bucket{job="x"}', source: 'Prometheus', series: 12, counts: { legacy: 10, domain: 2 }, p95: true };
  it.each([
    ['observations', base, 'ok', 'ok: 10 legacy / 2 domain observations'],
    [
      'no histogram',
      { ...base, metric: null },
      'blind',
      'no latency histogram (no _bucket series): p95 cannot be judged; turn it off with checks: {p95: off} or export a histogram',
    ],
    ['no histogram, p95 off', { ...base, metric: null, p95: false }, 'off', 'no latency histogram (no _bucket series); p95 is off in this phase'],
    [
      'another name',
      { ...base, series: 0, namesSeen: ['a_bucket'] },
      'blind',
      'no series named h_bucket{job="x"} in Prometheus (names seen: a_bucket): p95 cannot be judged; turn it off with checks: {p95: off} or export a histogram',
    ],
    ['none of the group', { ...base, series: 0 }, 'blind', 'h_bucket{job="x"} has no series of this group: p95 cannot be judged; turn it off with checks: {p95: off} or export a histogram'],
    ['quiet', { ...base, counts: { legacy: 0, domain: 0 } }, 'quiet', '12 series, but no observations in the window'],
    [
      'declared, nothing served yet',
      { ...base, series: 0, declaredOnly: true },
      'quiet',
      'h_bucket{job="x"} is declared (HELP/TYPE) but has no series yet: nothing served since the service started; send traffic and run again',
    ],
    ['read, p95 off', { ...base, p95: false }, 'off', '12 series; p95 is off in this phase'],
  ] as const)('%s', (_name, input, status, diagnosis) => {
    expect(diagnoseLatency(input)).toEqual({ status, diagnosis });
  });
});

test('diagnoseKeys: optional', () => {
  expect(diagnoseKeys(undefined).status).toBe('off');
  expect(diagnoseKeys({ legacy: 3, domain: 1 })).toEqual({ status: 'ok', diagnosis: 'ok: 3 legacy / 1 domain routing keys' });
});

test('likelyFirst: request-like names first, each once', () => {
  expect(likelyFirst(['go_gc_total', 'http_x_total', 'a_requests_total', 'go_gc_total', ''])).toEqual(['a_requests_total', 'http_x_total', 'go_gc_total']);
});

describe('explainScrape', () => {
  const endpoints = [{ method: 'GET', route: '/a/{id}' }];
  const config = { type: 'exposition' as const, url: 'http://svc/metrics', timeout: '5s' };
  const q = { key: 'k', group: 'read', endpoints, from: new Date(0), to: new Date(1000), checkIntervalMs: 10_000, p95: true };
  const text = [
    'http_requests_total{method="GET",route="/a/:id",status="200",impl="legacy"} 10',
    'http_requests_total{method="GET",route="/a/:id",status="200",impl="domain"} 3',
    'http_requests_total{method="GET",route="/b",status="200",impl="domain"} 7',
    'rollout_routing_keys{group="read",impl="domain"} 2',
    '',
  ].join('\n');

  it('reads the counter of the group from the URL, counts from the sample, no histogram exported', () => {
    const sample = {
      from: '',
      to: '',
      legacy: { requests: 5, errors: 0, successes: 5, buckets: [] },
      domain: { requests: 1, errors: 0, successes: 1, buckets: [] },
    };
    const [requests, latency, keys] = explainScrape(parseExposition(text, 'x'), config, { ...q, sample }, null);
    expect(requests).toMatchObject({
      reads: ['http_requests_total{impl=~"domain|legacy"} on GET /a/{id} (labels method, route) from http://svc/metrics'],
      series: 2,
      counts: { legacy: 5, domain: 1 },
      status: 'ok',
      diagnosis: 'ok: 5 legacy / 1 domain requests',
    });
    expect(latency).toMatchObject({ status: 'blind', diagnosis: expect.stringMatching(/^no series named http_request_duration_seconds_bucket in GET http:\/\/svc\/metrics \(names seen: http_requests_total\)/) });
    expect(keys).toMatchObject({ status: 'ok', counts: { domain: 2, legacy: 0 } });
  });

  it('a preset the service does not follow: the names it does export', () => {
    const [requests] = explainScrape(parseExposition(text, 'x'), { ...config, preset: 'opentelemetry' }, q, 'GET http://svc/metrics: has no … metric');
    expect(requests.status).toBe('blind');
    expect(requests.diagnosis).toBe('no series named http_server_request_duration_seconds_count in GET http://svc/metrics; names seen: http_requests_total');
  });

  it('scrapeSelector: the group matchers, and no endpoints for a route-less convention', () => {
    const c = conventionFor({ preset: 'haproxy', impl: { domain: 'd1', legacy: 'l1' }, groups: { read: { match: { proxy: 'be' } } } }, 'read');
    expect(scrapeSelector(c.requests, c, q)).toBe('haproxy_server_http_responses_total{server=~"d1|l1",proxy="be"}');
  });
});

describe('status values: only those that carry requests say what the label holds', () => {
  const c = conventionFor({ preset: 'haproxy', impl: { domain: 'd', legacy: 'l' } }, 'read');
  type Series = { labels: Record<string, string>; count: number };
  const at = (code: string, count: number): Series => ({ labels: { server: 'd', code }, count });
  it.each<[string, Series[], string[]]>([
    ['HAProxy lists "other" at 0 always: not a value seen', [at('2xx', 14), at('5xx', 2), at('other', 0)], ['2xx', '5xx']],
    ['"other" with a request is', [at('2xx', 14), at('other', 1)], ['2xx', 'other']],
    ['nothing served: no values', [at('2xx', 0), at('other', 0)], []],
    ['a series without the label', [{ labels: { server: 'd' }, count: 3 }], ['']],
  ])('%s', (_name, series, expected) => {
    expect(statusesServed(c, series)).toEqual(expected);
  });

  // The recorded scrape of a real HAProxy 2.6 (fixtures/conventions/haproxy.txt): every server has
  // code="other" at 0; only be_write's domain server answered one (a 600).
  const scrape = parseExposition(fs.readFileSync(path.join(__dirname, 'fixtures', 'conventions', 'haproxy.txt'), 'utf8'), 'haproxy');
  const config = {
    type: 'exposition' as const,
    url: 'http://haproxy/metrics',
    timeout: '5s',
    preset: 'haproxy' as const,
    impl: { domain: 'domain', legacy: 'legacy' },
    groups: { read: { match: { proxy: 'be_read' } }, write: { match: { proxy: 'be_write' } } },
  };
  const q = (group: string) => ({ key: 'k', group, endpoints: [{ method: 'GET', route: '/' }], from: new Date(0), to: new Date(1000), checkIntervalMs: 10_000, p95: false });
  it.each([
    ['read', 'ok', 'ok: 12 series; status label "code" holds classes (2xx, 4xx, 5xx)'],
    ['write', 'blind', 'status label "code" holds neither codes nor classes (other): those requests are neither successes nor errors; map target.metrics.names.status'],
  ])('a real HAProxy scrape, group %s: %s', (group, status, diagnosis) => {
    const [requests, latency] = explainScrape(scrape, config, q(group), null);
    expect({ status: requests.status, diagnosis: requests.diagnosis }).toEqual({ status, diagnosis });
    expect(latency.status).toBe('off');
  });
});
