import fs from 'node:fs';
import path from 'node:path';
import { createTrafficProvider } from '../../../src/providers/traffic';
import type { EnvFileTrafficConfig } from '../../../src/providers/traffic/env-file';
import { rejectionOf, serve, tempDir, type Served } from '../support';

/**
 * env-file's optional `readCommand`: the target's own word on the percents replaces the file's.
 * The "restart" copies the file to where the read looks, as a service loading it would.
 */
const dir = tempDir('env-file-read');
const envFile = path.join(dir, 'backend.env');
const loaded = path.join(dir, 'loaded.env');
let health: Served;

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}
const restart = script('restart.sh', `cp ${JSON.stringify(envFile)} ${JSON.stringify(loaded)}`);
const read = script('read.sh', `. ${JSON.stringify(loaded)}; eval "echo \\$ROLLOUT_PERCENT_$(echo "$1" | tr a-z A-Z)"`);
const stale = script('stale.sh', 'echo 0');

beforeAll(async () => {
  health = await serve((_req, res) => res.end('ok'));
});
afterAll(async () => {
  await health.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fs.writeFileSync(envFile, 'USE_DOMAIN_SERVICE=true\nROLLOUT_PERCENT_READ=0\nROLLOUT_PERCENT_WRITE=0\n');
  fs.copyFileSync(envFile, loaded);
});

const config = (over: Partial<EnvFileTrafficConfig> = {}): EnvFileTrafficConfig => ({
  type: 'env-file',
  path: envFile,
  restartCommand: `sh ${restart}`,
  healthUrl: `${health.url}/healthz`,
  variables: { read: 'ROLLOUT_PERCENT_READ', write: 'ROLLOUT_PERCENT_WRITE' },
  percentVariable: 'ROLLOUT_PERCENT',
  killSwitchVariable: 'USE_DOMAIN_SERVICE',
  healthTimeout: '2s',
  readCommand: [read, '{group}'],
  ...over,
});

test('a change is confirmed by what the read command prints, per group', async () => {
  const provider = createTrafficProvider(config(), process.env);
  // Every group with a variable of its own is read back, each by its own run of the command.
  expect(await provider.setPercent('read', 25)).toEqual({
    useDomainService: true,
    groups: { read: { percent: 25 }, write: { percent: 0 } },
  });
  expect((await provider.setPercent('write', 5)).groups).toEqual({ read: { percent: 25 }, write: { percent: 5 } });
});

test('a read command that does not report the new percent leaves the change unconfirmed (retryable)', async () => {
  const provider = createTrafficProvider(config({ readCommand: [stale, '{group}'] }), process.env);
  const err = await rejectionOf(provider.setPercent('read', 25));
  expect(err.message).toContain('set read to 25%, but the read-back still shows group read at 0%');
  expect(err.nonRetryable).toBeUndefined();
  // The file was written: a retry restarts with it.
  expect(fs.readFileSync(envFile, 'utf8')).toContain('ROLLOUT_PERCENT_READ=25');
});

test('the kill switch is off when the file says so, whatever the command prints', async () => {
  const provider = createTrafficProvider(config(), process.env);
  expect((await provider.setKillSwitch(false)).useDomainService).toBe(false);
});
