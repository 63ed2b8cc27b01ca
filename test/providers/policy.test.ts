/**
 * The worker's policy (issue 21, "a plan is not a key"): the rules one by one, as tables. What the
 * worker does with a refusal is in test/activities/policy.test.ts.
 */
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { commandWords, policyFromEnv, POLICY_DEFAULTS } from '../../src/providers/policy';

const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'rollout-policy-')));
const tools = path.join(root, 'tools');
const elsewhere = path.join(root, 'elsewhere');
mkdirSync(tools);
mkdirSync(elsewhere);
mkdirSync(path.join(root, 'data'));
mkdirSync(path.join(root, '.secret'));
for (const file of [path.join(tools, 'restart.sh'), path.join(elsewhere, 'evil.sh')]) {
  writeFileSync(file, '#!/bin/sh\necho ok\n');
  chmodSync(file, 0o755);
}
writeFileSync(path.join(tools, 'not-executable.sh'), 'echo no\n');
symlinkSync(path.join(elsewhere, 'evil.sh'), path.join(tools, 'link-out.sh'));
const policy = (env: Record<string, string> = {}) => policyFromEnv({ PATH: process.env.PATH, ...env }, root);

test('the defaults: loopback hosts, ROLLOUT_TOKEN_* and ADMIN_TOKEN, no commands, the working directory', () => {
  expect(POLICY_DEFAULTS).toEqual({
    ROLLOUT_ALLOW_HOSTS: '127.0.0.1,localhost,[::1]',
    ROLLOUT_ALLOW_TOKEN_ENV: 'ROLLOUT_TOKEN_*,ADMIN_TOKEN',
    ROLLOUT_ALLOW_COMMANDS: '',
    ROLLOUT_ALLOW_PATHS: '.',
    ROLLOUT_COMMAND_ENV: '',
  });
  expect(policy().describe()).toBe(
    `hosts 127.0.0.1,localhost,[::1]; tokenEnv ROLLOUT_TOKEN_*,ADMIN_TOKEN; commands none; paths ${root}`,
  );
});

describe('hosts (ROLLOUT_ALLOW_HOSTS)', () => {
  test.each([
    // [allow-list (undefined: default), url, allowed]
    [undefined, 'http://127.0.0.1:8000/admin/rollout', true],
    [undefined, 'http://localhost:9090', true],
    [undefined, 'http://[::1]:8000/metrics', true],
    [undefined, 'https://hooks.slack.com/services/T0/B0/secret', false],
    [undefined, 'http://169.254.169.254/latest/meta-data/', false],
    [undefined, 'http://127.0.0.2:8000', false],
    [undefined, 'http://localhost.attacker.example:8000', false],
    ['api.internal:8000', 'http://api.internal:8000/x', true],
    ['api.internal:8000', 'http://api.internal:8001/x', false],
    ['api.internal:8000', 'http://API.INTERNAL:8000/x', true],
    ['api.internal', 'https://api.internal/x', true],
    ['*.internal', 'http://orders.prod.internal:80', true],
    ['*.internal', 'http://internal:80', false],
    ['*.internal', 'http://evil-internal:80', false],
    ['hooks.slack.com:443', 'https://hooks.slack.com/services/x', true],
    ['hooks.slack.com:443', 'http://hooks.slack.com/services/x', false],
    ['api.internal:*', 'http://api.internal:1234', true],
    ['*', 'http://anything.example:1', true],
    ['', 'http://127.0.0.1:8000', false],
  ])('%j: %s → %s', (hosts, url, allowed) => {
    const p = policy(hosts === undefined ? {} : { ROLLOUT_ALLOW_HOSTS: hosts });
    expect(p.hostProblem(url) === undefined).toBe(allowed);
  });

  test('a refusal names host and port, not the path (a webhook path carries its own token), and the variable', () => {
    expect(policy().hostProblem('https://hooks.example.com/services/T0/B0/s3cr3t')).toBe(
      "plan refused by the worker's policy: hooks.example.com:443 is not an allowed host (ROLLOUT_ALLOW_HOSTS=127.0.0.1,localhost,[::1] (default))",
    );
  });

  test.each(['http://api.internal', 'api internal', 'host:99999'])(
    'ROLLOUT_ALLOW_HOSTS=%j is refused at start, naming it',
    (value) => {
      expect(() => policy({ ROLLOUT_ALLOW_HOSTS: value })).toThrow(/^ROLLOUT_ALLOW_HOSTS: /);
    },
  );
});

