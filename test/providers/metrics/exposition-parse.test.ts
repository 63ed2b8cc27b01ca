import { Histogram, Registry } from 'prom-client';
import { difference, parseExposition, readingOf } from '../../../src/providers/metrics/exposition';
import { endpointMatcher, normalizeRoute } from '../../../src/providers/metrics/series';

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

  test('reads escapes, timestamps, special values and a last line without newline', () => {
    const text = 'a{l="x\\"y"} 1 1700000000000\nb +Inf\nc NaN\nd 2.5e3';
    const f = parseExposition(text, WHERE);
    expect(f.get('a')).toEqual([{ labels: { l: 'x"y' }, value: 1 }]);
    expect(f.get('b')![0].value).toBe(Infinity);
    expect(Number.isNaN(f.get('c')![0].value)).toBe(true);
    expect(f.get('d')![0].value).toBe(2500);
  });

  const garbage: Array<[string, string, RegExp]> = [
    [
      'an HTML page',
      '<html><body>Login</body></html>\n',
      /not Prometheus text format: metric "<html>.*is not a metric name/,
    ],
    [
      'a line cut in its labels',
      'http_requests_total{route="/a",met',
      /not Prometheus text format: sample "http_requests_total.*value is not a number/,
    ],
    [
      'a value that is not a number',
      'http_requests_total{route="/a"} twelve\n',
      /http_requests_total\{route=\\?"\/a\\?"\} twelve.*value is not a number/,
    ],
    [
      'a broken label value',
      'x{a=b} 1\n',
      /not Prometheus text format: Encountered invalid line: x\{a=b\} 1/,
    ],
    ['a bad TYPE line', '# TYPE x counter extra\n', /Encountered invalid line/],
  ];
  test.each(garbage)('%s gives an error naming the endpoint and the sample', (_name, text, pattern) => {
    expect(() => parseExposition(text, WHERE)).toThrow(pattern);
    expect(() => parseExposition(text, WHERE)).toThrow(WHERE);
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
${extra}`;
  const reading = (t: string) => readingOf(parseExposition(t, WHERE), eps, at);

  test('counts per implementation, only for the group endpoints', () => {
    const d = difference(
      reading(text({ d200: 10, d500: 1, l200: 5 })),
      reading(text({ d200: 18, d500: 3, l200: 9 })),
    )!;
    expect(d.domain).toEqual({ requests: 10, errors: 2, successes: 8, buckets: [[0.1, 8]] });
    expect(d.legacy).toEqual({ requests: 4, errors: 0, successes: 4, buckets: [] });
  });

  test('a series born since the last reading counts from zero', () => {
    const born = 'http_requests_total{route="/a",method="GET",impl="legacy",status="404"} 3';
    const d = difference(
      reading(text({ d200: 1, d500: 0, l200: 0 })),
      reading(text({ d200: 1, d500: 0, l200: 0 }, born)),
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
    expect(difference(reading(before), reading(after))).toBeUndefined();
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
