import fs from 'node:fs';
import path from 'node:path';
import { createTrafficProvider } from '../../../src/providers/traffic';
import { policyFromEnv } from '../../../src/providers/policy';
import type { TrafficConfig } from '../../../src/plan/schema';
import { rejectionOf, tempDir } from '../support';

/**
 * The `command` provider with small scripts standing in for a router: `set` writes a group's
 * percent to a file (now, or a moment later in the background, as Traefik's file watcher would
 * take it), `read` prints it back.
 */
const dir = tempDir('command-traffic');
const state = path.join(dir, 'state');
fs.mkdirSync(state);

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\nSTATE=${JSON.stringify(state)}\n${body}\n`, { mode: 0o755 });
  return file;
}
const set = script('set.sh', 'printf "%s\\n" "$2" > "$STATE/$1"; echo "set $1 to $2"');
const setLater = script('set-later.sh', '( sleep 0.6; printf "%s\\n" "$2" > "$STATE/$1" ) >/dev/null 2>&1 &');
const setIgnored = script('set-ignored.sh', 'exit 0');
const read = script('read.sh', 'echo "reading $1" >&2; cat "$STATE/$1" 2>/dev/null || echo 0');
const readAll = script('read-all.sh', 'for f in "$STATE"/*; do echo "$(basename "$f")=$(cat "$f")"; done; echo useDomainService=true');
const fail = script('fail.sh', 'echo "router said no" >&2; exit 3');
const usage = script('usage.sh', 'echo "unknown group $1" >&2; exit 64');
const garbage = script('garbage.sh', 'echo "<html>oops</html>"');
const hang = script('hang.sh', 'sleep 30');
const args = script('args.sh', 'printf "%s|" "$@" > "$STATE/args"; printf "%s\\n" "$3" > "$STATE/$2"');

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  for (const f of fs.readdirSync(state)) fs.rmSync(path.join(state, f));
});

const config = (over: Partial<Extract<TrafficConfig, { type: 'command' }>> = {}): TrafficConfig => ({
  type: 'command',
  set: [set, '{group}', '{percent}'],
  read: [read, '{group}'],
  timeout: '3s',
  ...over,
});
const provider = (over: Partial<Extract<TrafficConfig, { type: 'command' }>> = {}) =>
  createTrafficProvider(config(over), process.env);

test.each([0, 10, 50, 100])('sets %i%% and reads it back', async (percent) => {
  const p = provider();
  expect(await p.setPercent('read', percent)).toEqual({ useDomainService: true, groups: { read: { percent } } });
  expect(fs.readFileSync(path.join(state, 'read'), 'utf8')).toBe(`${percent}\n`);
  // stderr of the read ("reading read") is not part of its answer.
  expect(await p.get(['read'])).toEqual({ useDomainService: true, groups: { read: { percent } } });
});

test('a read without {group} prints every group; other groups are left alone', async () => {
  const p = provider({ read: [readAll] });
  await p.setPercent('write', 5);
  expect(await p.setPercent('read', 25)).toEqual({
    useDomainService: true,
    groups: { read: { percent: 25 }, write: { percent: 5 } },
  });
});

test('a router that takes the change in a moment later is waited for', async () => {
  const state = await provider({ set: [setLater, '{group}', '{percent}'] }).setPercent('read', 30);
  expect(state.groups.read).toEqual({ percent: 30 });
});

test('a set the router ignores is not confirmed: the read-back is named (retryable)', async () => {
  const err = await rejectionOf(provider({ set: [setIgnored, '{group}', '{percent}'], timeout: '1s' }).setPercent('read', 30));
  expect(err.message).toContain('set read to 30%, but the read-back still shows group read at 0%');
  expect(err.nonRetryable).toBeUndefined();
});

test('the kill switch off moves every group asked about to 0', async () => {
  const p = provider();
  await p.setPercent('read', 40);
  await p.setPercent('write', 20);
  expect(await p.setKillSwitch(false)).toEqual({
    useDomainService: true,
    groups: { read: { percent: 0 }, write: { percent: 0 } },
  });
});

test('placeholders fill whole arguments: a value is never split or read by a shell', async () => {
  const p = provider({ set: [args, '--x={group}', '{group}', '{percent}'] });
  await p.setPercent('read', 7);
  expect(fs.readFileSync(path.join(state, 'args'), 'utf8')).toBe('--x=read|read|7|');
});

test.each<[string, Partial<Extract<TrafficConfig, { type: 'command' }>>, string, boolean]>([
  ['a set that exits 3 is retried, with its output', { set: [fail, '{percent}'] }, 'set command (' , false],
  ['a set exiting 64 (usage) is permanent', { set: [usage, '{group}', '{percent}'] }, 'exited with 64: unknown group read', true],
  ['a program that does not exist is permanent', { set: [path.join(dir, 'nope.sh'), '{percent}'] }, 'cannot run', true],
  ['a hanging set is killed at the timeout (retryable)', { set: [hang, '{percent}'], timeout: '500ms' }, 'timed out after 500ms', false],
  ['a read printing garbage is an error quoting it', { read: [garbage, '{group}'] }, '"<html>oops</html>" is not a percent', false],
  ['a read that fails is retried', { read: [fail, '{group}'] }, 'read command', false],
])('%s', async (_name, over, message, permanent) => {
  const err = await rejectionOf(provider(over).setPercent('read', 10));
  expect(err.message).toContain(message);
  if (message === 'set command (') expect(err.message).toContain('exited with 3: router said no');
  expect(err.nonRetryable === true).toBe(permanent);
});

test("through the worker's policy: programs from allowed directories only, run without a shell", async () => {
  const allowed = createTrafficProvider(config(), { ...process.env, ROLLOUT_ALLOW_COMMANDS: dir, ROLLOUT_ALLOW_PATHS: dir }, {
    policy: policyFromEnv({ PATH: process.env.PATH, ROLLOUT_ALLOW_COMMANDS: dir }),
  });
  expect((await allowed.setPercent('read', 15)).groups.read).toEqual({ percent: 15 });
  const policy = policyFromEnv({ PATH: process.env.PATH, ROLLOUT_ALLOW_COMMANDS: '/usr/bin' });
  expect(policy.trafficProblems(config())).toEqual([
    { path: 'target.traffic.set', message: expect.stringContaining('is not in an allowed directory') },
    { path: 'target.traffic.read', message: expect.stringContaining('is not in an allowed directory') },
  ]);
  expect(() => createTrafficProvider(config(), process.env, { policy })).toThrow('target.traffic.set:');
});
