import fs from 'node:fs';
import path from 'node:path';
import { createMetricsProvider, MetricsGarbageError } from '../../../src/providers/metrics';
import type { MetricsProvider } from '../../../src/providers/metrics';
import { rejectionOf, serve, type Served } from '../support';

/**
 * Every case starts from a real `/metrics` body of the example backend (40 routed read requests,
 * 30% domain errors, the routing-keys gauge), alters one line, and serves it over HTTP to the
 * exposition provider: the sample must be refused as garbage naming the line and the series, and
 * the next good scrape must be diffed against the last good one, as if the garbage never came.
 */
const FIXTURE = fs.readFileSync(path.join(__dirname, 'fixtures/backend-scrape.txt'), 'utf8');
const lines = FIXTURE.split('\n');

const READ = {
  group: 'read',
  endpoints: [
    { method: 'GET', route: '/api/v1/system/info' },
    { method: 'GET', route: '/api/v1/alerts/history-db' },
    { method: 'GET', route: '/api/v1/alerts/rules' },
  ],
};
const window = { from: new Date(), to: new Date() };

const INFO_DOMAIN_200 = 'route="/api/v1/system/info",method="GET",impl="domain",status="200"';
const RULES_DOMAIN_500 = 'route="/api/v1/alerts/rules",method="GET",impl="domain",status="500"';
const REQUESTS = `http_requests_total{${INFO_DOMAIN_200}}`;
const HISTOGRAM = `http_request_duration_seconds{${INFO_DOMAIN_200}}`;
const bucket = (le: string, labels = INFO_DOMAIN_200) =>
  `http_request_duration_seconds_bucket{le="${le}",${labels}}`;
const KEYS_DOMAIN = 'rollout_routing_keys{group="read",impl="domain"}';

/** 1-based number of the line starting with `prefix` (followed by a blank). */
function lineOf(prefix: string): number {
  const i = lines.findIndex((l) => l.startsWith(`${prefix} `));
  if (i < 0) throw new Error(`fixture has no line ${prefix}`);
  return i + 1;
}

/** The fixture with the value of the line `prefix` replaced. */
function withValue(prefix: string, value: string): string {
  const n = lineOf(prefix);
  return lines.map((l, i) => (i === n - 1 ? `${prefix} ${value}` : l)).join('\n');
}

/**
 * The fixture after `n` more domain requests to /api/v1/system/info answered 200 in 25-50 ms: the
 * request counter, the buckets from le="0.05" up and `_count` grow by `n`.
 */
function moreRequests(n: number): string {
  return lines
    .map((l) => {
      const m = /^(\S+) (\S+)$/.exec(l);
      if (!m || !m[1].includes(`${INFO_DOMAIN_200}}`)) return l;
      const le = /le="([^"]+)"/.exec(m[1])?.[1];
      const grows =
        m[1].startsWith('http_requests_total{') ||
        m[1].startsWith('http_request_duration_seconds_count{') ||
        (le !== undefined && (le === '+Inf' || Number(le) >= 0.05));
      return grows ? `${m[1]} ${Number(m[2]) + n}` : l;
    })
    .join('\n');
}

interface Case {
  name: string;
  body: string;
  type: string;
  /** The line the message must name. */
  line: number;
  /** The series the message must name. */
  series: string;
  /** More of the message. */
  says: RegExp;
}

const duplicated = lineOf(`http_requests_total{${RULES_DOMAIN_500}}`);
const cutAt = lineOf(bucket('0.25'));

