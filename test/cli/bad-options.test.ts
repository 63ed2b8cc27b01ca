/**
 * `npx rollout` with a bad option or argument, as an operator would type it: exit 2, the option
 * named, nothing started. Each case runs the real CLI against a listener that stands in for both
 * Temporal and the plan's target and counts every connection: a check that came too late (after
 * connecting) fails the case even when the exit code happens to be right. No Temporal server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { approvalPlan, rollout, writePlan, type CliResult } from './cli-process';

jest.setTimeout(60_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-bad-options-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a case sees: the listener's port and a plan whose every URL points at it. */
interface Ctx {
  port: number;
  plan: string;
  dir: string;
}

interface Case {
  args: (c: Ctx) => string[];
  /** Extra environment (TEMPORAL_ADDRESS defaults to the listener). */
  env?: (c: Ctx) => Record<string, string>;
  /** What stderr must say: the option, and why. */
  error: (c: Ctx) => RegExp | string;
}

const long = (n: number) => 'a'.repeat(n);

/** Runs the CLI with a fresh counting listener; resolves to its result and the connections seen. */
async function runCase(c: Case, name: string): Promise<{ r: CliResult; connections: number; ctx: Ctx }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const base = `http://127.0.0.1:${port}`;
    const plan = approvalPlan('bad-options');
    plan.target.baseUrl = base;
    plan.target.traffic = { type: 'http', url: `${base}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' };
    plan.target.metrics = { type: 'exposition', url: `${base}/metrics` };
    const ctx: Ctx = { port, dir, plan: writePlan(dir, `${name.replace(/\W+/g, '-')}.yaml`, plan) };
    const r = await rollout(c.args(ctx), {
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_NAMESPACE: 'default',
      ADMIN_TOKEN: 'token',
      ...c.env?.(ctx),
    });
    return { r, connections, ctx };
  } finally {
    server.close();
  }
}

const id = 'rollout-bad-options';
const cases: Record<string, Case> = {
  // start
  'start --time-scale 1e-320 (finite and positive, still below the bound)': {
    args: (c) => ['start', c.plan, '--time-scale', '1e-320'],
    error: () => /--time-scale: must be a number from 0\.001 to 100000 \(got "1e-320"\)/,
  },
  'start --time-scale above the bound': {
    args: (c) => ['start', c.plan, '--time-scale', '1000000'],
    error: () => /--time-scale: must be a number from 0\.001 to 100000 \(got "1000000"\)/,
  },
  'start --time-scale in hex': {
    args: (c) => ['start', c.plan, '--time-scale', '0x10'],
    error: () => '--time-scale: must be a number',
  },
  'start --id ""': {
    args: (c) => ['start', c.plan, '--id', ''],
    error: () => '--id: must not be empty',
  },
  'start --id of spaces': {
    args: (c) => ['start', c.plan, '--id', '   '],
    error: () => '--id: must not be empty',
  },
  'start --id longer than Temporal allows': {
    args: (c) => ['start', c.plan, '--id', long(1001)],
    error: () => "--id: must be at most 1000 bytes (Temporal's limit; got 1001)",
  },
  'start --target-url "" (used to be ignored)': {
    args: (c) => ['start', c.plan, '--target-url', ''],
    error: () => '--target-url: must be an http(s) URL (got "")',
  },
  'start <a directory>: the file named': {
    args: (c) => ['start', c.dir],
    error: (c) => c.dir,
  },
  // watch
  'watch --interval 1e-320 (a busy loop)': {
    args: () => ['watch', id, '--interval', '1e-320'],
    error: () => /--interval: must be a number of seconds from 0\.1 to 3600 \(got "1e-320"\)/,
  },
  'watch --interval past what a timer can wait': {
    args: () => ['watch', id, '--interval', '1e10'],
    error: () => '--interval: must be a number of seconds from 0.1 to 3600',
  },
  // signals
  'approve --by ""': {
    args: () => ['approve', id, '--by', ''],
    error: () => '--by: must not be empty',
  },
  'pause --by of spaces': {
    args: () => ['pause', id, '--by', '   '],
    error: () => '--by: must not be empty',
  },
  'resume --by too long': {
    args: () => ['resume', id, '--by', long(201)],
    error: () => '--by: must be at most 200 characters (got 201)',
  },
  'rollback --by ""': {
    args: () => ['rollback', id, '--by', '', '--reason', 'x'],
    error: () => '--by: must not be empty',
  },
  'complete --by with a line break': {
    args: () => ['complete', id, '--by', 'al\nice'],
    error: () => '--by: must not contain control characters',
  },
  'approve --comment too long': {
    args: () => ['approve', id, '--by', 'alice', '--comment', long(1001)],
    error: () => '--comment: must be at most 1000 characters (got 1001)',
  },
  'pause --reason too long': {
    args: () => ['pause', id, '--by', 'alice', '--reason', long(1001)],
    error: () => '--reason: must be at most 1000 characters (got 1001)',
  },
  'rollback --group "" (used to be ignored)': {
    args: () => ['rollback', id, '--by', 'alice', '--group', ''],
    error: () => '--group: must be a group name',
  },
  // list
  'list --limit 1e300 (an integer, still absurd)': {
    args: () => ['list', '--limit', '1e300'],
    error: () => '--limit: must be a whole number from 1 to 10000 (got "1e300")',
  },
  'list --state "" (used to be ignored)': {
    args: () => ['list', '--state', ''],
    error: () => '--state: unknown state "" (one of pending,',
  },
  'list --target "" (used to be ignored)': {
    args: () => ['list', '--target', ''],
    error: () => '--target: must be a target id',
  },
  'list --target with a quote (would end the visibility query)': {
    args: () => ['list', '--target', "x\\' OR WorkflowType != '"],
    error: () => '--target: must be a target id',
  },
  // the rollout id argument
  'status ""': {
    args: () => ['status', ''],
    error: () => '<id>: must not be empty',
  },
  'history with spaces around the id': {
    args: () => ['history', ` ${id} `],
    error: () => '<id>: must not start or end with spaces',
  },
  // verify
  'verify --window 0.001ms': {
    args: (c) => ['verify', c.plan, '--window', '0.001ms'],
    error: () => '--window: must be a duration from 1s to 1h, like 15s or 1m (got "0.001ms")',
  },
  'verify --window 100000d': {
    args: (c) => ['verify', c.plan, '--window', '100000d'],
    error: () => '--window: must be a duration from 1s to 1h',
  },
  'verify --phase "" (used to mean every phase)': {
    args: (c) => ['verify', c.plan, '--phase', ''],
    error: () => '--phase: must not be empty',
  },
  'verify --target-url "" (used to be ignored)': {
    args: (c) => ['verify', c.plan, '--target-url', ''],
    error: () => '--target-url: must be an http(s) URL',
  },
  // the connection
  'TEMPORAL_ADDRESS with a scheme': {
    args: () => ['status', id],
    env: (c) => ({ TEMPORAL_ADDRESS: `http://127.0.0.1:${c.port}` }),
    error: (c) =>
      `TEMPORAL_ADDRESS: must be host:port, without a scheme or path (got "http://127.0.0.1:${c.port}")`,
  },
  'TEMPORAL_ADDRESS with a port past 65535': {
    args: () => ['status', id],
    env: () => ({ TEMPORAL_ADDRESS: '127.0.0.1:99999' }),
    error: () => 'TEMPORAL_ADDRESS: port "99999" is not 1..65535 (got "127.0.0.1:99999")',
  },
  'TEMPORAL_ADDRESS with a space in the host': {
    args: () => ['list'],
    env: (c) => ({ TEMPORAL_ADDRESS: `temporal server:${c.port}` }),
    error: () => 'TEMPORAL_ADDRESS: "temporal server" is not a host name or IP address',
  },
};

// Concurrent: each case is a CLI start-up (a second or two of loading); nothing is shared.
test.concurrent.each(Object.entries(cases))('%s: exit 2, named, nothing started', async (name, c) => {
  const { r, connections, ctx } = await runCase(c, name);
  const error = c.error(ctx);
  expect({ code: r.code, stderr: r.stderr }).toEqual({
    code: 2,
    stderr: typeof error === 'string' ? expect.stringContaining(error) : expect.stringMatching(error),
  });
  expect(r.stderr).toMatch(/^rollout: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stdout).toBe('');
  expect(connections).toBe(0);
});
