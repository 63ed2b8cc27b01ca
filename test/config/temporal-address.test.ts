import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTemporalAddress, temporalSettings } from '../../src/client/config';

/** TEMPORAL_ADDRESS is checked before anything connects: a bad one is named with its value. */

test.each<[string, string]>([
  ['127.0.0.1:7233', '127.0.0.1:7233'],
  ['localhost:7233', 'localhost:7233'],
  ['localhost', 'localhost:7233'], // no port: the SDK's default, as the SDK itself adds it
  ['[::1]:7233', '[::1]:7233'],
  ['[::1]', '[::1]:7233'],
  ['ns.acct.tmprl.cloud:7233', 'ns.acct.tmprl.cloud:7233'],
  ['temporal_frontend:7233', 'temporal_frontend:7233'], // docker compose service names
  ['frontend.temporal.svc.cluster.local:443', 'frontend.temporal.svc.cluster.local:443'],
  ['127.0.0.1:07233', '127.0.0.1:7233'],
])('%p is an address: %p', (text, address) => {
  expect(parseTemporalAddress(text)).toEqual({ address });
});

test.each<[string, RegExp]>([
  ['http://127.0.0.1:7233', /without a scheme or path/],
  ['grpc://temporal:7233', /without a scheme or path/],
  ['127.0.0.1:7233/default', /without a scheme or path/],
  ['127.0.0.1:', /port "" is not 1\.\.65535/],
  ['127.0.0.1:0', /port "0" is not 1\.\.65535/],
  ['127.0.0.1:99999', /port "99999" is not 1\.\.65535/],
  ['127.0.0.1:72a', /must be host:port/],
  ['::1:7233', /must be host:port/], // IPv6 needs brackets
  ['[::g]:7233', /\[::g\] is not an IPv6 address/],
  [':7233', /"" is not a host name/],
  ['temporal server:7233', /"temporal server" is not a host name/],
  ['999.0.0.1:7233', /"999\.0\.0\.1" is not a host name or IP address/],
  ['a..b:7233', /"a\.\.b" is not a host name/],
  ['-frontend:7233', /"-frontend" is not a host name/],
  [' ', /" " is not a host name/],
])('%p is refused: %s', (text, problem) => {
  expect(parseTemporalAddress(text)).toEqual({ problem: expect.stringMatching(problem) });
});

describe('temporalSettings', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'address-home-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  test('a malformed TEMPORAL_ADDRESS is named with its value', () => {
    expect(() => temporalSettings({ HOME: home, TEMPORAL_ADDRESS: 'http://127.0.0.1:7233' })).toThrow(
      'TEMPORAL_ADDRESS: must be host:port, without a scheme or path (got "http://127.0.0.1:7233")',
    );
  });

  test('a malformed address from a profile names the profile and the file', () => {
    const toml = path.join(home, 'temporal.toml');
    fs.writeFileSync(toml, '[profile.prod]\naddress = "https://temporal.prod:7233"\n');
    expect(() =>
      temporalSettings({ HOME: home, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }),
    ).toThrow(`the address of profile prod in ${toml}: must be host:port`);
  });

  test('an address without a port gets 7233, so the reachability probe and messages show it', () => {
    expect(temporalSettings({ HOME: home, TEMPORAL_ADDRESS: 'temporal.internal' }).address).toBe(
      'temporal.internal:7233',
    );
  });
});
