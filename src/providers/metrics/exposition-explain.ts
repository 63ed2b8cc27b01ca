import type { MetricsConfig } from '../../plan/schema';
import type { ImplStats } from '../../judge/samples';
import { conventionFor, implOf, seriesMatcher, type GroupConvention } from './conventions';
import { diagnoseKeys, diagnoseLatency, diagnoseRequests, likelyFirst, statusesServed, type FigureExplain } from './explain';
import type { ExplainQuery } from './metrics-provider';
import { ROUTING_KEYS_METRIC, type Impl } from './series';
import type { ExpositionSample } from './text-format';

/**
 * `rollout verify --explain` of a direct scrape: which names and label matchers are read from
 * which URL, the series of one scrape that match, and the counts of the caller's sample (a scrape
 * holds totals since the target started: only two readings give the window's counts).
 */

type Config = Extract<MetricsConfig, { type: 'exposition' }>;

/** `http_requests_total{impl=~"domain|legacy",job="x"} on GET /a, PUT /b (labels method, route)`. */
export function scrapeSelector(metric: string, c: GroupConvention, q: Pick<ExplainQuery, 'endpoints'>): string {
  const matchers = [
    `${c.impl.label}=~${JSON.stringify(`${c.impl.domain}|${c.impl.legacy}`)}`,
    ...Object.entries(c.match).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
  ];
  const labels = [c.method, c.route].filter((l): l is string => l !== null);
  const on = labels.length
    ? ` on ${q.endpoints.map((e) => `${c.method ? `${e.method.toUpperCase()} ` : ''}${c.route ? e.route : ''}`.trim()).join(', ')} (labels ${labels.join(', ')})`
    : '';
  return `${metric}{${matchers.join(',')}}${on}`;
}

/** `stats` of a sample as counts per implementation; none for a warmup (no window yet). */
const countsOf = (q: ExplainQuery, pick: (s: ImplStats) => number): Record<Impl, number> | undefined =>
  q.sample && !q.sample.warmup ? { domain: pick(q.sample.domain), legacy: pick(q.sample.legacy) } : undefined;

export function explainScrape(
  families: Map<string, ExpositionSample[]>,
  config: Config,
  q: ExplainQuery,
  missingCounter: string | null,
  declared: (name: string) => boolean = () => false,
): FigureExplain[] {
  const c = conventionFor(config, q.group);
  const source = `GET ${config.url}`;
  const matches = seriesMatcher(c, q.endpoints);
  const ours = (name: string) => (families.get(name) ?? []).filter((s) => matches(s.labels) && implOf(c, s.labels));
  const names = () => likelyFirst([...families.keys()].filter((n) => /(_total|_count|_bucket)$/.test(n)));
  const from = ` from ${config.url}`;

  const requestSeries = ours(c.requests);
  const all = families.get(c.requests) ?? [];
  const requestCounts = countsOf(q, (s) => s.requests);
  const requests: FigureExplain = {
    group: q.group,
    figure: 'requests',
    reads: [scrapeSelector(c.requests, c, q) + from],
    series: requestSeries.length,
    ...(requestCounts ? { counts: requestCounts } : {}),
    ...diagnoseRequests({
      metric: c.requests,
      source,
      series: requestSeries.length,
      ...(missingCounter || (all.length === 0 && !declared(c.requests)) ? { namesSeen: names() } : {}),
      ...(!missingCounter && all.length === 0 && declared(c.requests) ? { declaredOnly: true } : {}),
      ...(requestSeries.length === 0 && all.length ? { implValuesSeen: [...new Set(all.map((s) => s.labels[c.impl.label] ?? `(no ${c.impl.label} label)`))] } : {}),
      impl: c.impl,
      status: { label: c.status, values: statusesServed(c, requestSeries.map((s) => ({ labels: s.labels, count: s.value }))) },
      ...(requestCounts ? { counts: requestCounts } : {}),
    }),
  };

  const bucket = c.histogram === null ? null : `${c.histogram}_bucket`;
  const bucketSeries = bucket ? ours(bucket) : [];
  const latency: FigureExplain = {
    group: q.group,
    figure: 'latency',
    reads: bucket ? [scrapeSelector(bucket, c, q) + from] : [],
    series: bucketSeries.length,
    ...diagnoseLatency({
      metric: bucket,
      source,
      series: bucketSeries.length,
      ...(bucket && !families.has(bucket) && !declared(bucket) ? { namesSeen: names() } : {}),
      ...(bucket && !families.has(bucket) && declared(bucket) ? { declaredOnly: true } : {}),
      p95: q.p95,
    }),
  };

  const keySeries = (families.get(ROUTING_KEYS_METRIC) ?? []).filter(
    (s) => s.labels.group === q.group && (s.labels.impl === 'domain' || s.labels.impl === 'legacy'),
  );
  const keyCounts = keySeries.length
    ? { domain: 0, legacy: 0, ...Object.fromEntries(keySeries.map((s) => [s.labels.impl, s.value])) }
    : undefined;
  const keys: FigureExplain = {
    group: q.group,
    figure: 'routingKeys',
    reads: [`${ROUTING_KEYS_METRIC}{group=${JSON.stringify(q.group)},impl=~"domain|legacy"}${from}`],
    series: keySeries.length,
    ...(keyCounts ? { counts: keyCounts } : {}),
    ...diagnoseKeys(keyCounts),
  };
  return [requests, latency, keys];
}
