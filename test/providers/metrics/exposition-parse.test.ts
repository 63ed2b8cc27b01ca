import { Histogram, Registry } from 'prom-client';
import { difference, readingOf, saveReading } from '../../../src/providers/metrics/exposition-reading';
import { MetricsGarbageError } from '../../../src/providers/metrics/garbage';
import { endpointMatcher } from '../../../src/providers/metrics/series';
import { normalizeRoute } from '../../../src/plan/endpoints';
import { parseExposition } from '../../../src/providers/metrics/text-format';
import type { SavedReading } from '../../../src/judge/samples';

const WHERE = 'GET http://t/metrics';
const eps = [{ method: 'GET', route: '/a' }];

describe('parseExposition', () => {
  test('keeps the labels of every histogram series (the parser alone would merge them)', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'h',
      labelNames: ['impl', 'route'],
      buckets: [0.1, 1],
      registers: [registry],
    });
    h.observe({ impl: 'domain', route: '/a' }, 0.05);
    h.observe({ impl: 'legacy', route: '/a' }, 0.5);
    h.observe({ impl: 'legacy', route: '/a' }, 0.5);
    const families = parseExposition(await registry.metrics(), WHERE);
    const buckets = families.get('http_request_duration_seconds_bucket')!;
    const find = (impl: string, le: string) =>
      buckets.find((b) => b.labels.impl === impl && b.labels.le === le)?.value;
    expect(find('domain', '0.1')).toBe(1);
    expect(find('legacy', '0.1')).toBe(0);
    expect(find('legacy', '1')).toBe(2);
    expect(find('legacy', '+Inf')).toBe(2);
    expect(
      families
        .get('http_request_duration_seconds_count')!
        .map((s) => s.value)
        .sort(),
    ).toEqual([1, 2]);
  });

  test('reads escapes, timestamps, blanks, special values, comments and label order as written', () => {
    const text = [
      '# a free comment',
      '# HELP a help text with "quotes"',
      'a{l="x\\"y",m="back\\\\slash",n="new\\nline",} 1 1700000000000',
      '  b +Inf',
      'c\tNaN',
      'd{ z = "1" , y="2" } 2.5e3',
      '',
      'e{} -Inf',
      '',
    ].join('\n');
    const f = parseExposition(text, WHERE);
    expect(f.get('a')).toEqual([
      { name: 'a', labels: { l: 'x"y', m: 'back\\slash', n: 'new\nline' }, value: 1, line: 3 },
    ]);
    expect(f.get('b')![0]).toMatchObject({ value: Infinity, line: 4 });
    expect(Number.isNaN(f.get('c')![0].value)).toBe(true);
    expect(f.get('d')![0]).toEqual({ name: 'd', labels: { z: '1', y: '2' }, value: 2500, line: 6 });
    expect(Object.keys(f.get('d')![0].labels)).toEqual(['z', 'y']);
    expect(f.get('e')![0]).toMatchObject({ labels: {}, value: -Infinity, line: 8 });
  });

  test('a label named __proto__ is an ordinary label', () => {
    const [s] = parseExposition('x{__proto__="p"} 1\n', WHERE).get('x')!;
    expect(Object.keys(s.labels)).toEqual(['__proto__']);
    expect(s.labels.__proto__).toBe('p');
  });

  const garbage: Array<[string, string, string, RegExp]> = [
    [
      'an HTML page',
      '<html><body>Login</body></html>\n',
      'MetricsMalformed',
      /not Prometheus text format: line 1 "<html>.*starts with a metric name/,
    ],
    [
      'a line cut in its labels',
      'http_requests_total{route="/a",met',
      'MetricsTruncated',
      /body truncated: line 1 "http_requests_total\{route=\\"\/a\\",met" does not end with a newline/,
    ],
    [
      'a complete-looking last line without newline (digits may be lost)',
      'a 1\nhttp_requests_total{route="/a"} 12',
      'MetricsTruncated',
      /body truncated: line 2 "http_requests_total\{route=\\"\/a\\"\} 12" does not end with a newline/,
    ],
    [
      'a value that is not a number',
      'a 1\nhttp_requests_total{route="/a"} twelve\n',
      'MetricsMalformed',
      /line 2 "http_requests_total\{route=\\"\/a\\"\} twelve": value "twelve" is not a number/,
    ],
    [
      'an unquoted label value',
      'x{a=b} 1\n',
      'MetricsMalformed',
      /line 1 "x\{a=b\} 1": the value of label a is not quoted/,
    ],
    ['a label twice', 'x{a="1",a="2"} 1\n', 'MetricsMalformed', /line 1 .*label a appears twice/],
    [
      'an unknown escape',
      'x{a="\\t"} 1\n',
      'MetricsMalformed',
      /line 1 .*invalid escape \\t in the value of label a/,
    ],
    [
      'an unclosed label value',
      'x{a="1} 1\n',
      'MetricsMalformed',
      /line 1 .*the value of label a is not closed/,
    ],
    ['no value', 'x{a="1"}\n', 'MetricsMalformed', /line 1 .*has no value/],
    ['a bad timestamp', 'x 1 soon\n', 'MetricsMalformed', /line 1 .*timestamp "soon" is not an integer/],
    [
      'text after the timestamp',
      'x 1 2 3\n',
      'MetricsMalformed',
      /line 1 .*unexpected "3" after the timestamp/,
    ],
    [
      'a bad TYPE line',
      'a 1\n# TYPE x counter extra\n',
      'MetricsMalformed',
      /line 2 .*# TYPE needs one of counter/,
    ],
    ['a TYPE line without a name', '# TYPE\n', 'MetricsMalformed', /line 1 .*# TYPE needs a metric name/],
  ];
  test.each(garbage)('%s gives an error naming the endpoint and the line', (_name, text, type, pattern) => {
    let err: unknown;
    try {
      parseExposition(text, WHERE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MetricsGarbageError);
    expect((err as MetricsGarbageError).type).toBe(type);
    expect((err as Error).message).toMatch(pattern);
    expect((err as Error).message.startsWith(`${WHERE}: `)).toBe(true);
  });
});

