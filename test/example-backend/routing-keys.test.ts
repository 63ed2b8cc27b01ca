import { RoutingKeys } from '../../example-backend/routing-keys';
import type { Group, Impl } from '../../example-backend/schemas';
import { startTestBackend, type TestBackend } from './helpers';

type Step = ['record', Group, Impl, string | undefined] | ['reset', Group];

describe('RoutingKeys', () => {
  // Every row names its cap (undefined: the default): jest reads a missing last argument as `done`.
  test.each<[string, Step[], Partial<Record<`${Group}/${Impl}`, number>>, number | undefined]>([
    [
      'nothing routed',
      [],
      { 'read/legacy': 0, 'read/domain': 0, 'write/legacy': 0, 'write/domain': 0 },
      undefined,
    ],
    [
      'a key counts once however often it comes',
      [
        ['record', 'read', 'domain', 'u1'],
        ['record', 'read', 'domain', 'u1'],
        ['record', 'read', 'domain', 'u2'],
      ],
      { 'read/domain': 2, 'read/legacy': 0 },
      undefined,
    ],
    [
      'each keyless request is a key of its own',
      [
        ['record', 'write', 'legacy', undefined],
        ['record', 'write', 'legacy', undefined],
        ['record', 'write', 'legacy', 'u1'],
      ],
      { 'write/legacy': 3 },
      undefined,
    ],
    [
      'groups and sides are counted apart',
      [
        ['record', 'read', 'domain', 'u1'],
        ['record', 'read', 'legacy', 'u1'],
        ['record', 'write', 'domain', 'u1'],
      ],
      { 'read/domain': 1, 'read/legacy': 1, 'write/domain': 1, 'write/legacy': 0 },
      undefined,
    ],
    [
      'a reset clears that group only',
      [
        ['record', 'read', 'domain', 'u1'],
        ['record', 'write', 'domain', 'u1'],
        ['reset', 'read'],
        ['record', 'read', 'legacy', 'u2'],
      ],
      { 'read/domain': 0, 'read/legacy': 1, 'write/domain': 1 },
      undefined,
    ],
    [
      'at the cap the cap is reported',
      [
        ['record', 'read', 'domain', 'a'],
        ['record', 'read', 'domain', 'b'],
        ['record', 'read', 'domain', 'c'],
        ['record', 'read', 'domain', 'd'],
        ['record', 'read', 'domain', undefined],
        ['record', 'read', 'legacy', 'a'],
      ],
      { 'read/domain': 3, 'read/legacy': 1 },
      3,
    ],
  ])('%s', (_name, steps, expected, cap) => {
    const keys = new RoutingKeys(cap);
    for (const step of steps) {
      if (step[0] === 'record') keys.record(step[1], step[2], step[3]);
      else keys.reset(step[1]);
    }
    for (const [at, n] of Object.entries(expected)) {
      const [group, impl] = at.split('/') as [Group, Impl];
      expect([at, keys.count(group, impl)]).toEqual([at, n]);
    }
  });
});

describe('rollout_routing_keys on the backend', () => {
  let backend: TestBackend;

  beforeEach(async () => {
    backend = await startTestBackend({ env: { ROLLOUT_PERCENT_READ: '100', ROLLOUT_PERCENT_WRITE: '0' } });
  });
  afterEach(async () => {
    await backend.dispose();
  });

  const gauge = async () => {
    const { text } = await backend.request('GET', '/metrics');
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^rollout_routing_keys\{group="(\w+)",impl="(\w+)"\} (\S+)$/gm))
      out[`${m[1]}/${m[2]}`] = Number(m[3]);
    return out;
  };
  const get = (path: string, headers: Record<string, string> = {}) =>
    backend.request('GET', path, { headers }).then((r) => expect(r.status).toBe(200));

  it('counts distinct keys per group and side, not probes, and starts over when the routing changes', async () => {
    expect(await gauge()).toEqual({
      'read/legacy': 0,
      'read/domain': 0,
      'write/legacy': 0,
      'write/domain': 0,
    });

    // One user on two read endpoints is one key; a keyless request is one more.
    await get('/api/v1/cameras', { 'X-Rollout-Key': 'alice' });
    await get('/api/v1/system/info', { 'X-Rollout-Key': 'alice' });
    await get('/api/v1/alerts/rules', { 'X-Rollout-Key': 'bob' });
    await get('/api/v1/alerts/rules');
    // Probes choose their side themselves: not the router's keys.
    await get('/api/v1/cameras', { 'X-Rollout-Key': 'probe', 'X-Rollout-Force': 'domain' });
    await get('/api/v1/cameras', { 'X-Rollout-Key': 'probe', 'X-Rollout-Force': 'legacy' });
    // Writes at 0%: legacy.
    const write = await backend.request('DELETE', '/api/v1/cameras/nobody', {
      headers: { 'X-Rollout-Key': 'alice' },
    });
    expect(write.status).toBe(404);
    expect(await gauge()).toEqual({
      'read/legacy': 0,
      'read/domain': 3,
      'write/legacy': 1,
      'write/domain': 0,
    });

    // Setting the same percent again changes no routing.
    await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 100 } } });
    expect((await gauge())['read/domain']).toBe(3);

    // A percent change starts the group over; the other group keeps its keys.
    await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 50 } } });
    expect(await gauge()).toEqual({
      'read/legacy': 0,
      'read/domain': 0,
      'write/legacy': 1,
      'write/domain': 0,
    });
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    for (const user of [...users, ...users]) await get('/api/v1/cameras', { 'X-Rollout-Key': user });
    const split = await gauge();
    expect(split['read/legacy'] + split['read/domain']).toBe(40);
    expect(split['read/legacy']).toBeGreaterThan(0);
    expect(split['read/domain']).toBeGreaterThan(0);

    // The kill switch changes every group's routing.
    await backend.admin('PUT', '/admin/rollout', { useDomainService: false });
    expect(await gauge()).toEqual({
      'read/legacy': 0,
      'read/domain': 0,
      'write/legacy': 0,
      'write/domain': 0,
    });
  });
});
