import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { GroupSample, ImplStats } from '../../../src/judge/samples';
import { judgeP95End } from '../../../src/judge/p95-judge';
import { planSchema } from '../../../src/plan/schema';
import { createMetricsProvider, parseExposition } from '../../../src/providers/metrics';
import type { FigureExplain } from '../../../src/providers/metrics/explain';
import type { ExpositionSample } from '../../../src/providers/metrics/text-format';
import { startPrometheus, type RunningPrometheus } from '../../helpers/prometheus';
import { HAPROXY_BIN, haproxyFront, requireBinary, startHaproxy, startUpstream, type Detached, type Upstream } from '../../helpers/routers';
import { seedPlan } from '../../helpers/workflow-harness';
import { freePort, tempDir, waitFor } from '../support';

/**
 * The `haproxy` preset against HAProxy's own Prometheus exporter (2.6, Debian's), live: known
 * traffic through a real HAProxy, read from its /metrics directly (`exposition`) and through a real
 * Prometheus scraping it (`prometheus`). No histogram: P95 must come out unjudgeable, never a pass.
 *
 * `RECORD_FIXTURES=1` also writes fixtures/conventions/haproxy.txt (the unit tests' HAProxy
 * scrape) from this run, trimmed to the families the presets read.
 */

jest.setTimeout(90_000);

const JOB = 'haproxy';
const FIXTURE = path.join(__dirname, 'fixtures', 'conventions', 'haproxy.txt');
/** The families the fixture keeps: what the preset reads, and what a reader of HAProxy may look for beside it. */
const FIXTURE_FAMILIES = [
  'haproxy_process_build_info',
  'haproxy_backend_http_requests_total',
  'haproxy_backend_http_responses_total',
  'haproxy_server_http_responses_total',
  'haproxy_server_response_time_average_seconds',
  'haproxy_server_max_response_time_seconds',
];

type Backend = 'be_read' | 'be_write';
type Server = 'legacy' | 'domain';
/**
 * What is sent: the traffic of the other presets' fixtures (conventions.test.ts). 600 is no HTTP
 * class: HAProxy counts it as `code="other"`.
 */
const TRAFFIC: Array<[Backend, Server, number, number]> = [
  ['be_read', 'domain', 200, 14],
  ['be_read', 'domain', 500, 2],
  ['be_read', 'legacy', 200, 22],
  ['be_read', 'legacy', 404, 3],
  ['be_write', 'domain', 200, 40],
  ['be_write', 'domain', 404, 1],
  ['be_write', 'domain', 503, 9],
  ['be_write', 'domain', 600, 1],
  ['be_write', 'legacy', 200, 50],
];
const SENT = TRAFFIC.reduce((n, [, , , count]) => n + count, 0);
const stats = (requests: number, errors: number, successes: number, unknownStatus?: number): ImplStats => ({
  requests,
  errors,
  successes,
  buckets: [],
  ...(unknownStatus === undefined ? {} : { unknownStatus }),
});
const EXPECTED: Record<'read' | 'write', Record<Server, ImplStats>> = {
  read: { domain: stats(16, 2, 14), legacy: stats(25, 0, 22) },
  write: { domain: stats(51, 9, 40, 1), legacy: stats(50, 0, 50) },
};
// Route-less: any endpoint of the group reads the group's backend.
const endpoints = { read: [{ method: 'GET', route: '/api/v1/system/info' }], write: [{ method: 'POST', route: '/api/v1/cameras' }] };
const mapping = {
  preset: 'haproxy' as const,
  impl: { domain: 'domain', legacy: 'legacy' },
  groups: { read: { match: { proxy: 'be_read' } }, write: { match: { proxy: 'be_write' } } },
};

