/**
 * `rollout init`'s answers → plan (in-process): every router and metrics source makes a plan the
 * loader accepts, read back from the very text written; answers that cannot are refused with
 * their flag or plan path.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { neededAnswers, type InitAnswers } from '../../src/cli/init-answers';
import { groupEndpoints, initPlan, READ_STEPS, runtimeApi, WRITE_STEPS } from '../../src/cli/init-plan';
import { parsePlanText, validatePlanDocument } from '../../src/plan/load';
import { ROOT } from '../helpers/processes';

const BASE: InitAnswers = {
  targetId: 'orders-api',
  targetUrl: 'http://127.0.0.1:8100/',
  router: 'http',
  endpoint: ['GET /orders', 'POST /orders'],
  group: [],
  param: [],
};
const ROUTERS: Record<string, Partial<InitAnswers>> = {
  http: { router: 'http' },
  'env-file': { router: 'env-file', envFile: './orders.env', restartCommand: 'systemctl restart orders' },
  haproxy: {
    router: 'haproxy',
    haproxySocket: '/run/haproxy/admin.sock',
    backend: 'read=be_read,write=be_write',
    legacyServer: 'legacy',
    domainServer: 'domain',
  },
  nginx: {
    router: 'nginx',
    nginxFile: '/etc/nginx/rollout/orders.conf',
    legacyAddress: '127.0.0.1:8101',
    domainAddress: '127.0.0.1:8102',
  },
  command: {
    router: 'command',
    setCommand: '["/opt/rollout/set", "{group}", "{percent}"]',
    readCommand: '/opt/rollout/read {group}',
  },
};

/** The plan as written, loaded again as `rollout start` loads it. */
function loaded(a: InitAnswers) {
  const r = initPlan(a);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const v = validatePlanDocument(parsePlanText('plan.yaml', r.text));
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  return { r, plan: v.plan };
}

describe.each(Object.entries(ROUTERS))('router %s', (type, answers) => {
  it('writes a plan the loader accepts, with docs named in its comments', () => {
    const { r, plan } = loaded({ ...BASE, ...answers });
    expect(plan.target.traffic.type).toBe(type);
    expect(plan.target.baseUrl).toBe('http://127.0.0.1:8100');
    expect(r.text).toContain('docs/plan.md');
    expect(r.text).toContain('docs/providers.md');
    expect(r.warnings).toEqual([]);
  });
});

test.each<[string, Partial<InitAnswers>, (m: Record<string, unknown>) => void]>([
  [
    'exposition, default names',
    {},
    (m) => expect(m).toMatchObject({ type: 'exposition', url: 'http://127.0.0.1:8100/metrics' }),
  ],
  [
    'exposition elsewhere',
    { metricsUrl: 'http://127.0.0.1:9100/metrics' },
    (m) => expect(m.url).toBe('http://127.0.0.1:9100/metrics'),
  ],
  [
    'prometheus with a selector',
    { metrics: 'prometheus', prometheusUrl: 'http://127.0.0.1:9090', selector: 'job="orders"' },
    (m) => expect(m).toMatchObject({ type: 'prometheus', selector: 'job="orders"' }),
  ],
  ['opentelemetry', { preset: 'opentelemetry' }, (m) => expect(m.preset).toBe('opentelemetry')],
  [
    'micrometer by job',
    {
      metrics: 'prometheus',
      prometheusUrl: 'http://127.0.0.1:9090',
      preset: 'micrometer',
      impl: 'label=job,domain=orders-v2,legacy=orders',
    },
    (m) => expect(m.impl).toEqual({ label: 'job', domain: 'orders-v2', legacy: 'orders' }),
  ],
  [
    'haproxy behind a haproxy router: its servers per backend',
    { ...ROUTERS.haproxy, metrics: 'prometheus', prometheusUrl: 'http://127.0.0.1:9090', preset: 'haproxy' },
    (m) =>
      expect(m.groups).toEqual({
        read: { impl: { domain: 'domain', legacy: 'legacy' }, match: { proxy: 'be_read' } },
        write: { impl: { domain: 'domain', legacy: 'legacy' }, match: { proxy: 'be_write' } },
      }),
  ],
  [
    'envoy clusters',
    { preset: 'envoy', impl: 'domain=orders_v2,legacy=orders' },
    (m) => expect(m.impl).toEqual({ domain: 'orders_v2', legacy: 'orders' }),
  ],
  [
    'traefik services',
    { preset: 'traefik', impl: 'domain=v2@file,legacy=v1@file' },
    (m) => expect(m.preset).toBe('traefik'),
  ],
])('metrics: %s', (_name, answers, expectMetrics) => {
  const { plan } = loaded({ ...BASE, ...answers });
  expectMetrics(plan.target.metrics as unknown as Record<string, unknown>);
  // A preset without a latency histogram turns p95 off rather than leave it inconclusive forever.
  const p95Off = answers.preset === 'haproxy';
  for (const phase of plan.phases)
    expect((phase.checks as Record<string, string> | undefined)?.p95).toBe(p95Off ? 'off' : undefined);
});

test("the stages are the seed plan's", () => {
  const seed = parse(readFileSync(path.join(ROOT, 'plans/phase2-3.yaml'), 'utf8')) as {
    phases: Array<{ steps: unknown }>;
  };
  expect(READ_STEPS).toEqual(seed.phases[0].steps);
  expect(WRITE_STEPS).toEqual(seed.phases[1].steps);
  const { plan } = loaded(BASE);
  expect(plan.phases.map((p) => [p.group, p.approval, p.steps.length])).toEqual([
    ['read', 'none', 4],
    ['write', 'before-start', 5],
  ]);
});

