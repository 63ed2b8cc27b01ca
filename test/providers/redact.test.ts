/**
 * What looks like a secret is taken out of what a rollout shows (command output, error bodies,
 * store differences), as a table: each row a line as it could reach `status`, and what is left.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createRedactor, redactDeep, redactError, secretValues } from '../../src/providers/redact';

const env = {
  ADMIN_TOKEN: 'dev-admin-token',
  ROLLOUT_TOKEN_ORDERS: 'orders-Tok3n-value',
  TEMPORAL_API_KEY: 'tak_live_abcdef',
  DB_PASSWORD: 'hunter2hunter2',
  SHORT_TOKEN: 'abc',
  PATH: '/usr/bin:/bin',
  GREETING: 'hello world',
  ROUTE: 'orders-Tok3n-value-is-not-a-secret-name', // a value that contains a secret: the secret part goes
};
const redact = createRedactor(secretValues(env, (name) => name.startsWith('ROLLOUT_TOKEN_')));

test('the secrets of the environment: secret-looking names and the tokenEnv allow-list, long enough values', () => {
  expect(secretValues(env, (name) => name.startsWith('ROLLOUT_TOKEN_')).sort()).toEqual(
    ['dev-admin-token', 'hunter2hunter2', 'orders-Tok3n-value', 'tak_live_abcdef'].sort(),
  );
});

test.each([
  // the values of known secrets, wherever they are
  ['auth failed for dev-admin-token at /admin', 'auth failed for [redacted] at /admin'],
  ['{"key":"orders-Tok3n-value"}', '{"key":"[redacted]"}'],
  ['route orders-Tok3n-value-is-not-a-secret-name', 'route [redacted]-is-not-a-secret-name'],
  // credentials after an auth scheme
  ['Authorization: Bearer eyJhbGciOi.x', 'Authorization: Bearer [redacted]'],
  ['curl -H "Authorization: Basic dXNlcjpwYXNz"', 'curl -H "Authorization: Basic [redacted]"'],
  // key = value, key: value, JSON, query strings
  ['password=s3cret&user=bob', 'password=[redacted]&user=bob'],
  ['db connect: PASSWORD: "p@ss word"', 'db connect: PASSWORD: "[redacted]"'],
  ['{"api_key":"k-123","name":"cam"}', '{"api_key":"[redacted]","name":"cam"}'],
  ['GET /x?token=abc123&page=2', 'GET /x?token=[redacted]&page=2'],
  ["secret: 'xyz'", "secret: '[redacted]'"],
  ['Cookie: session=abcdef', 'Cookie: [redacted]'],
  // URLs with a password
  [
    'connect postgres://app:pa55w0rd@db:5432/app failed',
    'connect postgres://app:[redacted]@db:5432/app failed',
  ],
  // tokens by their look
  [
    'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'jwt [redacted]',
  ],
  ['sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 done', 'sha [redacted] done'],
  ['key AKIAabcdEFGH1234ijklMNOP5678qrstUVWX90yz', 'key [redacted]'],
  ['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', '[redacted private key]'],
  // ordinary text stays as it is
  [
    'GET /api/v1/system/info via domain: status 500: {"error":"db down"}',
    'GET /api/v1/system/info via domain: status 500: {"error":"db down"}',
  ],
  [
    'after create: rollout-probe-0a1b2c3d4e in database, yaml',
    'after create: rollout-probe-0a1b2c3d4e in database, yaml',
  ],
  [
    '/work/main/node_modules/@temporalio/worker/lib/worker.js:123',
    '/work/main/node_modules/@temporalio/worker/lib/worker.js:123',
  ],
  [
    'target.traffic.tokenEnv: tokenEnv SECRET_KEY is not allowed',
    'target.traffic.tokenEnv: tokenEnv SECRET_KEY is not allowed',
  ],
  ['hello world, short abc', 'hello world, short abc'],
])('%j', (text, expected) => {
  expect(redact(text)).toBe(expected);
});

test('a report is redacted string by string, its numbers and shape kept', () => {
  expect(
    redactDeep(
      { ok: false, exitCode: 1, output: 'token=abc', steps: ['Bearer xyz123', 'fine'], at: null },
      redact,
    ),
  ).toEqual({
    ok: false,
    exitCode: 1,
    output: 'token=[redacted]',
    steps: ['Bearer [redacted]', 'fine'],
    at: null,
  });
});

test('a failure keeps its type and retry policy, its message and stack redacted', () => {
  const err = ApplicationFailure.nonRetryable(
    'PUT http://127.0.0.1/admin: HTTP 401: "bad token dev-admin-token"',
    'RolloutAuthError',
  );
  const out = redactError(err, redact) as ApplicationFailure;
  expect(out).toBe(err);
  expect(out.message).toBe('PUT http://127.0.0.1/admin: HTTP 401: "bad token [redacted]"');
  expect(out.stack).not.toContain('dev-admin-token');
  expect(out.type).toBe('RolloutAuthError');
  expect(out.nonRetryable).toBe(true);
});

test('redacting twice changes nothing more', () => {
  for (const text of [
    'password=hunter22 as x',
    'Authorization: Bearer abc.def',
    '{"token":"abc"}',
    'https://u:p4ss@h/x',
  ])
    expect(redact(redact(text))).toBe(redact(text));
});
