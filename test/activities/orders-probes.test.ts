/**
 * The functional check and the write probe against the orders service, a target whose routes,
 * fields, integer ids and answers exist only in its plan's probes: nothing under src/ knows it.
 */
import { createActivities } from '../../src/activities';
import type { VerifyStageInput } from '../../src/contracts/activities';
import type { Plan } from '../../src/plan/schema';
import { createConsistencyProvider } from '../../src/providers/consistency';
import { TEST_POLICY_ENV } from '../helpers/policy';
import { ordersPlanAt, validated } from '../helpers/seed-plan';
import { ADMIN_TOKEN, startOrders, type OrdersUnderTest } from '../orders-service/helpers';

let service: OrdersUnderTest;
let plan: Plan;
const acts = createActivities({ env: { ADMIN_TOKEN, ...TEST_POLICY_ENV } });

beforeEach(async () => {
  service = await startOrders();
  plan = validated(ordersPlanAt(service));
});
afterEach(() => service.dispose());

function input(phase: 0 | 1, checks: VerifyStageInput['checks'], target = plan.target): VerifyStageInput {
  const p = plan.phases[phase];
  return {
    rolloutId: 'rollout-orders-api',
    target,
    phase: { name: p.name, group: p.group, endpoints: p.endpoints, command: p.command },
    percent: 25,
    checks,
  };
}

const orderIds = () => service.dbOrders().map((o) => o.order_id);
const yamlIds = () => service.yamlOrders().map((o) => o.order_id);
const probeOrders = () => service.dbOrders().filter((o) => String(o.customer).startsWith('rollout-probe'));

test('functional, reads: the list and one order picked from it, through both implementations', async () => {
  const report = await acts.verifyStage(input(0, ['functional']));
  expect(report.functional).toEqual({ ok: true, checked: 2, failures: [], serverErrors: 0 });
});

test('functional, writes: the lifecycle once per implementation, answers compared, nothing left', async () => {
  const report = await acts.verifyStage(input(1, ['functional']));
  expect(report.functional).toEqual({ ok: true, checked: 3, failures: [], serverErrors: 0 });
  expect(orderIds()).toEqual([1, 2, 3]);
  expect(yamlIds()).toEqual([1, 2, 3]);
});

test('writeProbe: every step through domain, each record checked in both stores and both listings', async () => {
  const report = await acts.verifyStage(input(1, ['writeProbe', 'dataConsistency']));
  expect(report.writeProbe!.failure).toBeUndefined();
  expect(report.writeProbe!.ok).toBe(true);
  const steps = report.writeProbe!.steps;
  const id = /^after create: (\d+) in database, yaml, legacy and domain listings, with the sent fields$/.exec(
    steps.find((s) => s.startsWith('after create:'))!,
  )?.[1];
  expect(id).toBeDefined();
  expect(steps).toEqual([
    'create: POST /orders via domain',
    `after create: ${id} in database, yaml, legacy and domain listings, with the sent fields`,
    'read back: GET /orders/{order_id} via domain',
    'pay: PATCH /orders/{order_id} via domain',
    `after pay: ${id} in database, yaml, legacy and domain listings, with the sent fields`,
    'cancel with an injected db failure: failed as it must (5xx)',
    `after cancel with an injected db failure: ${id} unchanged in database, yaml, legacy and domain listings`,
    'delete: DELETE /orders/{order_id} via domain',
    `after delete: ${id} gone from database, yaml, legacy and domain listings`,
    'read back gone: failed as it must (404)',
    'create with an invalid amount: failed as it must (422)',
    expect.stringMatching(
      /^after create with an invalid amount: the record with note="probe \w+ invalid" gone from database, yaml, legacy and domain listings$/,
    ),
    'create with an injected yaml failure: failed as it must (5xx)',
    expect.stringMatching(
      /^after create with an injected yaml failure: the record with note="probe \w+ yaml" gone from/,
    ),
  ]);
  expect(report.consistency).toEqual({ ok: true, checked: 3, differences: [] });
  expect(probeOrders()).toEqual([]);
});

test('writeProbe removes a leftover probe order of a crashed run, found by its marker', async () => {
  const left = await service.call('POST', '/orders', {
    body: { customer: 'rollout-probe-0a1b2c3d4e', amount_cents: 5, currency: 'GBP', note: 'crashed' },
  });
  expect(left.status).toBe(201);
  const report = await acts.verifyStage(input(1, ['writeProbe']));
  expect(report.writeProbe!.steps[0]).toBe(`removed 1 leftover probe record(s): ${left.body.order_id}`);
  expect(report.writeProbe!.ok).toBe(true);
  expect(orderIds()).toEqual([1, 2, 3]);
});

test("cleanup removes only records carrying the marker with a run's token, never look-alikes", async () => {
  // The fixed part alone, or something around it, is a real customer's: the marker needs its token.
  const lookAlikes = [];
  for (const customer of ['rollout-probe', 'rollout-probe-', 'rollout-probe-0a1b2c3d4', 'rollout-probe-0a1b2c3d4e-x'])
    lookAlikes.push((await service.call('POST', '/orders', { body: { customer, amount_cents: 7, currency: 'EUR' } })).body.order_id);
  const report = await acts.verifyStage(input(1, ['writeProbe']));
  expect(report.writeProbe!.ok).toBe(true);
  expect(report.writeProbe!.steps.filter((s) => s.startsWith('removed'))).toEqual([]);
  expect(orderIds()).toEqual([1, 2, 3, ...lookAlikes]);
});

test('writeProbe catches a domain write that skips the YAML file, and still cleans up', async () => {
  await service.admin('PUT', '/admin/faults', { domain: { yamlDesync: true } });
  const report = await acts.verifyStage(input(1, ['writeProbe']));
  expect(report.writeProbe!.ok).toBe(false);
  expect(report.writeProbe!.failure).toMatch(/^after create: \d+ is missing in the yaml$/);
  expect(report.writeProbe!.steps.join('\n')).toMatch(/cleanup removed \d+/);
  expect(probeOrders()).toEqual([]);
  const consistency = await createConsistencyProvider(plan.target.consistency!).compare();
  expect(consistency).toEqual({ ok: true, checked: 3, differences: [] });
});

test('a failing domain implementation: the request, the status and the body excerpt, counted as server errors', async () => {
  await service.admin('PUT', '/admin/faults', { domain: { errorRate: 1 } });
  const reads = await acts.verifyStage(input(0, ['functional']));
  expect(reads.functional!.failures).toContain(
    'GET /orders via domain: status 500: {"message":"injected fault"}',
  );
  const writes = await acts.verifyStage(input(1, ['functional', 'writeProbe']));
  expect(writes.functional!.failures).toEqual([
    'POST /orders via domain: status 500: {"message":"injected fault"} (expected 201)',
  ]);
  expect(writes.functional!.serverErrors).toBe(1);
  expect(writes.writeProbe!.failure).toBe(
    'POST /orders via domain: status 500: {"message":"injected fault"} (expected 201)',
  );
  await service.admin('DELETE', '/admin/faults');
  expect(orderIds()).toEqual([1, 2, 3]);
});

test('an answer that breaks the declared schema names the field', async () => {
  const probes = structuredCloneJson(plan.target.probes!);
  (probes.schemas.order.properties as Record<string, unknown>).amount_cents = { type: 'string' };
  const report = await acts.verifyStage(input(0, ['functional'], { ...plan.target, probes }));
  expect(report.functional!.failures).toContain(
    'GET /orders/{order_id} via legacy: response does not match the order schema: /amount_cents: must be string',
  );
});

function structuredCloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
