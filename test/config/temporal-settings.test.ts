import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalSettings } from '../../src/client/config';

/** Connection settings read like the SDKs and the `temporal` CLI read them (SPEC §3). */

let home: string;
beforeEach(() => {
  // A home of our own: the developer's ~/.config/temporalio/temporal.toml must not leak in.
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-home-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

const settings = (vars: Record<string, string>) => temporalSettings({ HOME: home, ...vars });
const file = (name: string, text: string) => {
  const p = path.join(home, name);
  fs.writeFileSync(p, text);
  return p;
};

test('nothing set: the local dev server, namespace default, task queue rollouts, no TLS', () => {
  expect(settings({})).toEqual({
    address: '127.0.0.1:7233',
    namespace: 'default',
    taskQueue: 'rollouts',
    apiKey: undefined,
    tls: undefined,
    metadata: undefined,
  });
});

test.each<[string, Record<string, string>, unknown]>([
  ['an API key turns TLS on', { TEMPORAL_API_KEY: 'k' }, true],
  [
    'TEMPORAL_TLS=true without certificates',
    { TEMPORAL_TLS: 'true' },
    expect.objectContaining({ clientCertPair: undefined }),
  ],
  ['TEMPORAL_TLS=false wins over an API key', { TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }, false],
])('%s', (_name, vars, tls) => {
  expect(settings(vars).tls).toEqual(tls);
});

test('address, namespace and task queue from their variables', () => {
  expect(
    settings({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      ROLLOUT_TASK_QUEUE: 'canary',
    }),
  ).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', taskQueue: 'canary' });
});

test("mTLS from the temporal CLI's variables: certificate, key, CA and server name", () => {
  const crt = file('client.pem', 'CERT');
  const key = file('client.key', 'KEY');
  const ca = file('ca.pem', 'CA');
  const tls = settings({
    TEMPORAL_TLS_CLIENT_CERT_PATH: crt,
    TEMPORAL_TLS_CLIENT_KEY_PATH: key,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
    TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  }).tls as {
    clientCertPair: { crt: Buffer; key: Buffer };
    serverRootCACertificate: Buffer;
    serverNameOverride: string;
  };
  expect(Buffer.isBuffer(tls.clientCertPair.crt)).toBe(true);
  expect(tls.clientCertPair.crt.toString()).toBe('CERT');
  expect(tls.clientCertPair.key.toString()).toBe('KEY');
  expect(tls.serverRootCACertificate.toString()).toBe('CA');
  expect(tls.serverNameOverride).toBe('temporal.internal');
});

test('a profile of a temporal.toml, with variables winning over the file', () => {
  const toml = file(
    'temporal.toml',
    [
      '[profile.prod]',
      'address = "temporal.prod:7233"',
      'namespace = "rollouts"',
      'api_key = "from-file"',
      '',
    ].join('\n'),
  );
  expect(settings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' })).toMatchObject({
    address: 'temporal.prod:7233',
    namespace: 'rollouts',
    apiKey: 'from-file',
    tls: true,
  });
  expect(
    settings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'staging' })
      .namespace,
  ).toBe('staging');
});

test('the default file ~/.config/temporalio/temporal.toml is read, as the temporal CLI reads it', () => {
  fs.mkdirSync(path.join(home, '.config/temporalio'), { recursive: true });
  file('.config/temporalio/temporal.toml', '[profile.default]\naddress = "from-home:7233"\n');
  expect(settings({}).address).toBe('from-home:7233');
});

test.each<[string, () => Record<string, string>, RegExp]>([
  [
    'a certificate file that is not there names the file',
    () => ({
      TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(home, 'nope.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(home, 'nope.key'),
    }),
    /invalid Temporal client configuration.*nope\.(pem|key)/,
  ],
  [
    'a config file that is not TOML names the file',
    () => ({ TEMPORAL_CONFIG_FILE: file('broken.toml', '[profile.x\naddress = ') }),
    /invalid Temporal client configuration \(.*broken\.toml\)/,
  ],
  [
    'an empty task queue names the variable',
    () => ({ ROLLOUT_TASK_QUEUE: '' }),
    /invalid environment: ROLLOUT_TASK_QUEUE/,
  ],
])('%s', (_name, vars, error) => {
  expect(() => settings(vars())).toThrow(error);
});