describe('tokenEnv (ROLLOUT_ALLOW_TOKEN_ENV)', () => {
  test.each([
    [undefined, 'ADMIN_TOKEN', true],
    [undefined, 'ROLLOUT_TOKEN_ORDERS', true],
    [undefined, 'SECRET_KEY', false],
    [undefined, 'AWS_SECRET_ACCESS_KEY', false],
    [undefined, 'TEMPORAL_API_KEY', false],
    [undefined, 'ADMIN_TOKEN_2', false],
    ['CAMERA_ADMIN_TOKEN', 'CAMERA_ADMIN_TOKEN', true],
    ['CAMERA_ADMIN_TOKEN', 'ADMIN_TOKEN', false],
    ['DEPLOY_*,ADMIN_TOKEN', 'DEPLOY_ORDERS', true],
    ['*', 'ANYTHING', true],
  ])('%j: %s → %s', (list, name, allowed) => {
    const p = policy(list === undefined ? {} : { ROLLOUT_ALLOW_TOKEN_ENV: list });
    expect(p.tokenEnvProblem(name) === undefined).toBe(allowed);
  });

  test('the refusal says which variable and what is allowed', () => {
    expect(policy().tokenEnvProblem('SECRET_KEY')).toBe(
      "plan refused by the worker's policy: tokenEnv SECRET_KEY is not allowed (ROLLOUT_ALLOW_TOKEN_ENV=ROLLOUT_TOKEN_*,ADMIN_TOKEN (default))",
    );
  });

  test('ROLLOUT_ALLOW_TOKEN_ENV=A*B is refused at start', () => {
    expect(() => policy({ ROLLOUT_ALLOW_TOKEN_ENV: 'A*B' })).toThrow(
      /^ROLLOUT_ALLOW_TOKEN_ENV: A\*B: a variable name or a prefix/,
    );
  });
});

describe('paths (ROLLOUT_ALLOW_PATHS)', () => {
  test.each([
    [undefined, 'data/cameras.db', true],
    [undefined, './data/cameras.yaml', true],
    [undefined, path.join(root, 'data', 'new-file.yaml'), true],
    [undefined, '../outside.db', false],
    [undefined, '/etc/passwd', false],
    [undefined, '.secret/x.db', false],
    [undefined, '.env', false],
    [undefined, 'data/../.env', false],
    ['data', 'data/cameras.db', true],
    ['data', 'tools/restart.sh', false],
    ['.secret', '.secret/x.db', true],
    ['.env', '.env', true],
    ['*', '/etc/passwd', true],
    ['', 'data/cameras.db', false],
  ])('%j: %s → %s', (list, file, allowed) => {
    const p = policy(list === undefined ? {} : { ROLLOUT_ALLOW_PATHS: list });
    expect(p.pathProblem(file) === undefined).toBe(allowed);
  });

  test('a symlink is judged by where it leads', () => {
    expect(policy({ ROLLOUT_ALLOW_PATHS: 'tools' }).pathProblem('tools/link-out.sh')).toMatch(
      /elsewhere\/evil\.sh is not in an allowed directory/,
    );
  });

  test('a hidden directory is named, with how to allow it', () => {
    expect(policy().pathProblem('.secret/x.db')).toMatch(
      /below a hidden directory or file \(\.secret\); list it in ROLLOUT_ALLOW_PATHS/,
    );
  });
});

