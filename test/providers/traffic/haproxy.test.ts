import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createTrafficProvider } from '../../../src/providers/traffic';
import { HaproxyTrafficProvider, type HaproxyTrafficConfig } from '../../../src/providers/traffic/haproxy';
import { policyFromEnv } from '../../../src/providers/policy';
import { HAPROXY_BIN, requireBinary, servedBy, haproxyFront, startHaproxy, startUpstream, type Detached, type Upstream, SPLITS } from '../../helpers/routers';
import { freePort, rejectionOf, tempDir } from '../support';

/** The haproxy provider against a real HAProxy (2.6, Debian's) through its Runtime API. */
describe('haproxy traffic provider with a real HAProxy', () => {
  const dir = tempDir('haproxy-traffic');
  const socket = path.join(dir, 'admin.sock');
  let legacy: Upstream;
  let domain: Upstream;
  let haproxy: Detached;
  let front = '';
  let tcpPort = 0;
  let config: HaproxyTrafficConfig;
  const policy = policyFromEnv({ ROLLOUT_ALLOW_PATHS: dir });

  beforeAll(async () => {
    requireBinary(HAPROXY_BIN, 'haproxy');
    [legacy, domain] = await Promise.all([startUpstream('legacy'), startUpstream('domain')]);
    const frontPort = await freePort();
    tcpPort = await freePort();
    front = `http://127.0.0.1:${frontPort}`;
    ({ proc: haproxy } = await startHaproxy(
      dir,
      haproxyFront({
        frontPort,
        servers: () => [`server legacy 127.0.0.1:${legacy.port} weight 100`, `server domain 127.0.0.1:${domain.port} weight 0`],
      }),
      [`  stats socket ipv4@127.0.0.1:${tcpPort} level admin`],
    ));
    config = {
      type: 'haproxy',
      runtimeApi: `unix:${socket}`,
      groups: {
        read: { backend: 'be_read', legacy: 'legacy', domain: 'domain' },
        write: { backend: 'be_write', legacy: 'legacy', domain: 'domain' },
      },
      timeout: '5s',
    };
  });

  afterAll(async () => {
    await haproxy?.stop();
    await Promise.all([legacy?.close(), domain?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('reads the weights HAProxy starts with', async () => {
    const provider = createTrafficProvider(config, {}, { policy });
    expect(await provider.get()).toEqual({ useDomainService: true, groups: { read: { percent: 0 }, write: { percent: 0 } } });
  });

  test.each(SPLITS)('at %i%% the weights read back and requests through HAProxy split so', async (percent, split) => {
    const provider = createTrafficProvider(config, {}, { policy });
    const state = await provider.setPercent('read', percent);
    expect(state.groups).toEqual({ read: { percent }, write: { percent: 0 } });
    const counts = await servedBy(`${front}/api/v1/system/info`, 60);
    split(counts);
    if (percent === 10) expect(counts.domain).toBeLessThanOrEqual(15);
    // The other group was left as it was.
    const writes = await fetch(front, { method: 'POST', headers: { Connection: 'close' } });
    expect(writes.headers.get('x-served-by')).toBe('legacy');
  });

  test('the TCP runtime API reads the same state; the kill switch sends every group to legacy', async () => {
    const tcp = createTrafficProvider({ ...config, runtimeApi: `tcp:127.0.0.1:${tcpPort}` }, {}, { policy });
    await tcp.setPercent('read', 25);
    await tcp.setPercent('write', 5);
    const unix = createTrafficProvider(config, {}, { policy });
    expect((await unix.get()).groups).toEqual({ read: { percent: 25 }, write: { percent: 5 } });
    expect((await unix.setKillSwitch(false)).groups).toEqual({ read: { percent: 0 }, write: { percent: 0 } });
    expect((await servedBy(front, 20)).domain).toBe(0);
  });

  test('a domain server in maintenance counts as 0%, whatever its weight', async () => {
    const provider = new HaproxyTrafficProvider(config);
    await provider.setPercent('read', 50);
    expect((await provider.ask('set server be_read/domain state maint')).trim()).toBe('');
    expect((await provider.get()).groups.read).toEqual({ percent: 0 });
    await provider.ask('set server be_read/domain state ready');
    expect((await provider.get()).groups.read).toEqual({ percent: 50 });
    await provider.setPercent('read', 0);
  });

  test.each<[string, Partial<HaproxyTrafficConfig>, string, boolean]>([
    ['an unknown server is permanent and named', { groups: { read: { backend: 'be_read', legacy: 'legacy', domain: 'nope' } } }, 'has no server be_read/nope (target.traffic.groups.read.domain); be_read has legacy, domain', true],
    ['an unknown backend is permanent and named', { groups: { read: { backend: 'be_nope', legacy: 'legacy', domain: 'domain' } } }, 'has no backend be_nope', true],
    ['a socket that is not there is retried', { runtimeApi: `unix:${path.join(dir, 'gone.sock')}` }, 'ENOENT', false],
  ])('%s', async (_name, over, message, permanent) => {
    const err = await rejectionOf(createTrafficProvider({ ...config, ...over }, {}, { policy }).setPercent('read', 10));
    expect(err.message).toContain(message);
    expect(err.nonRetryable === true).toBe(permanent);
  });

  test('a Runtime API that never answers fails at the deadline', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const started = Date.now();
    const err = await rejectionOf(
      createTrafficProvider({ ...config, runtimeApi: `tcp:127.0.0.1:${port}`, timeout: '300ms' }, {}).get(),
    );
    expect(err.message).toContain('no complete answer to "show servers state be_read;show servers state be_write" within 300ms (deadline)');
    expect(Date.now() - started).toBeLessThan(3000);
    silent.close();
  });

  test("the worker's policy: a socket outside ROLLOUT_ALLOW_PATHS, a TCP API on a host not allowed", () => {
    const strict = policyFromEnv({ ROLLOUT_ALLOW_PATHS: '/nonexistent', ROLLOUT_ALLOW_HOSTS: 'localhost' });
    expect(strict.trafficProblems(config)).toEqual([
      { path: 'target.traffic.runtimeApi', message: expect.stringContaining('is not in an allowed directory') },
    ]);
    expect(strict.trafficProblems({ ...config, runtimeApi: 'tcp:127.0.0.1:9999' })).toEqual([
      { path: 'target.traffic.runtimeApi', message: expect.stringContaining('127.0.0.1:9999 is not an allowed host') },
    ]);
  });
});
