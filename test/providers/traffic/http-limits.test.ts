/**
 * The admin API's calls are bounded: `target.traffic.timeout` is a deadline on the whole call
 * (headers and body), and an answer past 1 MiB is cut off. Either is a retryable error naming the
 * method, the URL and the limit. Real sockets, real axios.
 */
import { createTrafficProvider } from '../../../src/providers/traffic';
import { TRAFFIC_MAX_BYTES } from '../../../src/providers/traffic/http';
import { isPermanent } from '../../../src/providers/errors';
import { dripping, flooding, rejectionOf, type Misbehaving } from '../support';

jest.setTimeout(30_000);

const SLACK = 16 * 1024 * 1024;
let server: Misbehaving | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const config = (url: string, timeout = '1s') =>
  ({ type: 'http', url: `${url}/admin/rollout`, timeout }) as const;

describe('http traffic provider limits', () => {
  test('a GET answered a byte a second fails at the deadline', async () => {
    server = await dripping('application/json');
    const started = Date.now();
    const err = await rejectionOf(createTrafficProvider(config(server.url), {}).get([]));
    expect(err.message).toBe(
      `traffic admin GET ${server.url}/admin/rollout: no complete answer within 1s (deadline)`,
    );
    expect(isPermanent(err)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000 + 5000);
    await server.allHungUp();
  });

  test('a PUT answered a byte a second fails at the deadline (setPercent does not wait forever)', async () => {
    server = await dripping('application/json');
    const err = await rejectionOf(createTrafficProvider(config(server.url), {}).setPercent('read', 5));
    expect(err.message).toBe(
      `traffic admin PUT ${server.url}/admin/rollout: no complete answer within 1s (deadline)`,
    );
    await server.allHungUp();
  });

  test('a 200 MiB answer is cut off at 1 MiB, not buffered', async () => {
    server = await flooding('application/json');
    const err = await rejectionOf(createTrafficProvider(config(server.url, '30s'), {}).get([]));
    expect(err.message).toBe(
      `traffic admin GET ${server.url}/admin/rollout: body larger than 1 MiB (cut off)`,
    );
    expect(isPermanent(err)).toBe(false);
    await server.allHungUp();
    expect(server.answers[0].sent).toBeLessThan(TRAFFIC_MAX_BYTES + SLACK);
  });
});