describe('commands (ROLLOUT_ALLOW_COMMANDS)', () => {
  test.each([
    // [allow-list, command, refusal (null: allowed)]
    [
      undefined,
      './tools/restart.sh',
      /commands are not allowed \(ROLLOUT_ALLOW_COMMANDS=\(empty\) \(default\)/,
    ],
    ['tools', './tools/restart.sh', null],
    ['tools', `${tools}/restart.sh --group read "two words"`, null],
    ['tools', './elsewhere/evil.sh', /elsewhere\/evil\.sh\) is not in an allowed directory/],
    ['tools', './tools/link-out.sh', /is not in an allowed directory/],
    ['tools', './tools/not-executable.sh', /not an executable file/],
    ['tools', './tools/missing.sh', /not an executable file/],
    ['tools', 'sh -c "curl evil"', /sh \(\S+\) is not in an allowed directory/],
    ['tools', './tools/restart.sh; curl http://attacker.example', /shell syntax \(";"\)/],
    ['tools', './tools/restart.sh && rm -rf /', /shell syntax \("&"\)/],
    ['tools', './tools/restart.sh $(cat /etc/passwd)', /shell syntax \("\$"\)/],
    ['tools', './tools/restart.sh "$HOME"', /shell syntax \("\$"\)/],
    ['tools', './tools/restart.sh > /tmp/x', /shell syntax \(">"\)/],
    ['tools', './tools/restart.sh `id`', /shell syntax \("`"\)/],
    ['tools', 'FOO=bar ./tools/restart.sh', /FOO=bar is not an executable file/],
    ['tools', "./tools/restart.sh '$literal; | ok'", null],
    [`${tools}/restart.sh`, './tools/restart.sh', null],
    ['*', 'echo a; echo b | wc -l', null],
  ])('%j: %s', (list, command, refusal) => {
    const p = policy(list === undefined ? {} : { ROLLOUT_ALLOW_COMMANDS: list });
    const problem = p.commandProblem(command);
    if (refusal === null) expect(problem).toBeUndefined();
    else expect(problem).toMatch(refusal);
  });

  test('an allowed command runs its real program with its words as they were quoted, no shell', () => {
    expect(
      policy({ ROLLOUT_ALLOW_COMMANDS: 'tools' }).prepareCommand(
        `./tools/restart.sh --group "read write" 'a;b'`,
      ),
    ).toEqual({
      argv: [path.join(tools, 'restart.sh'), '--group', 'read write', 'a;b'],
      text: `./tools/restart.sh --group "read write" 'a;b'`,
    });
  });

  test.each([
    ['a b  c', ['a', 'b', 'c']],
    [`x "a b" 'c d'e`, ['x', 'a b', 'c de']],
    ['x "unclosed', 'an unclosed "'],
    ['x | y', '"|"'],
    ['x\ny', '"\\n"'],
  ])('words of %j', (command, expected) => {
    const parsed = commandWords(command);
    expect('words' in parsed ? parsed.words : parsed.syntax).toEqual(expected);
  });

  test('a command gets the minimal environment, what ROLLOUT_COMMAND_ENV names, and the rollout context', () => {
    const env = policyFromEnv(
      {
        PATH: '/usr/bin:/bin',
        HOME: '/home/rollout',
        LANG: 'C.UTF-8',
        ADMIN_TOKEN: 'dev-admin-token',
        SECRET_KEY: 'sk-123456',
        TEMPORAL_API_KEY: 'tak-123456',
        AWS_REGION: 'eu-west-1',
        DEPLOY_TARGET: 'orders',
        ROLLOUT_COMMAND_ENV: 'DEPLOY_*',
      },
      root,
    ).commandEnv({ ROLLOUT_ID: 'rollout-x' });
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/rollout',
      LANG: 'C.UTF-8',
      DEPLOY_TARGET: 'orders',
      ROLLOUT_ID: 'rollout-x',
    });
  });
});

test('planProblems lists every refusal of a plan with its path', () => {
  const problems = policy().planProblems({
    target: {
      id: 'x',
      baseUrl: 'http://127.0.0.1:8000',
      traffic: {
        type: 'http',
        url: 'http://admin.example.com/admin/rollout',
        tokenEnv: 'SECRET_KEY',
        timeout: '10s',
      },
      metrics: { type: 'exposition', url: 'http://127.0.0.1:8000/metrics', timeout: '10s' },
      consistency: { type: 'sqlite-yaml', database: '/etc/shadow', yaml: 'data/cameras.yaml' },
    },
    notify: { webhookUrl: 'https://hooks.example.com/x' },
    phases: [
      {
        name: 'p',
        group: 'read',
        endpoints: ['GET /x'],
        approval: 'none',
        steps: [{ percent: 10, observe: '1m' }],
        checks: ['command'],
        command: { run: 'cat ~/.ssh/id_rsa', timeout: '1m' },
      },
      {
        name: 'q',
        group: 'write',
        endpoints: ['GET /y'],
        approval: 'none',
        steps: [{ percent: 10, observe: '1m' }],
        command: { run: 'never run: not in checks', timeout: '1m' },
      },
    ],
  });
  expect(problems.map((p) => p.path)).toEqual([
    'target.traffic.url',
    'target.traffic.tokenEnv',
    'target.consistency.database',
    'notify.webhookUrl',
    'phases[0].command.run',
  ]);
});
