/**
 * The rollout page's API reads rollouts whose status carries their whole plan (webhook URLs,
 * hosts, commands): a read needs the page's token like a button does, and a request that names
 * another host (DNS rebinding: a name of an attacker's resolving to 127.0.0.1) or comes from
 * another origin is refused before anything is read. No Temporal needed: every refusal comes first.
 */
import http from 'node:http';
import { allowedHostNames, startUi, type RunningUi } from '../../src/ui/server';

const TOKEN = 'guard-test-token';
let ui: RunningUi;
let port: number;

beforeAll(async () => {
  // Nothing listens on port 1: a request that got past the guards would fail to reach Temporal (503).
  ui = await startUi({ host: '127.0.0.1', port: 0, token: TOKEN, env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  port = Number(new URL(ui.url).port);
});
afterAll(() => ui.close());

function request(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: { Host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? '{"by":"alice"}' : undefined);
  });
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

test.each([
  ['the list', '/api/rollouts'],
  ['one rollout', '/api/rollouts/rollout-camera-api'],
])('reading %s without the token is 401, with a wrong one 403', async (_what, path) => {
  const without = await request('GET', path);
  expect(without.status).toBe(401);
  expect(JSON.parse(without.body).error).toMatch(/^reading rollouts needs the page token/);
  const wrong = await request('GET', path, auth('guess'));
  expect(wrong.status).toBe(403);
  expect(JSON.parse(wrong.body).error).toBe('wrong page token');
});

test('with the token a read gets past the guards (here to an unreachable Temporal)', async () => {
  const res = await request('GET', '/api/rollouts', auth(TOKEN));
  expect([401, 403]).not.toContain(res.status);
});

test.each([
  ['GET', '/api/rollouts'],
  ['POST', '/api/rollouts/rollout-camera-api/approve'],
  ['GET', '/'],
  ['GET', '/healthz'],
])('%s %s naming another host (DNS rebinding) is 403, token or not', async (method, path) => {
  const res = await request(method, path, {
    Host: `rebind.attacker.example:${port}`,
    ...auth(TOKEN),
    'Content-Type': 'application/json',
  });
  expect(res.status).toBe(403);
  expect(JSON.parse(res.body).error).toMatch(
    /^refused: Host "rebind\.attacker\.example:\d+" is not this page's/,
  );
});

test.each([
  ['GET', '/api/rollouts', 'http://attacker.example'],
  ['POST', '/api/rollouts/rollout-camera-api/approve', 'http://attacker.example'],
  ['POST', '/api/rollouts/rollout-camera-api/approve', 'null'],
])('%s %s from Origin %s is 403, token or not', async (method, path, origin) => {
  const res = await request(method, path, {
    Origin: origin,
    ...auth(TOKEN),
    'Content-Type': 'application/json',
  });
  expect(res.status).toBe(403);
  expect(JSON.parse(res.body).error).toMatch(/^refused: Origin .* is not this page's/);
});

test('the page itself, from its own origin and by localhost, passes (to the token check)', async () => {
  const same = await request('GET', '/api/rollouts', { Origin: `http://127.0.0.1:${port}` });
  expect(same.status).toBe(401);
  const byName = await request('GET', '/api/rollouts', { Host: `localhost:${port}` });
  expect(byName.status).toBe(401);
  expect((await request('GET', '/api/config')).body).toBe('{"tokenRequired":true}');
});

test('the names a page answers to: loopback, its address, ROLLOUT_UI_ALLOWED_HOSTS', () => {
  expect(
    [...allowedHostNames('10.1.2.3', { ROLLOUT_UI_ALLOWED_HOSTS: 'rollouts.internal, Ops.Example' })].sort(),
  ).toEqual(['10.1.2.3', '127.0.0.1', '[::1]', 'localhost', 'ops.example', 'rollouts.internal'].sort());
  expect(allowedHostNames('::1', {})).toContain('[::1]');
});