const cases: Case[] = [
  {
    name: 'a NaN request counter',
    body: withValue(REQUESTS, 'NaN'),
    type: 'MetricsNotANumber',
    line: lineOf(REQUESTS),
    series: REQUESTS,
    says: /is NaN: not a number/,
  },
  {
    name: 'a +Inf request counter',
    body: withValue(REQUESTS, '+Inf'),
    type: 'MetricsInfinite',
    line: lineOf(REQUESTS),
    series: REQUESTS,
    says: /is \+Inf: a count cannot be infinite/,
  },
  {
    name: 'a -Inf request counter',
    body: withValue(REQUESTS, '-Inf'),
    type: 'MetricsInfinite',
    line: lineOf(REQUESTS),
    series: REQUESTS,
    says: /is -Inf: a count cannot be infinite/,
  },
  {
    name: 'a negative request counter',
    body: withValue(`http_requests_total{${RULES_DOMAIN_500}}`, '-2'),
    type: 'MetricsNegative',
    line: duplicated,
    series: `http_requests_total{${RULES_DOMAIN_500}}`,
    says: /is -2: a count cannot be negative/,
  },
  {
    name: 'a NaN bucket',
    body: withValue(bucket('0.1'), 'NaN'),
    type: 'MetricsNotANumber',
    line: lineOf(bucket('0.1')),
    series: bucket('0.1'),
    says: /is NaN/,
  },
  {
    name: 'a request counter listed twice',
    body: lines.flatMap((l, i) => (i === duplicated - 1 ? [l, l] : [l])).join('\n'),
    type: 'MetricsDuplicateSeries',
    line: duplicated + 1,
    series: `http_requests_total{${RULES_DOMAIN_500}}`,
    says: new RegExp(`is listed twice \\(first at line ${duplicated}\\)`),
  },
  {
    name: 'a request counter listed twice, labels in another order',
    body: lines
      .flatMap((l, i) =>
        i === duplicated - 1
          ? [l, 'http_requests_total{status="500",impl="domain",method="GET",route="/api/v1/alerts/rules"} 2']
          : [l],
      )
      .join('\n'),
    type: 'MetricsDuplicateSeries',
    line: duplicated + 1,
    series: 'http_requests_total{status="500",impl="domain",method="GET",route="/api/v1/alerts/rules"}',
    says: new RegExp(`first at line ${duplicated}`),
  },
  {
    name: 'a bucket below the one before it',
    body: withValue(bucket('0.1'), '5'),
    type: 'MetricsNotCumulative',
    line: lineOf(bucket('0.1')),
    series: HISTOGRAM,
    says: new RegExp(`bucket le="0.1" is 5, less than le="0.05" \\(line ${lineOf(bucket('0.05'))}\\) with 6`),
  },
  {
    name: '_count that is not the +Inf bucket',
    body: withValue(`http_request_duration_seconds_count{${INFO_DOMAIN_200}}`, '7'),
    type: 'MetricsNotCumulative',
    line: lineOf(`http_request_duration_seconds_count{${INFO_DOMAIN_200}}`),
    series: `http_request_duration_seconds_count{${INFO_DOMAIN_200}}`,
    says: new RegExp(`is 7, but its le="\\+Inf" bucket \\(line ${lineOf(bucket('+Inf'))}\\) is 6`),
  },
  {
    // Cumulative in itself; but since the previous scrape le="0.025" grew by 6 and le="0.05" by 0.
    name: 'buckets that grew out of order since the previous scrape',
    body: withValue(bucket('0.025'), '6'),
    type: 'MetricsNotCumulative',
    line: lineOf(bucket('0.05')),
    series: HISTOGRAM,
    says: new RegExp(
      `le="0.05" grew by 0 since the previous scrape, less than le="0.025" \\(line ${lineOf(bucket('0.025'))}\\) with 6`,
    ),
  },
  {
    name: 'a body cut in the middle of a line',
    body: `${lines.slice(0, cutAt - 1).join('\n')}\n${lines[cutAt - 1].slice(0, 60)}`,
    type: 'MetricsTruncated',
    line: cutAt,
    series: lines[cutAt - 1].slice(0, 60).replace(/"/g, '\\"'),
    says: /body truncated: .* does not end with a newline/,
  },
  {
    name: 'a body whose last line lost its newline',
    body: FIXTURE.replace(/\n$/, ''),
    type: 'MetricsTruncated',
    line: lines.length - 1,
    series: KEYS_DOMAIN.replace(/"/g, '\\"'),
    says: /body truncated/,
  },
  {
    name: 'a line that is not the text format',
    body: withValue(REQUESTS, '6 7 8'),
    type: 'MetricsMalformed',
    line: lineOf(REQUESTS),
    series: REQUESTS.replace(/"/g, '\\"'),
    says: /not Prometheus text format: .*unexpected "8" after the timestamp/,
  },
  {
    name: 'a NaN routing-keys gauge',
    body: withValue(KEYS_DOMAIN, 'NaN'),
    type: 'MetricsNotANumber',
    line: lineOf(KEYS_DOMAIN),
    series: KEYS_DOMAIN,
    says: /is NaN/,
  },
  {
    name: 'a negative routing-keys gauge',
    body: withValue(KEYS_DOMAIN, '-18'),
    type: 'MetricsNegative',
    line: lineOf(KEYS_DOMAIN),
    series: KEYS_DOMAIN,
    says: /is -18: a count cannot be negative/,
  },
];

describe('exposition provider: a garbage scrape is a metrics-source error, never a sample', () => {
  let body = FIXTURE;
  let server: Served;
  let url = '';
  beforeAll(async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(body);
    });
    url = `${server.url}/metrics`;
  });
  afterAll(() => server.close());
  const provider = (): MetricsProvider => createMetricsProvider({ type: 'exposition', url, timeout: '5s' });

  test('the fixture itself is a good scrape', async () => {
    const p = provider();
    body = FIXTURE;
    expect((await p.sample({ key: 'k', ...READ, ...window })).warmup).toBe(true);
    body = moreRequests(4);
    const s = await p.sample({ key: 'k', ...READ, ...window });
    expect(s.domain).toMatchObject({ requests: 4, successes: 4, errors: 0 });
    expect(s.domain.buckets.find(([le]) => le === 0.05)).toEqual([0.05, 4]);
    expect(s.legacy.requests).toBe(0);
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const p = provider();
    body = FIXTURE;
    expect((await p.sample({ key: 'k', ...READ, ...window })).warmup).toBe(true);

    body = c.body;
    const err = await rejectionOf(p.sample({ key: 'k', ...READ, ...window }));
    expect(err).toBeInstanceOf(MetricsGarbageError);
    expect(err.type).toBe(c.type);
    expect(err.message).toContain(`GET ${url}: `);
    expect(err.message).toMatch(new RegExp(`\\bline ${c.line}\\b`));
    expect(err.message).toContain(c.series);
    expect(err.message).toMatch(c.says);

    // The garbage did not become the previous reading: 4 new requests since the last good scrape.
    body = moreRequests(4);
    const next = await p.sample({ key: 'k', ...READ, ...window });
    expect(next.warmup).toBeUndefined();
    expect(next.domain).toMatchObject({ requests: 4, successes: 4, errors: 0 });
  });

  test("garbage in a series the group does not read is not the group's problem", async () => {
    const p = provider();
    body = FIXTURE;
    await p.sample({ key: 'k', ...READ, ...window });
    const cameras = 'http_requests_total{route="/api/v1/cameras",method="GET",impl="legacy",status="200"}';
    body = withValue(cameras, 'NaN')
      .split('\n')
      .map((l) =>
        l.startsWith('rollout_percent{group="write"}') ? 'rollout_percent{group="write"} -Inf' : l,
      )
      .join('\n');
    const s = await p.sample({ key: 'k', ...READ, ...window });
    expect(s.domain.requests + s.legacy.requests).toBe(0);
  });

  test('a counter going backwards is a reset: a warmup, and the new reading is the reference', async () => {
    const p = provider();
    body = moreRequests(10);
    await p.sample({ key: 'k', ...READ, ...window });
    body = FIXTURE; // 10 fewer: the target restarted
    const reset = await p.sample({ key: 'k', ...READ, ...window });
    expect(reset.warmup).toBe(true);
    expect(reset.domain.requests).toBe(0);
    body = moreRequests(3);
    expect((await p.sample({ key: 'k', ...READ, ...window })).domain.requests).toBe(3);
  });
});