test.each<[string, string[], string[], unknown]>([
  [
    'by method',
    ['GET /a', 'HEAD /b', 'DELETE /a/{id}', 'PUT /a/{id}'],
    [],
    [
      ['read', ['GET /a', 'HEAD /b']],
      ['write', ['DELETE /a/{id}', 'PUT /a/{id}']],
    ],
  ],
  ['reads only', ['GET /a'], [], [['read', ['GET /a']]]],
  [
    'a group of its own first, the rest by method',
    ['GET /a', 'POST /a'],
    ['reports=GET /r,GET /s'],
    [
      ['reports', ['GET /r', 'GET /s']],
      ['read', ['GET /a']],
      ['write', ['POST /a']],
    ],
  ],
  ['an endpoint in a group is not repeated', ['GET /r'], ['reports=GET /r'], [['reports', ['GET /r']]]],
])('groups: %s', (_name, endpoints, groups, expected) => {
  const g = groupEndpoints(endpoints, groups);
  expect(Array.isArray(g) && g.map((x) => [x.name, x.endpoints])).toEqual(expected);
});

test.each([
  ['/run/haproxy/admin.sock', 'unix:/run/haproxy/admin.sock'],
  ['127.0.0.1:9999', 'tcp:127.0.0.1:9999'],
  ['tcp:haproxy:9999', 'tcp:haproxy:9999'],
])('--haproxy-socket %p is %p', (given, api) => expect(runtimeApi(given)).toBe(api));

test('--param gives a GET endpoint its read probe', () => {
  const { plan } = loaded({ ...BASE, endpoint: ['GET /orders/{order_id}'], param: ['order_id=7'] });
  expect(plan.target.probes?.reads).toEqual([
    expect.objectContaining({ request: 'GET /orders/{order_id}', params: { order_id: '7' } }),
  ]);
});

test.each<[string, Partial<InitAnswers>, RegExp]>([
  [
    'a GET with a parameter and no --param',
    { endpoint: ['GET /orders/{order_id}'] },
    /^phases\[0\]\.endpoints\[0\]: .*here: --param order_id=<value>$/,
  ],
  ['--impl without legacy', { preset: 'envoy', impl: 'domain=a' }, /^--impl: must give domain= and legacy=/],
  [
    '--set-command not JSON',
    { ...ROUTERS.command, setCommand: '["/opt/set", ' },
    /^--set-command: must be a JSON array/,
  ],
  [
    '--backend missing a group',
    { ...ROUTERS.haproxy, backend: 'read=be_read' },
    /^--backend: names no value for group write/,
  ],
  [
    'a haproxy socket that is neither',
    { ...ROUTERS.haproxy, haproxySocket: 'nowhere' },
    /^target\.traffic\.runtimeApi: must be unix:/,
  ],
  [
    'legacy and domain on one address',
    { ...ROUTERS.nginx, domainAddress: '127.0.0.1:8101' },
    /^target\.traffic\.groups\.read\.domain: legacy and domain must be different/,
  ],
  [
    'an endpoint without a method',
    { endpoint: ['/orders'] },
    /^phases\[\d\]\.endpoints\[0\]: must look like "GET \/api\/v1\/path"/,
  ],
  ['a router preset without --impl', { preset: 'traefik' }, /^target\.metrics\.impl: .*traefik/],
  ['a bad --group', { group: ['reports'] }, /^--group: "reports" is not name=/],
])('refused: %s', (_name, answers, problem) => {
  const r = initPlan({ ...BASE, ...answers });
  expect(r.ok).toBe(false);
  if (!r.ok)
    expect(r.problems.map((p) => `${p.path}: ${p.message}`)).toContainEqual(expect.stringMatching(problem));
});

test.each<[string, Partial<InitAnswers>, string[]]>([
  [
    'nothing',
    { targetId: undefined, targetUrl: undefined, router: undefined, endpoint: [] },
    ['targetId', 'targetUrl', 'router', 'endpoint'],
  ],
  ['http', {}, []],
  ['env-file', { router: 'env-file' }, ['envFile', 'restartCommand']],
  ['haproxy', { router: 'haproxy' }, ['haproxySocket', 'backend', 'legacyServer', 'domainServer']],
  ['nginx', { router: 'nginx' }, ['nginxFile', 'legacyAddress', 'domainAddress']],
  ['command', { router: 'command' }, ['setCommand', 'readCommand']],
  ['prometheus', { metrics: 'prometheus' }, ['prometheusUrl']],
  ['a router preset', { preset: 'envoy' }, ['impl']],
  ['haproxy preset on haproxy: the servers say it', { ...ROUTERS.haproxy, preset: 'haproxy' }, []],
  ['groups instead of endpoints', { endpoint: [], group: ['r=GET /r'] }, []],
])('needed answers: %s', (_name, answers, needed) => {
  expect(neededAnswers({ ...BASE, ...answers })).toEqual(needed);
});

test('a prompt also offers the metrics source and the preset', () => {
  expect(neededAnswers({ ...BASE, metrics: undefined }, true)).toEqual(['metrics', 'preset']);
});
