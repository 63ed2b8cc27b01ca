import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBackend } from '../../example-backend/app';
import { ConfigError, parseRolloutEnv, parseServerEnv } from '../../example-backend/config';

const ROOT = path.resolve(__dirname, '../..');
const TS_NODE = path.join(ROOT, 'node_modules/.bin/ts-node');

/** Runs `npm run backend`'s entry as a real process. */
function runServer(env: Record<string, string>) {
  const child = spawn(process.execPath, [TS_NODE, '--transpile-only', 'example-backend/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('example backend configuration', () => {
  it('reads the rollout switches with defaults and per-group overrides', () => {
    expect(parseRolloutEnv({})).toEqual({
      useDomainService: true,
      groups: { read: { percent: 0 }, write: { percent: 0 } },
    });
    expect(parseRolloutEnv({ ROLLOUT_PERCENT: '25', USE_DOMAIN_SERVICE: '0' })).toEqual({
      useDomainService: false,
      groups: { read: { percent: 25 }, write: { percent: 25 } },
    });
    expect(
      parseRolloutEnv({
        ROLLOUT_PERCENT: '25',
        ROLLOUT_PERCENT_WRITE: '5',
        USE_DOMAIN_SERVICE: 'TRUE',
        ROLLOUT_PERCENT_READ: '',
      }),
    ).toEqual({ useDomainService: true, groups: { read: { percent: 25 }, write: { percent: 5 } } });
  });

  it.each([
    ['USE_DOMAIN_SERVICE', 'maybe'],
    ['ROLLOUT_PERCENT', '101'],
    ['ROLLOUT_PERCENT', '-1'],
    ['ROLLOUT_PERCENT_READ', 'abc'],
    ['ROLLOUT_PERCENT_WRITE', '50%'],
    ['ROLLOUT_PERCENT', '2.5'],
    ['ROLLOUT_PERCENT_READ', '10.0'],
    ['ROLLOUT_PERCENT_WRITE', '1e1'],
  ])('rejects %s=%s naming the variable', async (name, value) => {
    expect(() => parseRolloutEnv({ [name]: value })).toThrow(ConfigError);
    expect(() => parseRolloutEnv({ [name]: value })).toThrow(new RegExp(`^${name}: `));
    const dataDir = path.join(os.tmpdir(), `camera-api-never-${process.pid}-${name}`);
    await expect(startBackend({ port: 0, dataDir, env: { [name]: value } })).rejects.toThrow(name);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('says a fractional percent must be whole (the orchestrator records percents as Int)', () => {
    expect(() => parseRolloutEnv({ ROLLOUT_PERCENT: '2.5' })).toThrow(
      'ROLLOUT_PERCENT: must be a whole number 0..100 (got "2.5")',
    );
    expect(parseRolloutEnv({ ROLLOUT_PERCENT: '007', ROLLOUT_PERCENT_READ: '100' }).groups).toEqual({
      read: { percent: 100 },
      write: { percent: 7 },
    });
  });

  it('reads PORT, HOST, DATA_DIR and ADMIN_TOKEN', () => {
    expect(parseServerEnv({})).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      dataDir: path.resolve('data'),
    });
    expect(parseServerEnv({ PORT: '0', DATA_DIR: '/tmp/x', ADMIN_TOKEN: 's' })).toEqual({
      port: 0,
      host: '127.0.0.1',
      dataDir: '/tmp/x',
      adminToken: 's',
    });
    expect(() => parseServerEnv({ PORT: 'http' })).toThrow(/^PORT: /);
    expect(() => parseServerEnv({ PORT: '70000' })).toThrow(/^PORT: /);
  });

  it('npm run backend exits 1 with a message naming an invalid variable', async () => {
    const server = runServer({
      ROLLOUT_PERCENT_WRITE: 'lots',
      DATA_DIR: path.join(os.tmpdir(), 'camera-api-never'),
    });
    expect(await server.exited).toBe(1);
    expect(server.err()).toMatch(
      /invalid environment: ROLLOUT_PERCENT_WRITE: must be a whole number 0\.\.100 \(got "lots"\)/,
    );
  });

  it('npm run backend prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'camera-api-proc-'));
    const server = runServer({
      PORT: '0',
      DATA_DIR: dataDir,
      ADMIN_TOKEN: 'proc-token',
      ROLLOUT_PERCENT_READ: '100',
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no banner: ${server.out()} ${server.err()}`)),
          30_000,
        );
        server.child.stdout.on('data', () => {
          const match = /camera-api listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.out());
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      const reply = await fetch(`${url}/api/v1/system/info`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('x-served-by')).toBe('domain');
      expect((await fetch(`${url}/admin/rollout`)).status).toBe(401);
      expect(fs.existsSync(path.join(dataDir, 'cameras.yaml'))).toBe(true);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
