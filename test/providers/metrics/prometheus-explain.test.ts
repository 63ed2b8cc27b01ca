/**
 * `rollout verify --explain` against a real Prometheus scraping the example backend: what each
 * figure reads, how many series matched, the counts and the scrape interval, and a diagnosis
 * that names the cause when a plan's names do not fit the service's metrics.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMetricsProvider } from '../../../src/providers/metrics';
import type { FigureExplain } from '../../../src/providers/metrics/explain';
import type { MetricsConfig } from '../../../src/plan/schema';
import { startPrometheus, type RunningPrometheus } from '../../helpers/prometheus';
import { rollout } from '../../cli/cli-process';
import { ADMIN_TOKEN, startTestBackend, waitFor, type Backend } from '../support';

jest.setTimeout(90_000);

const JOB = 'camera-api';
const endpoints = [
  { method: 'GET', route: '/api/v1/system/info' },
  { method: 'GET', route: '/api/v1/alerts/rules' },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('verify --explain against a real Prometheus', () => {
  let backend: Backend;
  let prometheus: RunningPrometheus;
  let from: Date;
  let to: Date;
  let dir: string;

  const scraped = async () =>
    Number((await prometheus.query(`sum(http_requests_total{job="${JOB}"})`))[0]?.value[1] ?? 0);
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) await backend.call('GET', i % 2 ? '/api/v1/system/info' : '/api/v1/alerts/rules');
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rollout-explain-'));
    backend = await startTestBackend();
    prometheus = await startPrometheus(new URL(backend.url).host, JOB);
    // Both implementations serve the group before the window: increase() cannot see a series' first value.
    await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 50 } } });
    await send(20);
    await waitFor('the first requests to be scraped', async () => ((await scraped()) >= 20 ? true : undefined), 30_000);
    await sleep(1500);
    from = new Date();
    await sleep(1500);
    await send(60);
    await waitFor('the requests to be scraped', async () => ((await scraped()) >= 80 ? true : undefined), 30_000);
    await sleep(Math.max(1500, from.getTime() + 8_000 - Date.now()));
    to = new Date();
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await backend?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const explain = async (mapping: Partial<MetricsConfig>, extra: { p95?: boolean; checkIntervalMs?: number } = {}) => {
    const provider = createMetricsProvider({
      type: 'prometheus',
      url: prometheus.url,
      selector: `job="${JOB}"`,
      timeout: '5s',
      ...mapping,
    } as MetricsConfig);
    const figures = await provider.explain!({
      key: 'k',
      group: 'read',
      endpoints,
      from,
      to,
      checkIntervalMs: extra.checkIntervalMs ?? 10_000,
      p95: extra.p95 ?? true,
    });
    return (name: FigureExplain['figure']) => figures.find((f) => f.figure === name)!;
  };

  test('the right preset: every figure ok, with the queries it runs, the series, the counts and the scrape interval', async () => {
    const figure = await explain({});
    const requests = figure('requests');
    expect(requests.status).toBe('ok');
    expect(requests.reads).toEqual([expect.stringMatching(/^sum by \(impl, status\) \(increase\(http_requests_total\{job="camera-api",method="GET",route="\/api\/v1\/system\/info"\}\[\d+s\]\) or /)]);
    expect(requests.series).toBeGreaterThanOrEqual(2);
    expect(requests.counts!.legacy + requests.counts!.domain).toBeGreaterThanOrEqual(60);
    expect(requests.diagnosis).toMatch(/^ok: [\d,]+ legacy \/ [\d,]+ domain requests$/);
    expect(requests.scrapeIntervalSeconds).toBe(1);
    const latency = figure('latency');
    expect(latency.status).toBe('ok');
    expect(latency.reads[0]).toMatch(/^sum by \(impl, le\) \(increase\(http_request_duration_seconds_bucket\{/);
    expect(latency.diagnosis).toMatch(/^ok: [\d,]+ legacy \/ [\d,]+ domain observations$/);
    expect(figure('routingKeys')).toMatchObject({ status: 'ok', reads: ['max by (impl) (rollout_routing_keys{job="camera-api",group="read"})'] });
  });

  test('a wrong metric name: the diagnosis names it and lists the names Prometheus has', async () => {
    const figure = await explain({ preset: 'opentelemetry' });
    expect(figure('requests')).toMatchObject({ status: 'blind', series: 0 });
    expect(figure('requests').diagnosis).toMatch(
      /^no series named http_server_request_duration_seconds_count\{job="camera-api"\} in Prometheus; names seen: http_request_duration_seconds_bucket, .*http_requests_total/,
    );
    expect(figure('latency').status).toBe('blind');
  });

  test.each([
    ['no histogram in the plan, p95 on', { names: { histogram: null } }, true, 'blind', /^no latency histogram \(no _bucket series\): p95 cannot be judged; turn it off with checks: \{p95: off\} or export a histogram$/],
    ['no histogram in the plan, p95 off', { names: { histogram: null } }, false, 'off', /^no latency histogram \(no _bucket series\); p95 is off in this phase$/],
    ['a histogram the service does not export', { names: { histogram: 'api_latency_seconds' } }, true, 'blind', /^no series named api_latency_seconds_bucket\{job="camera-api"\} in Prometheus \(names seen: .*http_request_duration_seconds_bucket.*\): p95 cannot be judged/],
  ] as const)('latency: %s', async (_name, mapping, p95, status, diagnosis) => {
    const figure = await explain(mapping as Partial<MetricsConfig>, { p95 });
    expect(figure('latency').status).toBe(status);
    expect(figure('latency').diagnosis).toMatch(diagnosis);
    expect(figure('requests').status).toBe('ok');
  });

  test('a check interval shorter than two scrapes cannot see', async () => {
    const figure = await explain({}, { checkIntervalMs: 1000 });
    expect(figure('requests').status).toBe('blind');
    expect(figure('requests').diagnosis).toMatch(/the check interval \(1s\) is shorter than two scrapes of camera-api\/127\.0\.0\.1:\d+ \(scraped every 1s\)/);
  });

  /** The seed plan, its metrics read from this Prometheus (preset and names as given). */
  const planFile = (metrics: string) => {
    const file = path.join(dir, `plan-${Math.random().toString(36).slice(2)}.yaml`);
    const text = readFileSync('plans/phase2-3.yaml', 'utf8').replace(
      /metrics: \{ type: exposition, url: [^}]+\}/,
      `metrics: { type: prometheus, url: "${prometheus.url}", selector: 'job="${JOB}"'${metrics} }`,
    );
    expect(text).toContain('type: prometheus');
    writeFileSync(file, text);
    return file;
  };
  const verify = (file: string, ...args: string[]) =>
    rollout(['verify', file, '--target-url', backend.url, '--phase', 'read', '--window', '4s', '--explain', ...args], {
      ADMIN_TOKEN,
    });

  test('npx rollout verify --explain prints what each figure reads', async () => {
    // Traffic during verify's window, paced: the counts are the window's.
    let stop = false;
    const load = (async () => {
      while (!stop) {
        await send(2);
        await sleep(20);
      }
    })();
    const r = await verify(planFile(''));
    stop = true;
    await load;
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/\n {2}what the metrics sample reads:\n {4}requests: ok: [\d,]+ legacy \/ [\d,]+ domain requests\n {6}reads: sum by \(impl, status\) /);
    expect(r.stdout).toMatch(/\n {6}\d+ series matched · legacy [\d,]+ \/ domain [\d,]+ · scraped every 1s\n/);
    expect(r.stdout).toMatch(/\n {4}latency: ok: /);
    expect(r.stdout).not.toMatch(/cannot see/);
    writeFileSync(path.join(tmpdir(), 'rollout-explain-sample.txt'), r.stdout);
  });

  test('--json --explain: a structured explain array; a figure that cannot see exits 5', async () => {
    const r = await verify(planFile(', preset: opentelemetry'), '--json');
    expect(r.code).toBe(5);
    const out = JSON.parse(r.stdout) as { explain: Array<FigureExplain & { phase: string }> };
    expect(out.explain.find((f) => f.figure === 'requests')).toMatchObject({
      phase: expect.any(String),
      group: 'read',
      status: 'blind',
      series: 0,
      diagnosis: expect.stringMatching(/no series named http_server_request_duration_seconds_count\{job="camera-api"\}/),
    });
  });

  test('--explain with --no-metrics is an option error', async () => {
    const r = await verify(planFile(''), '--no-metrics');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--explain: shows what the metrics sample reads: it cannot be given with --no-metrics/);
  });
});
