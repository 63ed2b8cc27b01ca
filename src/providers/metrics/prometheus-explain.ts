import type { MetricsConfig } from '../../plan/schema';
import { conventionFor, implOf, type GroupConvention } from './conventions';
import { diagnoseKeys, diagnoseLatency, diagnoseRequests, statusesServed, type FigureExplain } from './explain';
import type { ExplainQuery } from './metrics-provider';
import { conventionQueries, endpointSelectors, routingKeysQuery } from './promql';
import { diagnoseSelector, namesSeen, quote, selectorBody, type Row, type SelectorContext } from './prometheus-targets';
import { fillQuery } from './query-templates';
import { IMPLS, type Impl } from './series';

/**
 * `rollout verify --explain` against Prometheus: the very queries a check runs (promql.ts), how
 * many series their selectors match, the counts over the window, the target's scrape interval
 * and the selector diagnosis a sample gives when it finds nothing (prometheus-targets.ts).
 */

type Config = Extract<MetricsConfig, { type: 'prometheus' }>;
const zero = (): Record<Impl, number> => ({ domain: 0, legacy: 0 });

/** Adds up row values per implementation; rows of neither are left out. */
function perImpl(c: GroupConvention, rows: Row[], keep: (r: Row) => boolean = () => true): Record<Impl, number> {
  const out = zero();
  for (const r of rows) {
    const impl = implOf(c, r.metric);
    if (impl && keep(r)) out[impl] += r.count;
  }
  return out;
}

export async function explainPrometheus(ctx: SelectorContext, config: Config, q: ExplainQuery): Promise<FigureExplain[]> {
  const c = conventionFor(config, q.group);
  const range = Math.max(1, Math.round((q.to.getTime() - q.from.getTime()) / 1000));
  const at = q.to.getTime() / 1000;
  const now = Date.now() / 1000;
  const body = selectorBody(config.selector);
  const shown = (metric: string) => (body ? `${metric}{${body}}` : metric);
  const found = await diagnoseSelector(ctx, Math.max(1, Math.round(q.checkIntervalMs / 1000)), c.requests);
  const intervals = found.kind === 'ok' || found.kind === 'short-range' ? found.intervals : [];
  const slowest = Math.max(0, ...intervals.map((i) => i.seconds));
  const scrape = slowest > 0 ? { scrapeIntervalSeconds: slowest } : {};
  const base = { group: q.group, ...scrape };

  const keysQuery = routingKeysQuery(q.group, config.selector);
  const keyRows = (await ctx.run(keysQuery, at)).filter((r) => r.metric.impl === 'domain' || r.metric.impl === 'legacy');
  const keyCounts = keyRows.length ? { ...zero(), ...Object.fromEntries(keyRows.map((r) => [r.metric.impl, r.count])) } : undefined;
  const keys: FigureExplain = {
    ...base,
    figure: 'routingKeys',
    reads: [keysQuery],
    series: keyRows.length,
    ...(keyCounts ? { counts: keyCounts } : {}),
    ...diagnoseKeys(keyCounts),
  };
  if (config.queries) return [...(await explainTemplates(ctx, config, c, q, range, at, base)), keys];

  const queries = conventionQueries(c, q.endpoints, range, q.group, config.selector);
  /** Series of the group's selectors, per implementation (the selectors of a check, at `to`). */
  const seriesOf = async (metric: string) => {
    const selectors = endpointSelectors(metric, q.endpoints, config.selector, c);
    const rows = await ctx.run(`count by (${c.impl.label}) (${selectors.join(' or ')})`, at);
    const counted = perImpl(c, rows);
    return counted.domain + counted.legacy;
  };

  const requestRows = await ctx.run(queries.requests, at);
  const series = await seriesOf(c.requests);
  const implValuesSeen =
    series === 0 && found.kind === 'ok'
      ? (await ctx.run(`count by (${c.impl.label}) ({${[body, `__name__=${quote(c.requests)}`].filter(Boolean).join(',')}})`, now))
          .map((r) => r.metric[c.impl.label] ?? `(no ${c.impl.label} label)`)
      : undefined;
  const ours = requestRows.filter((r) => implOf(c, r.metric));
  const requests: FigureExplain = {
    ...base,
    figure: 'requests',
    reads: [queries.requests],
    series,
    counts: perImpl(c, requestRows),
    ...diagnoseRequests({
      metric: shown(c.requests),
      source: 'Prometheus',
      series,
      ...(found.kind === 'no-target' ? { noTarget: found.message } : {}),
      ...(found.kind === 'no-series' ? { namesSeen: found.names } : {}),
      ...(found.kind === 'short-range' ? { shortRange: found.message } : {}),
      ...(implValuesSeen ? { implValuesSeen } : {}),
      impl: c.impl,
      status: { label: c.status, values: statusesServed(c, ours.map((r) => ({ labels: r.metric, count: r.count }))) },
      counts: perImpl(c, requestRows),
    }),
  };

  let latency: FigureExplain;
  if (c.histogram === null || queries.buckets === null) {
    latency = { ...base, figure: 'latency', reads: [], series: 0, ...diagnoseLatency({ metric: null, source: 'Prometheus', series: 0, p95: q.p95 }) };
  } else {
    const bucket = `${c.histogram}_bucket`;
    const bucketRows = await ctx.run(queries.buckets, at);
    const bucketSeries = await seriesOf(bucket);
    const named = bucketSeries === 0 ? await ctx.run(`count({${[body, `__name__=${quote(bucket)}`].filter(Boolean).join(',')}})`, now) : [1];
    const counts = perImpl(c, bucketRows, (r) => r.metric.le === '+Inf');
    latency = {
      ...base,
      figure: 'latency',
      reads: [queries.buckets],
      series: bucketSeries,
      counts,
      ...diagnoseLatency({
        metric: shown(bucket),
        source: 'Prometheus',
        series: bucketSeries,
        ...(named.length === 0 ? { namesSeen: await namesSeen(ctx, now) } : {}),
        counts,
        p95: q.p95,
      }),
    };
  }
  return [requests, latency, keys];
}