describe('exposition provider: routing keys', () => {
  let body = FIXTURE;
  let server: Served;
  let url = '';
  beforeAll(async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(body);
    });
    url = `${server.url}/metrics`;
  });
  afterAll(() => server.close());
  const twoScrapes = async (first: string, second: string, group = READ) => {
    const p = createMetricsProvider({ type: 'exposition', url, timeout: '5s' });
    body = first;
    await p.sample({ key: 'k', ...group, ...window });
    body = second;
    return p.sample({ key: 'k', ...group, ...window });
  };

  test('the gauge at the second scrape, as it stands (not a difference)', async () => {
    const s = await twoScrapes(FIXTURE, moreRequests(2));
    expect(s.domain.keys).toBe(18);
    expect(s.legacy.keys).toBe(22);
    expect(s.domain.requests).toBe(2);
  });

  test('the latest value when it changed between scrapes', async () => {
    const s = await twoScrapes(FIXTURE, withValue(KEYS_DOMAIN, '19'));
    expect(s.domain.keys).toBe(19);
    expect(s.legacy.keys).toBe(22);
  });

  test('an implementation the gauge lists no series for has routed no keys', async () => {
    const noDomain = lines.filter((l) => !l.startsWith(KEYS_DOMAIN)).join('\n');
    const s = await twoScrapes(noDomain, noDomain);
    expect(s.domain.keys).toBe(0);
    expect(s.legacy.keys).toBe(22);
  });

  test('no keys when the target does not export the gauge', async () => {
    const without = lines.filter((l) => !l.includes('rollout_routing_keys')).join('\n');
    const s = await twoScrapes(without, without);
    expect(s.warmup).toBeUndefined();
    expect(s.domain.keys).toBeUndefined();
    expect(s.legacy.keys).toBeUndefined();
    expect('keys' in s.domain).toBe(false);
  });

  test("no keys for a group the gauge does not list (only the group's own series count)", async () => {
    const write = {
      group: 'write',
      endpoints: [{ method: 'POST', route: '/api/v1/cameras' }],
    };
    const s = await twoScrapes(FIXTURE, FIXTURE, write);
    expect(s.domain.keys).toBeUndefined();
    expect(s.legacy.keys).toBeUndefined();
  });
});
