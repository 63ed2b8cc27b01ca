/**
 * The worker's policy as the operator meets it at the CLI: `verify` acts itself, so it refuses a
 * plan its environment's ROLLOUT_ALLOW_* does not allow (exit 2, every path named, nothing
 * called); `start` warns early (the worker decides with its own environment). No Temporal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { approvalPlan, rollout, writePlan } from './cli-process';

jest.setTimeout(60_000);

let dir: string;
let listener: net.Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-cli-policy-'));
  listener = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function plan(extra: Record<string, unknown> = {}) {
  const base = approvalPlan('cli-policy');
  const url = `http://127.0.0.1:${port}`;
  return {
    ...base,
    target: {
      ...base.target,
      baseUrl: url,
      traffic: { type: 'http', url: `${url}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' },
      metrics: { type: 'exposition', url: `${url}/metrics` },
      ...extra,
    },
  };
}

test('verify refuses a plan reaching hosts its policy does not allow: exit 2, each path named, nothing called', async () => {
  const file = writePlan(dir, 'hosts.yaml', plan());
  connections = 0;
  const r = await rollout(['verify', file], { ADMIN_TOKEN: 't', ROLLOUT_ALLOW_HOSTS: 'localhost' });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    "reaches what the worker's policy does not allow (ROLLOUT_ALLOW_* of this shell); nothing was called",
  );
  for (const where of ['target.baseUrl', 'target.traffic.url', 'target.metrics.url'])
    expect(r.stderr).toMatch(
      new RegExp(
        `${where.replace(/\./g, '\\.')}: plan refused by the worker's policy: 127\\.0\\.0\\.1:${port} is not an allowed host \\(ROLLOUT_ALLOW_HOSTS=localhost\\)`,
      ),
    );
  expect(connections).toBe(0);
});

test('start warns before starting that the worker would refuse the tokenEnv (judged with this shell)', async () => {
  const file = writePlan(
    dir,
    'token.yaml',
    plan({
      traffic: { type: 'http', url: `http://127.0.0.1:${port}/admin/rollout`, tokenEnv: 'SECRET_KEY' },
    }),
  );
  // Temporal at a port nothing listens on: start stops there, after its warnings.
  const r = await rollout(['start', file], { SECRET_KEY: 's', TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(r.stderr).toContain(
    "warning: target.traffic.tokenEnv: plan refused by the worker's policy: tokenEnv SECRET_KEY is not allowed (ROLLOUT_ALLOW_TOKEN_ENV=ROLLOUT_TOKEN_*,ADMIN_TOKEN (default)) (judged with this shell's environment; the worker decides with its own)",
  );
});

test('start warns when --time-scale makes a prometheus check shorter than two scrapes', async () => {
  const file = writePlan(
    dir,
    'scaled.yaml',
    plan({ metrics: { type: 'prometheus', url: `http://127.0.0.1:${port}` } }),
  );
  const env = { ADMIN_TOKEN: 't', TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const scaled = await rollout(['start', file, '--time-scale', '60'], env);
  expect(scaled.stderr).toContain(
    'warning: defaults.checkInterval: at --time-scale 60 a check spans 167ms, and the prometheus source needs two scrapes in each',
  );
  expect(scaled.stderr).toContain('(10m for 5s scrapes, 30m for 15s)');
  // Unscaled, or scaled with checks still spanning two 5s scrapes: nothing to say.
  for (const args of [[], ['--time-scale', '1']])
    expect((await rollout(['start', file, ...args], env)).stderr).not.toContain('a check spans');
});