/** One request through HAProxy to `server` of `backend`, answered `status`: node:http, as fetch refuses a 600. */
function send(port: number, backend: Backend, server: Server, status: number): Promise<{ status: number; by: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: `/status/${status}`,
        method: backend === 'be_write' ? 'POST' : 'GET',
        headers: { 'X-Impl': server, Connection: 'close' },
        agent: false,
        timeout: 5000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, by: String(res.headers['x-served-by']) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The scrape trimmed to `FIXTURE_FAMILIES`, under a header that says where it came from. */
function trimmed(scrape: string): string {
  const version = /haproxy_process_build_info\{version="([^"]+)"\}/.exec(scrape)?.[1] ?? 'unknown';
  const family = (line: string) => (line.startsWith('#') ? line.split(/\s+/)[2] : line.split(/[{\s]/)[0]);
  const kept = scrape.split('\n').filter((line) => FIXTURE_FAMILIES.includes(family(line)));
  return [
    `# Recorded from HAProxy ${version}'s own Prometheus exporter (http-request use-service prometheus-exporter)`,
    '# by test/providers/metrics/haproxy-exporter.test.ts after the traffic it sends, trimmed to a few families.',
    '# Re-record: RECORD_FIXTURES=1 npx jest --selectProjects processes --runTestsByPath test/providers/metrics/haproxy-exporter.test.ts',
    ...kept,
    '',
  ].join('\n');
}

/** Each family's label names, as sets written `a,b,c`. */
const labelSets = (families: Map<string, ExpositionSample[]>, name: string) =>
  [...new Set((families.get(name) ?? []).map((s) => Object.keys(s.labels).sort().join(',')))];

describe('haproxy preset against HAProxy’s own Prometheus exporter', () => {
  const dir = tempDir('haproxy-exporter');
  let legacy: Upstream;
  let domain: Upstream;
  let haproxy: Detached;
  let prometheus: RunningPrometheus;
  let metricsUrl = '';
  let scrape = '';
  let from: Date;
  let to: Date;
  const scraped = async () =>
    Number((await prometheus.query(`sum(haproxy_server_http_responses_total{job="${JOB}"})`))[0]?.value[1] ?? 0);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let direct: ReturnType<typeof createMetricsProvider>;
  const warmups: Partial<Record<'read' | 'write', GroupSample>> = {};

  beforeAll(async () => {
    requireBinary(HAPROXY_BIN, 'haproxy');
    [legacy, domain] = await Promise.all([startUpstream('legacy'), startUpstream('domain')]);
    const [frontPort, metricsPort] = [await freePort(), await freePort()];
    ({ proc: haproxy } = await startHaproxy(
      dir,
      haproxyFront({
        frontPort,
        frontends: ['frontend metrics', `  bind 127.0.0.1:${metricsPort}`, '  http-request use-service prometheus-exporter if { path /metrics }'],
        // The server a request asks for: exact counts per server, where a balance would only split them.
        servers: () => [
          'use-server domain if { req.hdr(x-impl) -m str domain }',
          'use-server legacy if { req.hdr(x-impl) -m str legacy }',
          `server legacy 127.0.0.1:${legacy.port}`,
          `server domain 127.0.0.1:${domain.port}`,
        ],
      }),
    ));
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    await waitFor('HAProxy’s exporter to answer', async () => {
      if (haproxy.exited()) throw new Error(`haproxy exited:\n${haproxy.output()}`);
      return (await fetch(metricsUrl).catch(() => null))?.ok ? true : undefined;
    });
    direct = createMetricsProvider({ type: 'exposition', url: metricsUrl, timeout: '5s', ...mapping });
    for (const group of ['read', 'write'] as const)
      warmups[group] = await direct.sample({ key: 'k', group, endpoints: endpoints[group], from: new Date(), to: new Date() });
    // Started before the traffic: Prometheus holds the counters at 0 first (increase() cannot see a first value).
    prometheus = await startPrometheus(`127.0.0.1:${metricsPort}`, JOB);
    await sleep(1500);
    from = new Date();
    await sleep(1500);
    for (const [backend, server, status, count] of TRAFFIC)
      for (let i = 0; i < count; i++) {
        const res = await send(frontPort, backend, server, status);
        expect([backend, res]).toEqual([backend, { status, by: server }]);
      }
    await waitFor('the requests to be scraped', async () => ((await scraped()) === SENT ? true : undefined), 30_000);
    await sleep(Math.max(1500, from.getTime() + 10_000 - Date.now()));
    to = new Date();
    scrape = await (await fetch(metricsUrl)).text();
    if (process.env.RECORD_FIXTURES === '1') fs.writeFileSync(FIXTURE, trimmed(scrape));
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await haproxy?.stop();
    await Promise.all([legacy?.close(), domain?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  test('the exporter writes what the preset reads: responses per server by class, no request count per server, no histogram', () => {
    const families = parseExposition(scrape, 'scrape');
    expect(labelSets(families, 'haproxy_server_http_responses_total')).toEqual(['code,proxy,server']);
    const codes = new Set(families.get('haproxy_server_http_responses_total')!.map((s) => s.labels.code));
    expect([...codes].sort()).toEqual(['1xx', '2xx', '3xx', '4xx', '5xx', 'other']);
    expect(labelSets(families, 'haproxy_backend_http_requests_total')).toEqual(['proxy']);
    expect(families.has('haproxy_server_http_requests_total')).toBe(false);
    expect([...families.keys()].filter((n) => n.endsWith('_bucket'))).toEqual([]);
  });

  test('the recorded fixture is this exporter’s output: the same families with the same labels', () => {
    const live = parseExposition(scrape, 'scrape');
    const recorded = parseExposition(fs.readFileSync(FIXTURE, 'utf8'), 'fixture');
    expect([...recorded.keys()].sort()).toEqual([...FIXTURE_FAMILIES].sort());
    for (const name of FIXTURE_FAMILIES) expect([name, labelSets(recorded, name)]).toEqual([name, labelSets(live, name)]);
  });

  test.each(['read', 'write'] as const)('exposition: the %s backend’s counts per server and class, exactly as sent', async (group) => {
    expect(warmups[group]!.warmup).toBe(true);
    const s = await direct.sample({ key: 'k', group, endpoints: endpoints[group], from, to });
    expect({ domain: s.domain, legacy: s.legacy }).toEqual(EXPECTED[group]);
  });

  // increase() extrapolates to the window's edges: never below what was sent, somewhat above.
  const near = (value: number | undefined, sent: number) => {
    expect(value).toBeGreaterThanOrEqual(sent);
    expect(value).toBeLessThanOrEqual(Math.ceil(sent * 1.35));
  };
  const viaPrometheus = () =>
    createMetricsProvider({ type: 'prometheus', url: prometheus.url, selector: `job="${JOB}"`, timeout: '5s', ...mapping });

  test.each(['read', 'write'] as const)('prometheus: the %s backend’s counts per server and class, as sent', async (group) => {
    const s = await viaPrometheus().sample({ key: 'k', group, endpoints: endpoints[group], from, to });
    for (const impl of ['domain', 'legacy'] as const) {
      const e = EXPECTED[group][impl];
      near(s[impl].requests, e.requests);
      near(s[impl].successes, e.successes);
      if (e.errors) near(s[impl].errors, e.errors);
      else expect(s[impl].errors).toBe(0);
      if (e.unknownStatus) near(s[impl].unknownStatus, e.unknownStatus);
      else expect(s[impl].unknownStatus).toBeUndefined();
      expect(s[impl].buckets).toEqual([]);
    }
  });

  test('P95 over a sample without buckets: inconclusive, named, never a pass', async () => {
    const t = { ...planSchema.parse(seedPlan()).defaults.thresholds, minSamples: 10 };
    const s = await direct.sample({ key: 'judge', group: 'read', endpoints: endpoints.read, from, to, previous: { at: from.toISOString(), values: {} } });
    const verdict = judgeP95End(s, { stats: s.legacy, label: 'legacy' }, t, { legacyShort: false, rollbackAt: 0 });
    expect(verdict).toMatchObject({ check: 'p95', verdict: 'inconclusive', figures: { p95DomainMs: null, p95ReferenceMs: null } });
    expect(verdict.reason).toMatch(/^p95: no latency histogram in the metrics of domain's requests: the P95 cannot be judged/);
  });

  /** `verify --explain`'s figures of a group from a provider. */
  const explain = async (provider: ReturnType<typeof createMetricsProvider>, group: 'read' | 'write', p95: boolean) => {
    const sample = await provider.sample({ key: `explain-${group}`, group, endpoints: endpoints[group], from, to, previous: { at: from.toISOString(), values: {} } });
    const figures = await provider.explain!({ key: `explain-${group}`, group, endpoints: endpoints[group], from, to, checkIntervalMs: 10_000, p95, sample });
    return (name: FigureExplain['figure']) => figures.find((f) => f.figure === name)!;
  };
  const sources: Array<[string, () => ReturnType<typeof createMetricsProvider>]> = [
    ['exposition', () => direct],
    ['prometheus', viaPrometheus],
  ];

  test.each(sources)('explain (%s): requests read per server; latency blind with p95 on, off without', async (_name, provider) => {
    const on = await explain(provider(), 'read', true);
    expect(on('requests')).toMatchObject({ status: 'ok', diagnosis: expect.stringMatching(/^ok: [\d,]+ legacy \/ [\d,]+ domain requests; status label "code" holds classes \(/) });
    expect(on('requests').counts!.legacy).toBeGreaterThanOrEqual(25);
    expect(on('latency')).toMatchObject({
      status: 'blind',
      series: 0,
      diagnosis: 'no latency histogram (no _bucket series): p95 cannot be judged; turn it off with checks: {p95: off} or export a histogram',
    });
    const off = await explain(provider(), 'read', false);
    expect(off('latency')).toMatchObject({ status: 'off', diagnosis: 'no latency histogram (no _bucket series); p95 is off in this phase' });
  });

  test.each(sources)('explain (%s): a request HAProxy counted as "other" is named, as the judge names it', async (_name, provider) => {
    const figure = await explain(provider(), 'write', false);
    expect(figure('requests')).toMatchObject({
      status: 'blind',
      diagnosis: 'status label "code" holds neither codes nor classes (other): those requests are neither successes nor errors; map target.metrics.names.status',
    });
  });
});
