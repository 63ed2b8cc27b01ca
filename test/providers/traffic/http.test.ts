import { HttpTrafficProvider } from '../../../src/providers/traffic/http';
import { createTrafficProvider } from '../../../src/providers/traffic';
import { ADMIN_TOKEN, freePort, rejectionOf, serve, startTestBackend, type Backend } from '../support';

describe('http traffic provider against the example backend', () => {
  let backend: Backend;
  const env = { CAMERA_ADMIN_TOKEN: ADMIN_TOKEN };
  const config = (url: string) =>
    ({ type: 'http', url: `${url}/admin/rollout`, tokenEnv: 'CAMERA_ADMIN_TOKEN', timeout: '5s' }) as const;

  beforeEach(async () => {
    backend = await startTestBackend({ USE_DOMAIN_SERVICE: 'true', ROLLOUT_PERCENT_READ: '10' });
  });
  afterEach(() => backend.dispose());

  test('get() reports what the backend routes with', async () => {
    const provider = createTrafficProvider(config(backend.url), env);
    expect(await provider.get()).toEqual({
      useDomainService: true,
      groups: { read: { percent: 10 }, write: { percent: 0 } },
    });
  });

  test('setPercent changes one group and leaves the other', async () => {
    const provider = createTrafficProvider(config(backend.url), env);
    const state = await provider.setPercent('write', 25);
    expect(state.groups).toEqual({ read: { percent: 10 }, write: { percent: 25 } });
    // The backend itself now routes with it.
    expect((await backend.admin('GET', '/admin/rollout')).body.groups.write.percent).toBe(25);
  });

  test('setKillSwitch(false) turns the domain service off for every group', async () => {
    const provider = createTrafficProvider(config(backend.url), env);
    const state = await provider.setKillSwitch(false);
    expect(state.useDomainService).toBe(false);
    expect((await backend.admin('GET', '/admin/rollout')).body.useDomainService).toBe(false);
    expect((await provider.setKillSwitch(true)).useDomainService).toBe(true);
  });

  test('an unset token variable is a permanent error naming the variable', async () => {
    const err = await rejectionOf(
      Promise.resolve().then(() => createTrafficProvider(config(backend.url), {})),
    );
    expect(err.message).toContain('CAMERA_ADMIN_TOKEN');
    expect(err.message).toContain('not set');
    expect(err.nonRetryable).toBe(true);
  });

  test('a refused token (401) is permanent and says which variable held it', async () => {
    const provider = new HttpTrafficProvider(config(backend.url), { CAMERA_ADMIN_TOKEN: 'wrong' });
    const err = await rejectionOf(provider.get());
    expect(err.message).toMatch(/HTTP 401/);
    expect(err.message).toContain('CAMERA_ADMIN_TOKEN');
    expect(err.nonRetryable).toBe(true);
  });

  test('no tokenEnv against a protected admin API: permanent, with a hint', async () => {
    const provider = new HttpTrafficProvider(
      { type: 'http', url: `${backend.url}/admin/rollout`, timeout: '5s' },
      {},
    );
    const err = await rejectionOf(provider.setPercent('read', 5));
    expect(err.message).toContain('tokenEnv');
    expect(err.nonRetryable).toBe(true);
  });

  test('an unknown group is refused by the backend: permanent', async () => {
    const provider = createTrafficProvider(config(backend.url), env);
    const err = await rejectionOf(provider.setPercent('payments', 5));
    expect(err.message).toMatch(/HTTP 400/);
    expect(err.nonRetryable).toBe(true);
  });

  test('connection refused is transient (Temporal retries it)', async () => {
    const port = await freePort();
    const provider = createTrafficProvider(config(`http://127.0.0.1:${port}`), env);
    const err = await rejectionOf(provider.get());
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.nonRetryable).toBeUndefined();
  });

  test('a 503 is transient, and a garbage answer names what is wrong', async () => {
    let status = 503;
    const fake = await serve((_req, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(status === 200 ? JSON.stringify({ useDomainService: 'yes', groups: {} }) : '{"error":"down"}');
    });
    try {
      const provider = createTrafficProvider(config(fake.url), env);
      const down = await rejectionOf(provider.get());
      expect(down.message).toMatch(/HTTP 503/);
      expect(down.nonRetryable).toBeUndefined();
      status = 200;
      const garbage = await rejectionOf(provider.get());
      expect(garbage.message).toMatch(/useDomainService: .*boolean/);
    } finally {
      await fake.close();
    }
  });
});
