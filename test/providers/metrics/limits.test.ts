/**
 * A metrics source that drips or floods never blinds an observation: every scrape and query has a
 * total deadline (`target.metrics.timeout`, headers and body) and a 20 MiB cap on the body, and
 * either is a plain (retryable) error naming the URL and the limit. Real sockets, real axios.
 */
import { createMetricsProvider } from '../../../src/providers/metrics';
import { METRICS_MAX_BYTES } from '../../../src/providers/metrics/exposition';
import { PROMETHEUS_MAX_BYTES } from '../../../src/providers/metrics/prometheus';
import { isPermanent } from '../../../src/providers/errors';
import { dripping, flooding, rejectionOf, type Misbehaving } from '../support';

jest.setTimeout(30_000);

const query = {
  key: 'limits',
  group: 'read',
  endpoints: [{ method: 'GET', route: '/api/v1/system/info' }],
  from: new Date(Date.now() - 60_000),
  to: new Date(),
};
/** What a client may have been sent beyond its cap before it hung up: socket buffers on loopback. */
const SLACK = 16 * 1024 * 1024;

let server: Misbehaving | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Runs `sample`, timing it. */
async function timed(p: Promise<unknown>): Promise<{ err: Error; ms: number }> {
  const started = Date.now();
  const err = await rejectionOf(p);
  return { err, ms: Date.now() - started };
}

describe('exposition provider', () => {
  test('a /metrics dripping a byte a second fails at the deadline, naming the URL and the limit', async () => {
    server = await dripping('text/plain; version=0.0.4');
    const url = `${server.url}/metrics`;
    const provider = createMetricsProvider({ type: 'exposition', url, timeout: '1s' });
    const { err, ms } = await timed(provider.sample(query));
    expect(err.message).toBe(`metrics from ${url}: no complete answer within 1s (deadline)`);
    expect(isPermanent(err)).toBe(false);
    expect(ms).toBeLessThan(1000 + 5000);
    // The connection is let go, not left dripping.
    await server.allHungUp();
    expect(server.answers[0].sent).toBeLessThan(10);
  });

  test('a 200 MiB /metrics is cut off at 20 MiB, not buffered', async () => {
    server = await flooding('text/plain; version=0.0.4');
    const url = `${server.url}/metrics`;
    const provider = createMetricsProvider({ type: 'exposition', url, timeout: '30s' });
    const { err } = await timed(provider.sample(query));
    expect(err.message).toBe(`metrics from ${url}: body larger than 20 MiB (cut off)`);
    expect(isPermanent(err)).toBe(false);
    await server.allHungUp();
    expect(server.answers[0].sent).toBeGreaterThan(METRICS_MAX_BYTES);
    expect(server.answers[0].sent).toBeLessThan(METRICS_MAX_BYTES + SLACK);
  });
});

describe('prometheus provider', () => {
  const prometheus = (url: string, timeout: string) =>
    createMetricsProvider({ type: 'prometheus', url, selector: '', timeout });

  test('a query answer dripping a byte a second fails at the deadline, naming the URL and the limit', async () => {
    server = await dripping('application/json');
    const provider = prometheus(server.url, '1s');
    const { err, ms } = await timed(provider.sample(query));
    expect(err.message).toBe(
      `Prometheus ${server.url}/api/v1/query: no complete answer within 1s (deadline)`,
    );
    expect(isPermanent(err)).toBe(false);
    expect(ms).toBeLessThan(1000 + 5000);
    await server.allHungUp();
  });

  test('a 200 MiB query answer is cut off at 20 MiB, not buffered', async () => {
    server = await flooding('application/json');
    const provider = prometheus(server.url, '30s');
    const { err } = await timed(provider.sample(query));
    expect(err.message).toBe(`Prometheus ${server.url}/api/v1/query: body larger than 20 MiB (cut off)`);
    await server.allHungUp();
    // Three queries run at once; none took much more than its cap.
    for (const a of server.answers) expect(a.sent).toBeLessThan(PROMETHEUS_MAX_BYTES + SLACK);
  });
});
