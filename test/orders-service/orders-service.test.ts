import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Deleted, ErrorBody, Order, OrderList } from '../fixtures/orders-service/schemas';
import { startOrdersTraffic } from '../fixtures/orders-service/traffic';
import { ADMIN_TOKEN, IMPLS, sample, startOrders, type OrdersUnderTest } from './helpers';

jest.setTimeout(20_000);

describe('orders service (second example target)', () => {
  let svc: OrdersUnderTest;

  beforeAll(async () => {
    svc = await startOrders();
  });
  afterAll(async () => {
    await svc.dispose();
  });
  afterEach(async () => {
    await svc.admin('DELETE', '/admin/faults');
    await svc.admin('PUT', '/admin/rollout', {
      useDomainService: true,
      groups: { read: { percent: 0 }, write: { percent: 0 } },
    });
  });

  const expectStoresAgree = () => expect(svc.yamlOrders()).toEqual(svc.dbOrders());

  it('seeds three orders, the same in both stores', async () => {
    expect(svc.dbOrders().map((o) => [o.order_id, o.customer])).toEqual([
      [1, 'acme'],
      [2, 'globex'],
      [3, 'initech'],
    ]);
    expectStoresAgree();
    expect(fs.readFileSync(svc.yamlPath, 'utf8')).toMatch(/^%YAML 1\.2\n---\norders:\n/);
    expect((await svc.call('GET', '/healthz')).status).toBe(200);
  });

  it.each(IMPLS)('%s: create, read, patch, delete', async (impl) => {
    const created = await svc.call('POST', '/orders', {
      force: impl,
      body: { customer: `crud-${impl}`, amount_cents: 1999, currency: 'USD' },
    });
    expect([created.status, created.servedBy]).toEqual([201, impl]);
    const order = Order.parse(created.body);
    expect(order).toMatchObject({
      customer: `crud-${impl}`,
      amount_cents: 1999,
      currency: 'USD',
      note: null,
      status: 'open',
    });
    expect(order.order_id).toBeGreaterThan(3);
    expectStoresAgree();

    for (const reader of IMPLS) {
      const one = await svc.call('GET', `/orders/${order.order_id}`, { force: reader });
      expect([one.status, one.servedBy, one.body]).toEqual([200, reader, order]);
      const mine = await svc.call('GET', `/orders?customer=crud-${impl}`, { force: reader });
      expect(OrderList.parse(mine.body)).toEqual({ data: [order], count: 1 });
    }

    const patched = await svc.call('PATCH', `/orders/${order.order_id}`, {
      force: impl,
      body: { status: 'paid', note: 'wire' },
    });
    expect([patched.status, patched.servedBy]).toEqual([200, impl]);
    expect(Order.parse(patched.body)).toEqual({ ...order, status: 'paid', note: 'wire' });
    expectStoresAgree();

    const deleted = await svc.call('DELETE', `/orders/${order.order_id}`, { force: impl });
    expect([deleted.status, Deleted.parse(deleted.body)]).toEqual([
      200,
      { order_id: order.order_id, deleted: true },
    ]);
    expectStoresAgree();
    const gone = await svc.call('GET', `/orders/${order.order_id}`, { force: impl });
    expect([gone.status, gone.body]).toEqual([404, { message: `order ${order.order_id} not found` }]);
  });

  it('ids keep increasing after the newest order is deleted', async () => {
    const first = (
      await svc.call('POST', '/orders', { body: { customer: 'ids', amount_cents: 1, currency: 'EUR' } })
    ).body;
    await svc.call('DELETE', `/orders/${first.order_id}`);
    const second = (
      await svc.call('POST', '/orders', {
        force: 'domain',
        body: { customer: 'ids', amount_cents: 1, currency: 'EUR' },
      })
    ).body;
    expect(second.order_id).toBe(first.order_id + 1);
    await svc.call('DELETE', `/orders/${second.order_id}`);
  });

  // Every row has its body slot: jest takes a parameter past the row's length for a done-callback.
  it.each<[string, string, unknown]>([
    ['GET', '/orders', undefined],
    ['GET', '/orders?customer=globex', undefined],
    ['GET', '/orders/2', undefined],
    ['GET', '/orders/999', undefined],
    ['GET', '/orders/abc', undefined],
    ['GET', '/orders?custmer=acme', undefined],
    ['PATCH', '/orders/999', { note: 'x' }],
    ['DELETE', '/orders/999', undefined],
    ['DELETE', '/orders/1.5', undefined],
  ])('%s %s answers the same through both implementations', async (method, url, body) => {
    const [legacy, domain] = await Promise.all(IMPLS.map((force) => svc.call(method, url, { force, body })));
    expect([legacy.servedBy, domain.servedBy]).toEqual(['legacy', 'domain']);
    expect(domain.status).toBe(legacy.status);
    expect(domain.body).toEqual(legacy.body);
    if (legacy.status >= 400) ErrorBody.parse(legacy.body);
  });

  const BAD_BODIES: Array<[string, string, unknown, string]> = [
    ['POST', '/orders', { customer: 'a', amount_cents: 0, currency: 'EUR' }, 'amount_cents'],
    ['POST', '/orders', { customer: 'a', amount_cents: 1.5, currency: 'EUR' }, 'amount_cents'],
    ['POST', '/orders', { customer: 'a', amount_cents: '5', currency: 'EUR' }, 'amount_cents'],
    ['POST', '/orders', { customer: 'a', amount_cents: 5, currency: 'JPY' }, 'currency'],
    ['POST', '/orders', { customer: '', amount_cents: 5, currency: 'EUR' }, 'customer'],
    ['POST', '/orders', { customer: 'x'.repeat(101), amount_cents: 5, currency: 'EUR' }, 'customer'],
    ['POST', '/orders', { amount_cents: 5, currency: 'EUR' }, 'customer'],
    ['POST', '/orders', { customer: 'a', amount_cents: 5, currency: 'EUR', status: 'paid' }, 'status'],
    ['POST', '/orders', [1, 2], 'body'],
    ['PATCH', '/orders/1', {}, 'body'],
    ['PATCH', '/orders/1', { status: 'shipped' }, 'status'],
    ['PATCH', '/orders/1', { note: 7 }, 'note'],
    ['PATCH', '/orders/1', { order_id: 9 }, 'order_id'],
  ];
  it.each(IMPLS.flatMap((impl) => BAD_BODIES.map((c) => [impl, ...c] as const)))(
    '%s: %s %s %j → 422 naming %s, nothing stored',
    async (impl, method, url, body, field) => {
      const before = svc.snapshot();
      const answer = await svc.call(method, url, { force: impl, body });
      expect([answer.status, answer.servedBy, answer.body.field]).toEqual([422, impl, field]);
      ErrorBody.parse(answer.body);
      expect(svc.snapshot()).toEqual(before);
    },
  );

  it.each(IMPLS.flatMap((impl) => (['yaml', 'db'] as const).map((store) => [impl, store] as const)))(
    '%s: an injected %s failure fails every write and changes neither store',
    async (impl, store) => {
      const headers = { 'X-Rollout-Inject-Failure': store };
      const before = svc.snapshot();
      for (const [method, url, body] of [
        ['POST', '/orders', { customer: 'atomic', amount_cents: 5, currency: 'GBP' }],
        ['PATCH', '/orders/1', { amount_cents: 7 }],
        ['DELETE', '/orders/2', undefined],
      ] as const) {
        const answer = await svc.call(method, url, { force: impl, headers, body });
        expect([method, answer.status, answer.servedBy]).toEqual([method, 500, impl]);
        expect(answer.body).toEqual({ message: `injected ${store} write failure` });
        expect(svc.snapshot()).toEqual(before);
      }
      expect(fs.readdirSync(svc.dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const unforced = await svc.call('DELETE', '/orders/2', { headers });
      expect([unforced.status, unforced.body.field]).toEqual([400, 'X-Rollout-Inject-Failure']);
      expect(svc.snapshot()).toEqual(before);
    },
  );

  it('yamlDesync makes one side write SQLite only', async () => {
    expect((await svc.admin('PUT', '/admin/faults', { domain: { yamlDesync: true } })).status).toBe(200);
    const created = await svc.call('POST', '/orders', {
      force: 'domain',
      body: { customer: 'desync', amount_cents: 5, currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    const id = created.body.order_id;
    expect(svc.dbOrders().map((o) => o.order_id)).toContain(id);
    expect(svc.yamlOrders().map((o) => o.order_id)).not.toContain(id);
    // Each side reads its own store, so the drift shows through the API too.
    expect((await svc.call('GET', `/orders/${id}`, { force: 'domain' })).status).toBe(200);
    expect((await svc.call('GET', `/orders/${id}`, { force: 'legacy' })).status).toBe(404);
    await svc.admin('DELETE', '/admin/faults');
    await svc.call('DELETE', `/orders/${id}`, { force: 'legacy' });
    expectStoresAgree();
  });

  it('errorRate and latencyMs hit only the implementation they are set for', async () => {
    await svc.admin('PUT', '/admin/faults', { domain: { errorRate: 1 }, legacy: { latencyMs: 300 } });
    const broken = await svc.call('GET', '/orders/1', { force: 'domain' });
    expect([broken.status, broken.servedBy, broken.body]).toEqual([
      500,
      'domain',
      { message: 'injected fault' },
    ]);
    const started = Date.now();
    expect((await svc.call('GET', '/orders/1', { force: 'legacy' })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('forced requests count as probes only; served ones by route template', async () => {
    const labels = { route: '/orders/{order_id}', method: 'GET', status: '200' };
    const before = await svc.metrics();
    await svc.call('GET', '/orders/3', { force: 'domain' });
    await svc.call('GET', '/orders/3', { force: 'domain' });
    await svc.call('GET', '/orders/3');
    const after = await svc.metrics();
    const delta = (name: string, extra: Record<string, string>) =>
      sample(after, name, { ...labels, ...extra }) - sample(before, name, { ...labels, ...extra });
    expect(delta('rollout_probe_requests_total', { impl: 'domain' })).toBe(2);
    expect(delta('http_requests_total', { impl: 'domain' })).toBe(0);
    expect(delta('http_request_duration_seconds_count', { impl: 'domain' })).toBe(0);
    expect(delta('http_requests_total', { impl: 'legacy' })).toBe(1);
    expect(delta('http_request_duration_seconds_count', { impl: 'legacy' })).toBe(1);
    expect(after).toMatch(
      /http_request_duration_seconds_bucket\{le="0.005",route="\/orders\/\{order_id\}",method="GET",impl="legacy",status="200"\}/,
    );
  });

  it('routes unforced requests by group percent, sticky per X-Rollout-Key', async () => {
    const put = await svc.admin('PUT', '/admin/rollout', { groups: { read: { percent: 100 } } });
    expect(put.body).toEqual({
      useDomainService: true,
      groups: { read: { percent: 100 }, write: { percent: 0 } },
    });
    for (const url of ['/orders', '/orders/1']) expect((await svc.call('GET', url)).servedBy).toBe('domain');
    expect((await svc.call('DELETE', '/orders/999')).servedBy).toBe('legacy');

    await svc.admin('PUT', '/admin/rollout', { useDomainService: false });
    expect((await svc.call('GET', '/orders')).servedBy).toBe('legacy');

    await svc.admin('PUT', '/admin/rollout', { useDomainService: true, groups: { read: { percent: 50 } } });
    const sides = new Map<string, Set<string>>();
    for (let i = 0; i < 60; i++) {
      const key = `user-${i % 12}`;
      const answer = await svc.call('GET', '/orders/1', { headers: { 'X-Rollout-Key': key } });
      sides.set(key, (sides.get(key) ?? new Set()).add(answer.servedBy!));
    }
    expect([...sides.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...sides.values()].flatMap((s) => [...s]))).toEqual(new Set(IMPLS));
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { Authorization: 'Bearer nope' }],
  ])('admin routes refuse %s', async (_what, headers) => {
    for (const url of ['/admin/rollout', '/admin/faults']) {
      const answer = await svc.call('GET', url, { headers });
      expect([answer.status, ErrorBody.parse(answer.body).message]).toEqual([
        401,
        'missing or wrong admin token',
      ]);
    }
    expect((await svc.admin('GET', '/admin/rollout')).body).toEqual({
      useDomainService: true,
      groups: { read: { percent: 0 }, write: { percent: 0 } },
    });
  });

  it.each([
    ['GET', '/nope', {}, 404, undefined],
    ['GET', '/orders/1/items', {}, 404, undefined],
    ['PUT', '/orders/1', {}, 405, undefined],
    ['DELETE', '/orders', {}, 405, undefined],
    ['POST', '/orders', { raw: '{"customer": ' }, 400, 'body'],
    ['PATCH', '/orders/1', { raw: 'null,' }, 400, 'body'],
    [
      'POST',
      '/orders',
      { raw: 'customer=a', headers: { 'Content-Type': 'text/plain' } },
      415,
      'Content-Type',
    ],
    ['GET', '/orders/%E0%A4%A', {}, 400, 'path'],
    ['GET', '/orders/0', {}, 400, 'order_id'],
    ['GET', '/orders?customer=a&customer=b', {}, 400, 'customer'],
    ['GET', '/orders', { force: 'canary' }, 400, 'X-Rollout-Force'],
  ] as const)('%s %s %j → %i { message, field: %s }', async (method, url, init, status, field) => {
    const answer = await svc.call(method, url, init);
    expect(answer.status).toBe(status);
    expect(ErrorBody.parse(answer.body).field).toBe(field);
    if (url.startsWith('/orders')) expect(['legacy', 'domain']).toContain(answer.servedBy);
    if (status === 405) expect(answer.headers.get('allow')).toMatch(/OPTIONS$/);
  });

  it('a restart keeps the orders and does not seed again', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-restart-'));
    const first = await startOrders({ dataDir, env: { ROLLOUT_PERCENT_READ: '100' } });
    expect((await first.admin('GET', '/admin/rollout')).body.groups.read.percent).toBe(100);
    await first.call('DELETE', '/orders/3');
    await first.close();
    const second = await startOrders({ dataDir });
    try {
      expect(second.dbOrders().map((o) => o.order_id)).toEqual([1, 2]);
      expect(
        (await second.call('POST', '/orders', { body: { customer: 'z', amount_cents: 1, currency: 'EUR' } }))
          .body.order_id,
      ).toBe(4);
    } finally {
      await second.dispose();
    }
  });

  it('traffic: 2 s at 20 rps, touches no probe order, leaves no traffic-* order', async () => {
    const probe = (
      await svc.call('POST', '/orders', {
        force: 'legacy',
        body: { customer: 'rollout-probe', amount_cents: 1, currency: 'EUR' },
      })
    ).body;
    await svc.admin('PUT', '/admin/rollout', { groups: { read: { percent: 50 }, write: { percent: 50 } } });
    const traffic = startOrdersTraffic({ target: svc.url, rps: 20, writeRatio: 0.4, users: 50 });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const stats = await traffic.stop();
    expect(stats.sent).toBeGreaterThanOrEqual(30);
    expect(stats.completed).toBe(stats.sent);
    expect([stats.errors, stats.cleanup.failed, stats.ownedOrders]).toEqual([0, 0, 0]);
    expect(stats.writes).toBeGreaterThan(0);
    expect(stats.byStatus['201']).toBeGreaterThan(0);
    expect(Object.keys(stats.byImpl).sort()).toEqual(['domain', 'legacy']);
    for (const orders of [svc.dbOrders(), svc.yamlOrders()]) {
      expect(orders.filter((o) => String(o.customer).startsWith('traffic-'))).toEqual([]);
      expect(orders.find((o) => o.order_id === probe.order_id)).toEqual(probe);
    }
    expectStoresAgree();
  });

  it('server.ts: prints its address, serves, exits 0 on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-process-'));
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'test/fixtures/orders-service/server.ts'],
      {
        cwd: path.resolve(__dirname, '../..'),
        env: { ...process.env, DATA_DIR: dataDir, PORT: '0', ADMIN_TOKEN },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk) => {
          out += chunk;
          const match = /^orders listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
          if (match) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/admin/faults`)).status).toBe(401);
      const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
