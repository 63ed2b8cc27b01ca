import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createTrafficProvider } from '../../../src/providers/traffic';
import type { NginxTrafficConfig } from '../../../src/providers/traffic/nginx';
import { policyFromEnv } from '../../../src/providers/policy';
import { NGINX_BIN, requireBinary, servedBy, startNginx as startRunningNginx, startUpstream, type Detached, type Upstream, SPLITS } from '../../helpers/routers';
import { rejectionOf, tempDir } from '../support';

/** Reads to `t_read`, `/write` to `t_write`, both groups between the same two upstreams. */
function startNginx(dir: string, legacy: Upstream, domain: Upstream, owner?: string) {
  const servers = { legacy: `127.0.0.1:${legacy.port}`, domain: `127.0.0.1:${domain.port}` };
  return startRunningNginx(dir, {
    groups: { read: { upstream: 't_read', ...servers }, write: { upstream: 't_write', ...servers } },
    locations: ['location / { proxy_pass http://t_read; }', 'location /write { proxy_pass http://t_write; }'],
    owner,
  });
}

describe('nginx traffic provider with a real nginx', () => {
  const dir = tempDir('nginx-traffic');
  let legacy: Upstream;
  let domain: Upstream;
  let nginx: Detached;
  let config: NginxTrafficConfig;
  let front = '';
  let owned = '';
  const policy = policyFromEnv({ PATH: process.env.PATH, ROLLOUT_ALLOW_PATHS: dir, ROLLOUT_ALLOW_COMMANDS: path.dirname(fs.realpathSync(NGINX_BIN)) });

  beforeAll(async () => {
    requireBinary(NGINX_BIN, 'nginx');
    [legacy, domain] = await Promise.all([startUpstream('legacy'), startUpstream('domain')]);
    ({ proc: nginx, config, front, owned } = await startNginx(dir, legacy, domain));
  });

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([legacy?.close(), domain?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('reads the state nginx serves', async () => {
    const provider = createTrafficProvider(config, {}, { policy });
    expect(await provider.get()).toEqual({ useDomainService: true, groups: { read: { percent: 0 }, write: { percent: 0 } } });
  });

  test.each(SPLITS)('at %i%% nginx serves the new file and requests split so', async (percent, split) => {
    const provider = createTrafficProvider(config, {}, { policy });
    const state = await provider.setPercent('read', percent);
    expect(state.groups).toEqual({ read: { percent }, write: { percent: 0 } });
    const counts = await servedBy(front, 60);
    split(counts);
    if (percent === 10) expect(counts.domain).toBeLessThanOrEqual(15);
    expect((await servedBy(`${front}/write`, 10)).domain).toBe(0);
  });

  test('a failed nginx -t leaves the old file, and nginx, as they were (retryable)', async () => {
    const good = createTrafficProvider(config, {}, { policy });
    await good.setPercent('read', 20);
    const before = fs.readFileSync(owned, 'utf8');
    const broken = createTrafficProvider(
      { ...config, groups: { ...config.groups, write: { ...config.groups.write, domain: 'no-such-host.invalid:8080' } } },
      {},
      { policy: policyFromEnv({ PATH: process.env.PATH, ROLLOUT_ALLOW_PATHS: dir, ROLLOUT_ALLOW_COMMANDS: '*', ROLLOUT_ALLOW_HOSTS: '*' }) },
    );
    const err = await rejectionOf(broken.setPercent('write', 30));
    expect(err.message).toContain('nginx config test');
    expect(err.message).toContain('host not found in upstream "no-such-host.invalid:8080"');
    expect(err.nonRetryable).toBeUndefined();
    expect(fs.readFileSync(owned, 'utf8')).toBe(before);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.rollout.conf'))).toEqual([]);
    expect((await good.get()).groups).toEqual({ read: { percent: 20 }, write: { percent: 0 } });
    expect((await servedBy(`${front}/write`, 10)).domain).toBe(0);
  });

  test('a reload that does not take is not confirmed; the next change reloads again', async () => {
    const idle = createTrafficProvider({ ...config, reloadCommand: ['/bin/true'], timeout: '1s' }, {}, {
      policy: policyFromEnv({ PATH: process.env.PATH, ROLLOUT_ALLOW_PATHS: dir, ROLLOUT_ALLOW_COMMANDS: '*' }),
    });
    const err = await rejectionOf(idle.setPercent('read', 40));
    expect(err.message).toMatch(/nginx did not load .*rollout\.conf \(generation [0-9a-f]+\) within 1000ms after the reload: it serves generation [0-9a-f]+/);
    expect(err.nonRetryable).toBeUndefined();
    // The file says 40, nginx still serves 20: a retry with a working reload puts 40 in force.
    const retry = createTrafficProvider(config, {}, { policy });
    expect((await retry.get()).groups.read).toEqual({ percent: 20 });
    expect((await retry.setPercent('read', 40)).groups.read).toEqual({ percent: 40 });
  });

  test('the kill switch sends every group to legacy', async () => {
    const provider = createTrafficProvider(config, {}, { policy });
    await provider.setPercent('write', 50);
    expect((await provider.setKillSwitch(false)).groups).toEqual({ read: { percent: 0 }, write: { percent: 0 } });
    expect((await servedBy(front, 20)).domain).toBe(0);
  });

  test("the worker's policy: the file, the status address, the commands and the upstream addresses", () => {
    const strict = policyFromEnv({ PATH: process.env.PATH, ROLLOUT_ALLOW_PATHS: '/nonexistent', ROLLOUT_ALLOW_HOSTS: 'localhost' });
    expect(strict.trafficProblems(config).map((p) => p.path)).toEqual([
      'target.traffic.file',
      'target.traffic.statusListen',
      'target.traffic.testCommand',
      'target.traffic.reloadCommand',
      'target.traffic.groups.read.legacy',
      'target.traffic.groups.read.domain',
      'target.traffic.groups.write.legacy',
      'target.traffic.groups.write.domain',
    ]);
  });
});

const asRoot = process.getuid?.() === 0 && fs.existsSync('/usr/sbin/runuser');
(asRoot ? describe : describe.skip)('nginx traffic provider with nginx run by a user other than root', () => {
  const dir = tempDir('nginx-nobody');
  let legacy: Upstream;
  let domain: Upstream;
  let nginx: Detached | undefined;

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([legacy?.close(), domain?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('sets and reads back with nginx as nobody (no user directive, everything in its prefix)', async () => {
    requireBinary(NGINX_BIN, 'nginx');
    [legacy, domain] = await Promise.all([startUpstream('legacy'), startUpstream('domain')]);
    const started = await startNginx(dir, legacy, domain, 'nobody');
    nginx = started.proc;
    const asNobody = (argv: string[]) => ['/usr/sbin/runuser', '-u', 'nobody', '--', ...argv];
    const provider = createTrafficProvider(
      { ...started.config, testCommand: asNobody(started.config.testCommand), reloadCommand: asNobody(started.config.reloadCommand) },
      process.env,
    );
    expect((await provider.setPercent('read', 100)).groups.read).toEqual({ percent: 100 });
    expect((await servedBy(started.front, 10)).legacy).toBe(0);
    const owner = execFileSync('ps', ['-o', 'user=', '-p', String(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8').trim())]);
    expect(owner.toString().trim()).toBe('nobody');
  });
});
