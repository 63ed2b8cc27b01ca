import { validatePlan } from '../../src/plan/validate';
import { conventionGaps, groupConvention, PRESETS } from '../../src/plan/metrics-conventions';
import { seedPlan } from '../helpers/workflow-harness';

/** `target.metrics` names, presets and queries (issue 23, part 2). The seed plan has groups read and write. */
type Loose = Record<string, unknown>;

const exposition = (more: Loose = {}): Loose => ({ type: 'exposition', url: 'http://127.0.0.1:8000/metrics', ...more });
const prometheus = (more: Loose = {}): Loose => ({ type: 'prometheus', url: 'http://127.0.0.1:9090', ...more });
const routers = (label: string) => ({
  read: { impl: { domain: `read-domain`, legacy: `read-legacy` }, match: { [label]: 'be_read' } },
  write: { impl: { domain: `write-domain`, legacy: `write-legacy` }, match: { [label]: 'be_write' } },
});
const queries = {
  requests: 'sum(increase(http_requests_total{job="api",{impl_selector},route=~"{routes}"}[{range}]))',
  errors: 'sum(increase(http_requests_total{job="api",{impl_selector},route=~"{routes}",status=~"5.."}[{range}]))',
  successes: 'sum(increase(http_requests_total{job="api",{impl_selector},route=~"{routes}",status=~"2.."}[{range}]))',
  buckets: 'sum by (le) (increase(http_request_duration_seconds_bucket{job="api",{impl_selector}}[{range}]))',
};

function check(metrics: Loose, phases?: (p: Loose[]) => void) {
  const plan = seedPlan();
  plan.target.metrics = metrics as never;
  phases?.(plan.phases as unknown as Loose[]);
  return validatePlan(plan);
}
const problems = (metrics: Loose) => {
  const v = check(metrics);
  return v.ok ? [] : v.problems.map((p) => `${p.path}: ${p.message}`);
};
const warnings = (metrics: Loose, phases?: (p: Loose[]) => void) => {
  const v = check(metrics, phases);
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  return v.warnings.map((w) => `${w.path}: ${w.message}`);
};

test('a plan naming no preset validates to what it did before: no field added', () => {
  const v = check(exposition());
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  expect(v.plan.target.metrics).toEqual({ type: 'exposition', url: 'http://127.0.0.1:8000/metrics', timeout: '10s' });
  expect(v.warnings).toEqual([]);
});

test.each<[string, Loose]>([
  ['the default preset, named', exposition({ preset: 'default' })],
  ['OpenTelemetry', exposition({ preset: 'opentelemetry' })],
  ['Micrometer, implementations by a label of its own', exposition({ preset: 'micrometer', impl: { label: 'app_impl', domain: 'new', legacy: 'old' } })],
  ['HAProxy with a backend per group', prometheus({ preset: 'haproxy', groups: routers('proxy') })],
  ['Envoy with one pair of clusters for the only mapping', prometheus({ preset: 'envoy', impl: { domain: 'api-domain', legacy: 'api-legacy' }, groups: { write: { impl: { domain: 'w-d', legacy: 'w-l' } } } })],
  ['Traefik on a scrape', exposition({ preset: 'traefik', groups: routers('entrypoint') })],
  ['names over a preset', prometheus({ preset: 'opentelemetry', names: { route: 'route', histogram: 'latency_seconds' } })],
  ['two jobs as the implementations', prometheus({ impl: { label: 'job', domain: 'api-domain', legacy: 'api-legacy' } })],
  ['its own PromQL', prometheus({ queries })],
])('accepts %s', (_name, metrics) => {
  expect(problems(metrics)).toEqual([]);
});

