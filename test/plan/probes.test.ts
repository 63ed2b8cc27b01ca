/**
 * Plan validation of `target.probes`: every mistake that would make a probe fail at every stage
 * (or check nothing) is refused when the plan is validated, with the path to it.
 */
import { validatePlan } from '../../src/plan/validate';
import { markerMatcher } from '../../src/probes/templates';
import { ordersPlanInput } from '../helpers/seed-plan';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const probes = (d: Doc) => d.target.probes;
const life = (d: Doc) => probes(d).writes[0];

const cases: Array<[string, (d: Doc) => void, { path: string; message: string | RegExp }]> = [
  [
    'a path parameter no earlier step captured',
    (d) => (life(d).steps[2].request = 'PATCH /orders/{oid}'),
    {
      path: 'target.probes.writes[0].steps[2].request',
      message: '{oid} is not captured by an earlier step (known here: rollout, token, order_id)',
    },
  ],
  [
    'a value in a body no step captured',
    (d) => (life(d).steps[0].body.note = 'probe ${ticket}'),
    {
      path: 'target.probes.writes[0].steps[0].body',
      message: '${ticket} is not captured by an earlier step (known here: rollout, token)',
    },
  ],
  [
    'a capture used before the step that makes it',
    (d) => life(d).steps.unshift({ request: 'GET /orders/{order_id}', status: 200 }),
    { path: 'target.probes.writes[0].steps[0].request', message: /^\{order_id\} is not captured/ },
  ],
  [
    'a JSON Schema with a type that does not exist',
    (d) => (probes(d).schemas.order.type = 'objekt'),
    {
      path: 'target.probes.schemas.order',
      message: /^invalid JSON Schema: schema is invalid: data\/type must be equal/,
    },
  ],
  [
    'a JSON Schema keyword misspelt',
    (d) => (probes(d).schemas.order.requird = ['order_id']),
    {
      path: 'target.probes.schemas.order',
      message: 'invalid JSON Schema: strict mode: unknown keyword: "requird"',
    },
  ],
  [
    'a $ref to a schema nobody named',
    (d) => (probes(d).reads[0].schema.properties.data.items = { $ref: 'ordr' }),
    {
      path: 'target.probes.reads[0].schema',
      message: "invalid JSON Schema: can't resolve reference ordr from id #",
    },
  ],
  [
    'a probe naming a schema that does not exist',
    (d) => (probes(d).reads[1].schema = 'ordr'),
    {
      path: 'target.probes.reads[1].schema',
      message: 'no schema named "ordr" in target.probes.schemas (named: order)',
    },
  ],
  [
    'a write lifecycle without cleanup',
    (d) => delete life(d).cleanup,
    { path: 'target.probes.writes[0].cleanup', message: /required/ },
  ],
  [
    'a cleanup that cannot take an id',
    (d) => (life(d).cleanup = 'DELETE /orders'),
    { path: 'target.probes.writes[0].cleanup', message: /^must have exactly one \{parameter\}/ },
  ],
  [
    'a write lifecycle without a marker',
    (d) => delete life(d).marker,
    { path: 'target.probes.writes[0].marker', message: /required/ },
  ],
  [
    'a create whose record would not carry the marker',
    (d) => (life(d).steps[0].body.customer = 'someone'),
    {
      path: 'target.probes.writes[0].steps[0].body',
      message:
        'must carry the marker (customer holds "rollout-probe-${token}"), so a leftover can be found and removed',
    },
  ],
  [
    // Cleanup deletes every listed record whose marker field matches: real orders in EUR, here.
    'a fixed marker (no per-run token)',
    (d) => (life(d).marker = { field: '$.currency', value: 'EUR' }),
    {
      path: 'target.probes.writes[0].marker.value',
      message:
        'must contain ${token} (fresh for each probe run), like "rollout-probe-${token}": cleanup deletes every listed record whose currency matches the marker, and a fixed "EUR" could match real records',
    },
  ],
  [
    'a marker that is only the token',
    (d) => {
      life(d).marker.value = '${token}';
      for (const s of life(d).steps) if (s.body?.customer) s.body.customer = '${token}';
    },
    { path: 'target.probes.writes[0].marker.value', message: /^needs fixed text around \$\{token\} \(at least 4 characters/ },
  ],
  [
    'a marker with a captured value (a crashed run\'s leftover could not be recognised)',
    (d) => (life(d).marker.value = 'probe-${token}-${order_id}'),
    { path: 'target.probes.writes[0].marker.value', message: /^may use only \$\{token\} and \$\{rollout\} \(not \$\{order_id\}\)/ },
  ],
  [
    'a marker that is a number',
    (d) => (life(d).marker.value = 42),
    { path: 'target.probes.writes[0].marker.value', message: /^must contain \$\{token\}.*a fixed 42 could match real records$/ },
  ],
  [
    'a write endpoint of a phase no lifecycle exercises',
    (d) => d.phases[1].endpoints.push('PUT /orders/{order_id}'),
    {
      path: 'phases[1].endpoints[3]',
      message:
        'PUT /orders/{order_id}: no write lifecycle in target.probes.writes exercises it (the write probe and the functional check need one, or it goes unchecked)',
    },
  ],
  [
    'a GET with a parameter and no read probe to fill it',
    (d) => probes(d).reads.splice(1, 1),
    {
      path: 'phases[0].endpoints[1]',
      message:
        'GET /orders/{order_id}: add a read probe to target.probes.reads with params for {order_id} (the functional check cannot guess them)',
    },
  ],
  [
    'a read probe without a value for its parameter',
    (d) => (probes(d).reads[1].params = {}),
    { path: 'target.probes.reads[1].params', message: 'must give a value for {order_id}' },
  ],
  [
    'a read probe that is a write',
    (d) => (probes(d).reads[0].request = 'POST /orders'),
    {
      path: 'target.probes.reads[0].request',
      message: 'must be a GET (writes are exercised by target.probes.writes)',
    },
  ],
  [
    'store lookups without stores',
    (d) => delete d.target.consistency,
    { path: 'target.probes.writes[0].lookup', message: 'lookup: consistency needs target.consistency' },
  ],
  [
    'a misspelt key in a step',
    (d) => (life(d).steps[0].captures = life(d).steps[0].capture),
    { path: 'target.probes.writes[0].steps[0].captures', message: 'unknown key; did you mean "capture"?' },
  ],
  [
    'a probe forcing an implementation itself',
    (d) => (life(d).steps[0].headers = { 'x-rollout-force': 'legacy' }),
    {
      path: 'target.probes.writes[0].steps[0].headers.x-rollout-force',
      message: /^is not an allowed key: X-Rollout-Force is set by the orchestrator/,
    },
  ],
  [
    'a JSON path with a wildcard',
    (d) => (life(d).list.items = '$.data[*]'),
    { path: 'target.probes.writes[0].list.items', message: /^not a JSON path: unexpected "\[\*\]"/ },
  ],
  [
    'a stored check that cannot tell which record',
    (d) => {
      delete life(d).steps[6].record;
    },
    { path: 'target.probes.writes[0].steps[6].record', message: /^stored needs to know which record/ },
  ],
  [
    'a capture that hides a built-in',
    (d) => (life(d).steps[0].capture = { token: '$.order_id' }),
    {
      path: 'target.probes.writes[0].steps[0].capture.token',
      message: '"token" is built in; capture it under another name',
    },
  ],
  [
    'a status that is no status',
    (d) => (life(d).steps[0].status = 'created'),
    { path: 'target.probes.writes[0].steps[0].status', message: /^must be a status like 201/ },
  ],
];

test('the orders plan as written is valid', () => {
  const v = validatePlan(ordersPlanInput());
  expect(v.ok ? [] : v.problems).toEqual([]);
});

test.each(cases)('%s', (_name, mutate, problem) => {
  const doc = ordersPlanInput() as Doc;
  mutate(doc);
  const v = validatePlan(doc);
  expect(v.ok).toBe(false);
  if (v.ok) return;
  expect(v.problems).toContainEqual({
    path: problem.path,
    message: expect.stringMatching(
      problem.message instanceof RegExp ? problem.message : new RegExp(`^${escape(problem.message)}$`),
    ),
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe("cleanup's marker test: the fixed text with any run's token, the whole value", () => {
  test.each([
    ['rollout-probe-${token}', 'rollout-probe-0a1b2c3d4e', true],
    ['rollout-probe-${token}', ['x', 'rollout-probe-0a1b2c3d4e'], true],
    ['rollout-probe-${token}', 'rollout-probe', false],
    ['rollout-probe-${token}', 'rollout-probe-0A1B2C3D4E', false],
    ['rollout-probe-${token}', 'rollout-probe-0a1b2c3d4e5', false],
    ['rollout-probe-${token}', 'my rollout-probe-0a1b2c3d4e', false],
    ['rollout-probe-${token}', 42, false],
    ['${rollout}/${token}', 'rollout-orders/0a1b2c3d4e', true],
    ['${rollout}/${token}', 'rollout-other/0a1b2c3d4e', false],
    ['probe.${token}', 'probeX0a1b2c3d4e', false],
  ])('%s against %j → %s', (template, value, matches) => {
    expect(markerMatcher(template, 'rollout-orders')(value)).toBe(matches);
  });
});