describe('difference between two readings', () => {
  const at = new Date();
  const text = (n: { d200: number; d500: number; l200: number }, extra = '') => `
http_requests_total{route="/a",method="GET",impl="domain",status="200"} ${n.d200}
http_requests_total{route="/a",method="GET",impl="domain",status="500"} ${n.d500}
http_requests_total{route="/a",method="GET",impl="legacy",status="200"} ${n.l200}
http_requests_total{route="/b",method="GET",impl="domain",status="500"} 1000
http_request_duration_seconds_bucket{route="/a",method="GET",impl="domain",status="200",le="0.1"} ${n.d200}
http_request_duration_seconds_bucket{route="/a",method="GET",impl="domain",status="200",le="+Inf"} ${n.d200}
${extra}
`;
  const reading = (t: string) =>
    readingOf(parseExposition(t, WHERE), { group: 'read', endpoints: eps }, at, WHERE);
  /** The previous reading as the caller keeps it: through JSON, as heartbeat details and history do. */
  const saved = (t: string) => JSON.parse(JSON.stringify(saveReading(reading(t)))) as SavedReading;

  test('counts per implementation, only for the group endpoints', () => {
    const d = difference(
      saved(text({ d200: 10, d500: 1, l200: 5 })),
      reading(text({ d200: 18, d500: 3, l200: 9 })),
      WHERE,
    )!;
    expect(d.domain).toEqual({ requests: 10, errors: 2, successes: 8, buckets: [[0.1, 8]] });
    expect(d.legacy).toEqual({ requests: 4, errors: 0, successes: 4, buckets: [] });
  });

  test('a series born since the last reading counts from zero', () => {
    const born = 'http_requests_total{route="/a",method="GET",impl="legacy",status="404"} 3';
    const d = difference(
      saved(text({ d200: 1, d500: 0, l200: 0 })),
      reading(text({ d200: 1, d500: 0, l200: 0 }, born)),
      WHERE,
    )!;
    expect(d.legacy).toEqual({ requests: 3, errors: 0, successes: 0, buckets: [] });
  });

  test.each([
    ['a counter went down', text({ d200: 10, d500: 1, l200: 5 }), text({ d200: 2, d500: 1, l200: 5 })],
    [
      'a series vanished',
      text(
        { d200: 1, d500: 0, l200: 0 },
        'http_requests_total{route="/a",method="GET",impl="legacy",status="404"} 3',
      ),
      text({ d200: 1, d500: 0, l200: 0 }),
    ],
  ])('%s: reset, no difference', (_name, before, after) => {
    expect(difference(saved(before), reading(after), WHERE)).toBeUndefined();
  });
});

describe('endpoint matching', () => {
  test.each([
    ['/api/v1/cameras/{camera_id}', '/api/v1/cameras/{camera_id}'],
    ['/api/v1/cameras/:camera_id', '/api/v1/cameras/{camera_id}'],
    ['/api/v1/cameras/', '/api/v1/cameras'],
  ])('normalizeRoute(%s)', (route, expected) => {
    expect(normalizeRoute(route)).toBe(expected);
  });

  test('method is case-insensitive, route spelling free', () => {
    const m = endpointMatcher([{ method: 'PUT', route: '/api/v1/cameras/{camera_id}' }]);
    expect(m({ method: 'put', route: '/api/v1/cameras/:camera_id' })).toBe(true);
    expect(m({ method: 'DELETE', route: '/api/v1/cameras/{camera_id}' })).toBe(false);
    expect(m({ route: '/api/v1/cameras/{camera_id}' })).toBe(false);
  });
});