test.each<[string, Loose, string]>([
  ['an unknown preset', exposition({ preset: 'otel' }), 'target.metrics.preset: must be one of "default", "opentelemetry", "micrometer", "haproxy", "envoy", "traefik"'],
  ['a misspelt name', exposition({ names: { request: 'x_total' } }), 'target.metrics.names.request: unknown key; did you mean "requests"?'],
  ['a metric name with a dot', exposition({ names: { requests: 'http.server.requests' } }), 'target.metrics.names.requests: must be a Prometheus metric name'],
  ['le as the status label', exposition({ names: { status: 'le' } }), 'target.metrics.names.status: must not be "le"'],
  ['HAProxy without servers', prometheus({ preset: 'haproxy' }), 'target.metrics.impl: metrics preset haproxy tells domain from legacy by the server label, and the plan names neither value for group "read": give target.metrics.impl: { domain: <server>, legacy: <server> }, or target.metrics.groups.read.impl'],
  ['Envoy with one group mapped, the other not', prometheus({ preset: 'envoy', groups: { read: { impl: { domain: 'd', legacy: 'l' } } } }), 'plan names neither value for group "write"'],
  ['one value for both implementations', exposition({ impl: { domain: 'x', legacy: 'x' } }), 'target.metrics.impl: domain and legacy are both impl="x" for group "read": they must differ'],
  ['a mapping for a group no phase has', exposition({ groups: { raed: { match: { proxy: 'x' } } } }), 'target.metrics.groups.raed: no phase has group "raed" (groups: read, write)'],
  ['an implementation value left out', exposition({ impl: { domain: 'x' } }), 'target.metrics.impl.legacy: is required'],
  ['queries on an exposition source', exposition({ queries }), 'target.metrics.queries: unknown key'],
  ['queries with a preset', prometheus({ preset: 'opentelemetry', queries }), 'target.metrics.queries: replaces the preset and names: give either queries or preset/names, not both'],
  ['an unknown placeholder', prometheus({ queries: { ...queries, errors: 'sum(increase(x{ {impl_selector}, route=~"{endpoints}"}[{range}]))' } }), 'target.metrics.queries.errors: unknown placeholder {endpoints} (known: {impl}, {impl_selector}, {range}, {routes}, {methods}, {group})'],
  ['a query that cannot tell the implementations apart', prometheus({ queries: { ...queries, requests: 'sum(increase(http_requests_total{job="api"}[{range}]))' } }), 'target.metrics.queries.requests: must use {impl} or {impl_selector}'],
  ['a query over a fixed range', prometheus({ queries: { ...queries, requests: 'sum(increase(x{impl="{impl}"}[5m]))' } }), 'target.metrics.queries.requests: must use {range}'],
  ['queries without errors', prometheus({ queries: { requests: queries.requests } }), 'target.metrics.queries.errors: is required'],
])('refuses %s', (_name, metrics, message) => {
  expect(problems(metrics).join('\n')).toContain(message);
});

describe('what a convention cannot provide is a warning, naming the check and its switch', () => {
  test('HAProxy: no latency histogram while p95 runs', () => {
    expect(warnings(prometheus({ preset: 'haproxy', groups: routers('proxy') }))).toEqual([
      'target.metrics.preset: metrics preset haproxy has no latency histogram: p95 cannot be judged (inconclusive at every window) in phases phase2-read, phase3-write; turn it off with `checks: {p95: off}`',
    ]);
  });
  test('no warning once p95 is off where it cannot see', () => {
    const off = (phases: Loose[]) => phases.forEach((p) => (p.checks = { p95: 'off' }));
    expect(warnings(prometheus({ preset: 'haproxy', groups: routers('proxy') }), off)).toEqual([]);
  });
  test('a route-less source whose groups share their servers', () => {
    expect(warnings(exposition({ preset: 'traefik', impl: { domain: 'api-d@file', legacy: 'api-l@file' } }))).toEqual([
      'target.metrics.groups: metrics preset traefik has no route label: groups read, write read the same series, so each is judged on the other\'s requests too; map each group to its own backend or servers (target.metrics.groups.<group>.match or .impl)',
    ]);
  });
  test('names that drop the histogram', () => {
    expect(warnings(exposition({ names: { histogram: null } }))).toEqual([
      'target.metrics.names.histogram: metrics names (preset default with target.metrics.names) has no latency histogram: p95 cannot be judged (inconclusive at every window) in phases phase2-read, phase3-write; turn it off with `checks: {p95: off}`',
    ]);
  });
  test('queries without buckets or successes', () => {
    expect(warnings(prometheus({ queries: { requests: queries.requests, errors: queries.errors } }))).toEqual([
      'target.metrics.queries: target.metrics.queries has no latency histogram (no buckets query): p95 cannot be judged (inconclusive at every window) in phases phase2-read, phase3-write; turn it off with `checks: {p95: off}`',
      'target.metrics.queries: has no successes query: successes are read as requests − errors (4xx count as successes) in phases phase2-read, phase3-write; add a successes query, or turn it off with `checks: {successRate: off}`',
    ]);
  });
  test.each([['default'], ['opentelemetry'], ['micrometer']] as const)('%s: nothing missing', (preset) => {
    expect(conventionGaps({ preset }, [{ name: 'p', group: 'read' }])).toEqual([]);
  });
});

test('a group reads its own implementation values and matchers over the global ones', () => {
  const config = { preset: 'envoy' as const, impl: { domain: 'd', legacy: 'l' }, groups: { write: { impl: { domain: 'wd', legacy: 'wl' }, match: { envoy_cluster_name: 'x' } } } };
  expect(groupConvention(config, 'read')).toEqual({ ...PRESETS.envoy, impl: { label: 'envoy_cluster_name', domain: 'd', legacy: 'l' }, match: {} });
  expect(groupConvention(config, 'write')?.impl).toEqual({ label: 'envoy_cluster_name', domain: 'wd', legacy: 'wl' });
  expect(groupConvention({ preset: 'haproxy' }, 'read')).toBeUndefined();
});
