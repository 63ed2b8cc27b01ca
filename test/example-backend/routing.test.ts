import { bucketOf, fnv1a } from '../../example-backend/routing';
import { inBatches, randomKey, startTestBackend, type TestBackend } from './helpers';

describe('example backend routing', () => {
  let backend: TestBackend;

  beforeEach(async () => {
    backend = await startTestBackend({ env: { ROLLOUT_PERCENT_READ: '30' } });
  });
  afterEach(async () => {
    await backend.dispose();
  });

  it('hashes keys stably into 0..9999', () => {
    expect(fnv1a('user-1')).toBe(fnv1a('user-1'));
    expect(fnv1a('a')).not.toBe(fnv1a('b'));
    for (let i = 0; i < 200; i++) {
      const b = bucketOf(`k${i}`);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(10_000);
    }
  });

  it('sends ~30% of keyed reads to domain, the same key always the same way, and no writes (0%)', async () => {
    const keys = Array.from({ length: 1000 }, randomKey);
    const first = await inBatches(keys.length, 50, (i) =>
      backend.request('GET', '/api/v1/alerts/rules', { headers: { 'X-Rollout-Key': keys[i] } }),
    );
    const domainShare = first.filter((r) => r.servedBy === 'domain').length / keys.length;
    expect(domainShare).toBeGreaterThanOrEqual(0.25);
    expect(domainShare).toBeLessThanOrEqual(0.35);
    expect(first.every((r) => r.status === 200)).toBe(true);

    // Stickiness: a different read route, same keys, same answers.
    const again = await inBatches(200, 50, (i) =>
      backend.request('GET', '/api/v1/system/info', { headers: { 'X-Rollout-Key': keys[i] } }),
    );
    again.forEach((r, i) => expect(r.servedBy).toBe(first[i].servedBy));

    // The write group stays at 0%.
    const writes = await inBatches(100, 25, (i) =>
      backend.request('DELETE', `/api/v1/cameras/missing-${i}`, { headers: { 'X-Rollout-Key': keys[i] } }),
    );
    expect(writes.every((r) => r.servedBy === 'legacy' && r.status === 404)).toBe(true);
  });

  it('splits unkeyed requests at random around the percent', async () => {
    const replies = await inBatches(600, 50, () => backend.request('GET', '/api/v1/alerts/rules'));
    const share = replies.filter((r) => r.servedBy === 'domain').length / replies.length;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.38);
  });

  it('changes live through PUT /admin/rollout, partially, and the kill switch wins over any percent', async () => {
    expect((await backend.admin('GET', '/admin/rollout')).body).toEqual({
      useDomainService: true,
      groups: { read: { percent: 30 }, write: { percent: 0 } },
    });

    const put = await backend.admin('PUT', '/admin/rollout', { groups: { write: { percent: 100 } } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      useDomainService: true,
      groups: { read: { percent: 30 }, write: { percent: 100 } },
    });
    const write = await backend.request('DELETE', '/api/v1/cameras/nope', {
      headers: { 'X-Rollout-Key': 'u1' },
    });
    expect(write.servedBy).toBe('domain');

    await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 100 } } });
    const reads = await inBatches(50, 25, () => backend.request('GET', '/api/v1/cameras'));
    expect(reads.every((r) => r.servedBy === 'domain')).toBe(true);

    const off = await backend.admin('PUT', '/admin/rollout', { useDomainService: false });
    expect(off.body).toEqual({
      useDomainService: false,
      groups: { read: { percent: 100 }, write: { percent: 100 } },
    });
    const afterKill = await inBatches(100, 25, (i) =>
      backend.request(i % 2 ? 'GET' : 'DELETE', i % 2 ? '/api/v1/cameras' : '/api/v1/cameras/nope', {
        headers: { 'X-Rollout-Key': randomKey() },
      }),
    );
    expect(afterKill.every((r) => r.servedBy === 'legacy')).toBe(true);

    // Forced probes still reach the domain implementation with the kill switch off.
    const forced = await backend.request('GET', '/api/v1/cameras', {
      headers: { 'X-Rollout-Force': 'domain' },
    });
    expect(forced.servedBy).toBe('domain');
  });

  it('lets probes force an implementation and rejects an unknown one', async () => {
    for (const impl of ['legacy', 'domain']) {
      const replies = await inBatches(20, 10, () =>
        backend.request('GET', '/api/v1/system/info', {
          headers: { 'X-Rollout-Force': impl, 'X-Rollout-Key': randomKey() },
        }),
      );
      expect(replies.every((r) => r.servedBy === impl && r.status === 200)).toBe(true);
    }
    const bad = await backend.request('GET', '/api/v1/system/info', {
      headers: { 'X-Rollout-Force': 'canary' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: expect.any(String), field: 'X-Rollout-Force' });
    expect(bad.servedBy).toBe('legacy');
  });

  it('starts with the kill switch off when USE_DOMAIN_SERVICE=false', async () => {
    const off = await startTestBackend({ env: { USE_DOMAIN_SERVICE: 'false', ROLLOUT_PERCENT: '100' } });
    try {
      expect((await off.admin('GET', '/admin/rollout')).body).toEqual({
        useDomainService: false,
        groups: { read: { percent: 100 }, write: { percent: 100 } },
      });
      const replies = await inBatches(40, 20, () => off.request('GET', '/api/v1/alerts/rules'));
      expect(replies.every((r) => r.servedBy === 'legacy')).toBe(true);
    } finally {
      await off.dispose();
    }
  });

  it('rejects invalid rollout bodies with 400 naming the field, and changes nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ groups: { read: { percent: 101 } } }, 'groups.read.percent'],
      [{ groups: { read: { percent: -1 } } }, 'groups.read.percent'],
      [{ groups: { write: { percent: '50' } } }, 'groups.write.percent'],
      [{ groups: { write: { percent: 0.5 } } }, 'groups.write.percent'],
      // JSON.parse makes `__proto__` an own key, as the server's parser does (a literal would not).
      [JSON.parse('{"groups":{"__proto__":{"percent":5}}}'), 'groups.__proto__'],
      [{ groups: { canary: { percent: 5 } } }, 'groups.canary'],
      [{ groups: { read: { pct: 5 } } }, 'groups.read.pct'],
      [{ useDomainService: 'yes' }, 'useDomainService'],
      [{ killSwitch: true }, 'killSwitch'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const reply = await backend.admin('PUT', '/admin/rollout', body);
      expect({ body, status: reply.status, field: reply.body?.field }).toEqual({ body, status: 400, field });
      expect(reply.body.error).toContain(field === 'body' ? 'body' : field);
    }
    const canary = await backend.admin('PUT', '/admin/rollout', { groups: { canary: { percent: 5 } } });
    expect(canary.body.error).toMatch(/unknown group/);
    const range = await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 101 } } });
    expect(range.body.error).toBe('groups.read.percent: must be a whole number 0..100');
    // RolloutPercent is an Int search attribute: a fractional step could never be recorded.
    const fraction = await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 2.5 } } });
    expect([fraction.status, fraction.body.error]).toEqual([
      400,
      'groups.read.percent: must be a whole number 0..100',
    ]);
    const broken = await backend.admin('PUT', '/admin/rollout', '{"groups":');
    expect(broken.status).toBe(400);
    expect(broken.body.field).toBe('body');

    expect((await backend.admin('GET', '/admin/rollout')).body).toEqual({
      useDomainService: true,
      groups: { read: { percent: 30 }, write: { percent: 0 } },
    });
  });
});
