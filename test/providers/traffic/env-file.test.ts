import fs from 'node:fs';
import path from 'node:path';
import { createTrafficProvider } from '../../../src/providers/traffic';
import { EnvFileTrafficProvider, type EnvFileTrafficConfig } from '../../../src/providers/traffic/env-file';
import { ADMIN_TOKEN, REPO_ROOT, freePort, rejectionOf, tempDir } from '../support';

/**
 * A restart script as an operator would write one: stop the running backend (pid file), load
 * the env file, start it again in the background with its output in a log file.
 */
const RESTART_SCRIPT = `#!/bin/sh
set -eu
if [ -f "$PIDFILE" ]; then
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null; do
      i=$((i + 1)); [ "$i" -gt 100 ] && kill -9 "$pid" 2>/dev/null || true
      sleep 0.1
    done
  fi
fi
set -a
. "$ENV_FILE"
set +a
cd "$REPO"
nohup "$REPO/node_modules/.bin/ts-node" --transpile-only example-backend/server.ts >>"$LOG" 2>&1 &
echo $! > "$PIDFILE"
`;

describe('env-file traffic provider restarting a real backend process', () => {
  const dir = tempDir('env-file-traffic');
  const envFile = path.join(dir, 'backend.env');
  const pidFile = path.join(dir, 'backend.pid');
  const logFile = path.join(dir, 'backend.log');
  let port = 0;
  let config: EnvFileTrafficConfig;
  let env: Record<string, string>;

  const running = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/admin/rollout`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return res.json() as Promise<{ useDomainService: boolean; groups: Record<string, { percent: number }> }>;
  };
  const pid = () => Number(fs.readFileSync(pidFile, 'utf8').trim());

  beforeAll(async () => {
    port = await freePort();
    fs.writeFileSync(path.join(dir, 'restart.sh'), RESTART_SCRIPT, { mode: 0o755 });
    fs.writeFileSync(
      envFile,
      [
        '# camera-api settings (kept by the rollout orchestrator)',
        `PORT=${port}`,
        `DATA_DIR=${path.join(dir, 'data')}`,
        `ADMIN_TOKEN=${ADMIN_TOKEN}`,
        '',
        '# kill switch',
        'export USE_DOMAIN_SERVICE=true',
        'ROLLOUT_PERCENT_READ=0 # phase 2',
        'ROLLOUT_PERCENT_WRITE=0 # phase 3',
        '',
      ].join('\n'),
    );
    config = {
      type: 'env-file',
      path: envFile,
      restartCommand: `sh ${path.join(dir, 'restart.sh')}`,
      healthUrl: `http://127.0.0.1:${port}/healthz`,
      variables: { read: 'ROLLOUT_PERCENT_READ', write: 'ROLLOUT_PERCENT_WRITE' },
      percentVariable: 'ROLLOUT_PERCENT',
      killSwitchVariable: 'USE_DOMAIN_SERVICE',
      healthTimeout: '60s',
    };
    env = {
      ...(process.env as Record<string, string>),
      ENV_FILE: envFile,
      PIDFILE: pidFile,
      LOG: logFile,
      REPO: REPO_ROOT,
    };
  });

  afterAll(async () => {
    if (fs.existsSync(pidFile)) {
      try {
        process.kill(pid(), 'SIGTERM');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('setPercent rewrites the file, restarts the backend, and the backend routes with it', async () => {
    const provider = createTrafficProvider(config, env);
    const state = await provider.setPercent('read', 25);
    expect(state).toEqual({
      useDomainService: true,
      groups: { read: { percent: 25 }, write: { percent: 0 } },
    });
    expect((await running()).groups).toEqual({ read: { percent: 25 }, write: { percent: 0 } });
    const text = fs.readFileSync(envFile, 'utf8');
    expect(text).toContain('# camera-api settings (kept by the rollout orchestrator)\n');
    expect(text).toContain('ROLLOUT_PERCENT_READ=25 # phase 2\n');
    expect(text).toContain('export USE_DOMAIN_SERVICE=true\n');

    const firstPid = pid();
    await provider.setPercent('write', 10);
    expect(pid()).not.toBe(firstPid);
    expect((await running()).groups).toEqual({ read: { percent: 25 }, write: { percent: 10 } });

    // Same value again: nothing to restart.
    const secondPid = pid();
    await provider.setPercent('write', 10);
    expect(pid()).toBe(secondPid);

    const off = await provider.setKillSwitch(false);
    expect(off.useDomainService).toBe(false);
    expect((await running()).useDomainService).toBe(false);
    expect(fs.readFileSync(envFile, 'utf8')).toContain('export USE_DOMAIN_SERVICE=false\n');
    expect(await provider.get(['read', 'write'])).toEqual({
      useDomainService: false,
      groups: { read: { percent: 25 }, write: { percent: 10 } },
    });
  }, 120_000);
});

describe('env-file traffic provider failures', () => {
  const dir = tempDir('env-file-failures');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function setup(over: Partial<EnvFileTrafficConfig>, content = 'ROLLOUT_PERCENT=0\n') {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.env`);
    fs.writeFileSync(file, content);
    const port = await freePort();
    const config: EnvFileTrafficConfig = {
      type: 'env-file',
      path: file,
      restartCommand: 'true',
      healthUrl: `http://127.0.0.1:${port}/healthz`,
      variables: {},
      percentVariable: 'ROLLOUT_PERCENT',
      killSwitchVariable: 'USE_DOMAIN_SERVICE',
      healthTimeout: '1s',
      ...over,
    };
    return { file, provider: new EnvFileTrafficProvider(config, { env: process.env }) };
  }

  test('a failing restart command is retryable and shows its output', async () => {
    const { provider } = await setup({ restartCommand: 'echo boom >&2; exit 3' });
    const err = await rejectionOf(provider.setPercent('read', 5));
    expect(err.message).toContain('exited with 3');
    expect(err.message).toContain('boom');
    expect(err.nonRetryable).toBeUndefined();
  });

  test('a restart command that does not exist is permanent', async () => {
    const { provider } = await setup({ restartCommand: 'no-such-restart-command-xyz' });
    const err = await rejectionOf(provider.setPercent('read', 5));
    expect(err.message).toContain('exited with 127');
    expect(err.nonRetryable).toBe(true);
  });

  test('a restart command that hangs is killed at the timeout', async () => {
    const { provider } = await setup({ restartCommand: 'sleep 30' });
    const started = Date.now();
    const err = await rejectionOf(provider.setPercent('read', 5));
    expect(err.message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('a target that never becomes healthy fails after healthTimeout (retryable)', async () => {
    const { provider, file } = await setup({});
    const err = await rejectionOf(provider.setPercent('read', 5));
    expect(err.message).toMatch(/not healthy .* ECONNREFUSED/);
    expect(err.nonRetryable).toBeUndefined();
    // The file was still written: a retry restarts with it.
    expect(fs.readFileSync(file, 'utf8')).toBe('ROLLOUT_PERCENT=5\n');
  });

  test('a missing env file is permanent and named', async () => {
    const { provider } = await setup({ path: path.join(dir, 'missing.env') });
    const err = await rejectionOf(provider.get(['read']));
    expect(err.message).toContain('missing.env does not exist');
    expect(err.nonRetryable).toBe(true);
  });

  test('a garbage value in the file names the file and line', async () => {
    const { provider, file } = await setup({}, '# x\nROLLOUT_PERCENT=lots\n');
    const err = await rejectionOf(provider.get(['read']));
    expect(err.message).toContain(`${file}:2`);
    expect(err.message).toContain('"lots" is not a percent');
  });

  test('one shared variable: every group reads it, and a group variable falls back to it', async () => {
    const { provider } = await setup(
      { variables: { write: 'ROLLOUT_PERCENT_WRITE' } },
      'ROLLOUT_PERCENT=30\nUSE_DOMAIN_SERVICE=1\n',
    );
    expect(await provider.get(['read'])).toEqual({
      useDomainService: true,
      groups: { read: { percent: 30 }, write: { percent: 30 } },
    });
  });
});