/** The plan's own PromQL: each template per implementation; a figure's series are its answers' rows. */
async function explainTemplates(
  ctx: SelectorContext,
  config: Config,
  c: GroupConvention,
  q: ExplainQuery,
  range: number,
  at: number,
  base: Pick<FigureExplain, 'group' | 'scrapeIntervalSeconds'>,
): Promise<FigureExplain[]> {
  const t = config.queries!;
  const run = async (template: string) => {
    const filled = IMPLS.map((impl) => ({
      impl,
      promql: fillQuery(template, { impl: c.impl, which: impl, match: c.match, rangeSeconds: range, endpoints: q.endpoints, group: q.group }),
    }));
    const answers = await Promise.all(filled.map(async (f) => ({ ...f, rows: await ctx.run(f.promql, at) })));
    const counts = Object.fromEntries(
      answers.map((a) => [a.impl, a.rows.filter((r) => r.metric.le === undefined || r.metric.le === '+Inf').reduce((n, r) => n + r.count, 0)]),
    ) as Record<Impl, number>;
    return { reads: filled.map((f) => f.promql), series: answers.reduce((n, a) => n + a.rows.length, 0), counts };
  };
  const requests = await run(t.requests);
  const source = 'Prometheus (target.metrics.queries.requests)';
  const out: FigureExplain[] = [
    {
      ...base,
      figure: 'requests',
      ...requests,
      ...diagnoseRequests({
        metric: 'target.metrics.queries.requests',
        source,
        series: requests.series,
        impl: c.impl,
        status: { label: 'of the errors query', values: [] },
        counts: requests.counts,
      }),
    },
  ];
  const buckets = t.buckets === undefined ? null : await run(t.buckets);
  out.push({
    ...base,
    figure: 'latency',
    ...(buckets ?? { reads: [], series: 0 }),
    ...diagnoseLatency({
      metric: buckets ? 'target.metrics.queries.buckets' : null,
      source,
      series: buckets?.series ?? 0,
      ...(buckets ? { counts: buckets.counts } : {}),
      p95: q.p95,
    }),
  });
  return out;
}
