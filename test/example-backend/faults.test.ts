import { inBatches, startTestBackend, TOKEN, type TestBackend } from './helpers';

describe('example backend faults and admin auth', () => {
  let backend: TestBackend;

  beforeEach(async () => {
    backend = await startTestBackend();
  });
  afterEach(async () => {
    await backend.dispose();
  });

  const forced = (impl: string, path = '/api/v1/alerts/rules') =>
    backend.request('GET', path, { headers: { 'X-Rollout-Force': impl } });

  it('errorRate answers about that share of one implementation’s requests with 500 "injected fault"', async () => {
    const put = await backend.admin('PUT', '/admin/faults', { domain: { errorRate: 0.3 } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      domain: { errorRate: 0.3, latencyMs: 0, yamlDesync: false },
      legacy: { errorRate: 0, latencyMs: 0, yamlDesync: false },
    });

    const domain = await inBatches(500, 50, () => forced('domain'));
    const failed = domain.filter((r) => r.status === 500);
    expect(failed.length / domain.length).toBeGreaterThan(0.22);
    expect(failed.length / domain.length).toBeLessThan(0.38);
    expect(failed.every((r) => r.body.error === 'injected fault' && r.servedBy === 'domain')).toBe(true);

    const legacy = await inBatches(200, 50, () => forced('legacy'));
    expect(legacy.every((r) => r.status === 200)).toBe(true);

    // Routed (unforced) traffic to the domain side sees the fault as well.
    await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 100 } } });
    await backend.admin('PUT', '/admin/faults', { domain: { errorRate: 1 } });
    const routed = await inBatches(20, 10, () => backend.request('GET', '/api/v1/cameras'));
    expect(routed.every((r) => r.status === 500 && r.servedBy === 'domain')).toBe(true);

    const cleared = await backend.admin('DELETE', '/admin/faults');
    expect(cleared.status).toBe(200);
    expect(cleared.body.domain).toEqual({ errorRate: 0, latencyMs: 0, yamlDesync: false });
    const healthy = await inBatches(50, 25, () => forced('domain'));
    expect(healthy.every((r) => r.status === 200)).toBe(true);
  });

  it('latencyMs delays only the faulty implementation', async () => {
    await backend.admin('PUT', '/admin/faults', { legacy: { latencyMs: 250 } });
    const time = async (impl: string) => {
      const started = Date.now();
      const reply = await forced(impl, '/api/v1/system/info');
      expect(reply.status).toBe(200);
      return Date.now() - started;
    };
    const legacy = await Promise.all([time('legacy'), time('legacy'), time('legacy')]);
    const domain = [await time('domain'), await time('domain'), await time('domain')].sort((a, b) => a - b);
    for (const ms of legacy) expect(ms).toBeGreaterThanOrEqual(245);
    expect(domain[1]).toBeLessThan(150);
  });

  it('merges partial fault updates and rejects invalid bodies with 400 naming the field', async () => {
    await backend.admin('PUT', '/admin/faults', { domain: { errorRate: 0.5, latencyMs: 10 } });
    const merged = await backend.admin('PUT', '/admin/faults', { domain: { yamlDesync: true } });
    expect(merged.body.domain).toEqual({ errorRate: 0.5, latencyMs: 10, yamlDesync: true });

    const cases: Array<[unknown, string]> = [
      [{ domain: { errorRate: 1.5 } }, 'domain.errorRate'],
      [{ domain: { errorRate: '0.1' } }, 'domain.errorRate'],
      [{ legacy: { latencyMs: -1 } }, 'legacy.latencyMs'],
      [{ legacy: { yamlDesync: 'yes' } }, 'legacy.yamlDesync'],
      [{ legacy: { errorrate: 0.1 } }, 'legacy.errorrate'],
      [{ canary: { errorRate: 0.1 } }, 'canary'],
      [{ domain: 1 }, 'domain'],
      ['"x"', 'body'],
    ];
    for (const [body, field] of cases) {
      const reply = await backend.admin('PUT', '/admin/faults', body);
      expect({ body, status: reply.status, field: reply.body?.field }).toEqual({ body, status: 400, field });
      expect(reply.body.error).toContain(field);
    }
    expect((await backend.admin('GET', '/admin/faults')).body.domain).toEqual({
      errorRate: 0.5,
      latencyMs: 10,
      yamlDesync: true,
    });
  });

  it('requires the bearer token on every admin route, but not on /metrics and /healthz', async () => {
    const routes: Array<[string, string, unknown]> = [
      ['GET', '/admin/rollout', undefined],
      ['PUT', '/admin/rollout', { useDomainService: false }],
      ['GET', '/admin/faults', undefined],
      ['PUT', '/admin/faults', { domain: { errorRate: 1 } }],
      ['DELETE', '/admin/faults', undefined],
    ];
    for (const [method, path, body] of routes) {
      for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }] as Array<
        Record<string, string>
      >) {
        const reply = await backend.request(method, path, { body, headers });
        expect({ method, path, headers, status: reply.status }).toEqual({
          method,
          path,
          headers,
          status: 401,
        });
        expect(typeof reply.body.error).toBe('string');
      }
    }
    // Nothing changed behind the 401s.
    expect((await backend.admin('GET', '/admin/rollout')).body.useDomainService).toBe(true);
    expect((await backend.admin('GET', '/admin/faults')).body.domain.errorRate).toBe(0);
    expect((await backend.request('GET', '/metrics')).status).toBe(200);
    expect((await backend.request('GET', '/healthz')).status).toBe(200);
  });

  it('leaves admin routes open when no token is configured', async () => {
    const open = await startTestBackend({ adminToken: undefined });
    try {
      expect((await open.request('GET', '/admin/rollout')).status).toBe(200);
      expect(
        (await open.request('PUT', '/admin/faults', { body: { legacy: { latencyMs: 1 } } })).status,
      ).toBe(200);
    } finally {
      await open.dispose();
    }
  });
});
