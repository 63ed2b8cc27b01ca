import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import type { MetricsConfig } from '../../plan/schema';
import type { GroupSample, ImplStats } from '../../judge/samples';
import { MiB, bounded, describeIssues, permanent, preview } from '../errors';
import { durationMs } from '../settings';
import {
  MetricsGarbageError,
  SeriesRegistry,
  checkCount,
  checkCumulative,
  parseBound,
  seriesText,
  type PlacedBucket,
} from './garbage';
import type { ExplainQuery, MetricsProvider, MetricsQuery } from './metrics-provider';
import type { FigureExplain } from './explain';
import { explainPrometheus } from './prometheus-explain';
import { IMPLS, addRequests, bucketList, emptyStats, type Impl } from './series';
import { boundSeconds, conventionFor, implOf, statusOf, type GroupConvention } from './conventions';
import { fillQuery } from './query-templates';
import { conventionQueries, routingKeysQuery } from './promql';
import { ScrapeIntervals, diagnoseSelector, quote, type Row, type SelectorContext } from './prometheus-targets';

export { conventionQueries, endpointSelectors, increaseQuery, routingKeysQuery } from './promql';

export type PrometheusMetricsConfig = Extract<MetricsConfig, { type: 'prometheus' }>;

/** The most of one query answer read; past it the query is cut off and is a metrics-source error. */
export const PROMETHEUS_MAX_BYTES = 20 * MiB;

/** `/api/v1/query` answers (https://prometheus.io/docs/prometheus/latest/querying/api/). */
const vectorResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.object({
      resultType: z.literal('vector'),
      result: z.array(
        z.object({
          metric: z.record(z.string(), z.string()),
          value: z.tuple([z.number(), z.string()]),
        }),
      ),
    }),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string() }),
]);

/**
 * Asks a Prometheus server for the increase over `[from, to]`, evaluated at `to`. Prometheus keeps
 * history, so this provider is stateless: no warmup, and any worker can answer.
 *
 * Garbage in an answer (NaN, ±Inf or negative values, a series twice, buckets that fall as `le`
 * grows) is a `MetricsGarbageError` naming the row and the query. Buckets are checked after
 * rounding: `increase()` scales every bucket of a series by the same factor, and rounding keeps
 * order, so only a broken answer fails. `+Inf` is not compared with the request counter: two
 * metrics, each extrapolated on its own, need not agree (see exposition-reading.ts).
 */
export class PrometheusMetricsProvider implements MetricsProvider {
  private readonly timeoutMs: number;
  /** Scrape intervals by target, from `/api/v1/targets`. */
  readonly intervals: ScrapeIntervals;

  constructor(
    private readonly config: PrometheusMetricsConfig,
    private readonly http: AxiosInstance = axios,
  ) {
    this.timeoutMs = durationMs(config.timeout, 'target.metrics.timeout', '10s');
    this.intervals = new ScrapeIntervals(config.url, http, { deadlineMs: this.timeoutMs, maxBytes: PROMETHEUS_MAX_BYTES });
  }

  async sample(query: MetricsQuery): Promise<GroupSample> {
    if (query.endpoints.length === 0) {
      return {
        from: query.from.toISOString(),
        to: query.to.toISOString(),
        domain: emptyStats(),
        legacy: emptyStats(),
      };
    }
    const range = Math.max(1, Math.round((query.to.getTime() - query.from.getTime()) / 1000));
    const at = query.to.getTime() / 1000;
    const sel = this.config.selector;
    const c = conventionFor(this.config, query.group);
    if (this.config.queries) return this.sampleTemplates(query, c, range, at);
    const q = conventionQueries(c, query.endpoints, range, query.group, sel);
    const bucketQuery = q.buckets;
    const [requests, buckets, keys] = await Promise.all([
      this.query(q.requests, at),
      // No histogram (HAProxy): no buckets, and the p95 check says it cannot see.
      bucketQuery === null ? Promise.resolve([]) : this.query(bucketQuery, at),
      this.query(q.keys, at),
    ]);
    if (requests.length === 0 && buckets.length === 0) await this.checkSelector(range, c.requests);

    const stats = { domain: emptyStats(), legacy: emptyStats() };
    for (const r of requests) {
      const impl = implOf(c, r.metric);
      if (impl) addRequests(stats[impl], statusOf(c, r.metric), r.count);
    }
    const where = `Prometheus ${this.queryUrl()}`;
    const placed = { domain: [] as PlacedBucket[], legacy: [] as PlacedBucket[] };
    for (const r of buckets) {
      const impl = implOf(c, r.metric);
      if (!impl) continue;
      const le = parseBound(r.metric.le);
      if (le === undefined) {
        throw new MetricsGarbageError(
          'MetricsMalformed',
          `${where}: ${r.at}: ${seriesText('', r.metric)} has no numeric le label (query: ${bucketQuery})`,
        );
      }
      placed[impl].push({ le: boundSeconds(c, le), count: r.count, at: r.at });
    }
    for (const impl of IMPLS) {
      checkCumulative(placed[impl], `${c.histogram}_bucket{${c.impl.label}=${quote(c.impl[impl])}}`, where, {
        verb: 'grew by',
        note: ` (query: ${bucketQuery})`,
      });
      // +Inf is left out of ImplStats: it equals `requests`.
      stats[impl].buckets = bucketList(
        new Map(placed[impl].filter((b) => b.le !== Infinity).map((b) => [b.le, b.count])),
      );
    }
    this.addKeys(stats, keys);
    return { from: query.from.toISOString(), to: query.to.toISOString(), ...stats };
  }

  /** A gauge: its value at `to`, not an increase. No series: the source does not export it. */
  private addKeys(stats: { domain: ImplStats; legacy: ImplStats }, keys: Row[]): void {
    const isImpl = (v: string | undefined): v is Impl => (IMPLS as readonly string[]).includes(v ?? '');
    const keyed = keys.filter((r) => isImpl(r.metric.impl));
    if (keyed.length) {
      for (const impl of IMPLS) stats[impl].keys = 0;
      for (const r of keyed) stats[r.metric.impl as Impl].keys = r.count;
    }
  }

  /**
   * The plan's own PromQL (`target.metrics.queries`), each template run once per implementation:
   * the values of an answer are added up; `buckets` adds up per `le`. An implementation whose
   * requests query finds no series at all while the other's does is a quiet one; both finding none
   * is an error that names the query (a misspelt metric would otherwise read as no traffic forever).
   */
  private async sampleTemplates(query: MetricsQuery, c: GroupConvention, range: number, at: number): Promise<GroupSample> {
    const t = this.config.queries!;
    const where = `Prometheus ${this.queryUrl()}`;
    const fill = (template: string, impl: Impl) =>
      fillQuery(template, { impl: c.impl, which: impl, match: c.match, rangeSeconds: range, endpoints: query.endpoints, group: query.group });
    const run = async (template: string | undefined, impl: Impl) =>
      template === undefined ? undefined : { promql: fill(template, impl), rows: await this.query(fill(template, impl), at) };
    const perImpl = await Promise.all(
      IMPLS.map(async (impl) => {
        const [requests, errors, successes, buckets] = await Promise.all([
          run(t.requests, impl),
          run(t.errors, impl),
          run(t.successes, impl),
          run(t.buckets, impl),
        ]);
        return { impl, requests: requests!, errors: errors!, successes, buckets };
      }),
    );
    const keys = await this.query(routingKeysQuery(query.group, this.config.selector), at);
    if (perImpl.every((p) => p.requests.rows.length === 0))
      throw new Error(
        `${this.config.url}: target.metrics.queries.requests finds no series for either implementation (query: ${perImpl[0].requests.promql}): the requests cannot be counted`,
      );
    const total = (rows: Row[]) => rows.reduce((n, r) => n + r.count, 0);
    const stats = { domain: emptyStats(), legacy: emptyStats() };
    for (const p of perImpl) {
      const s = stats[p.impl];
      s.requests = total(p.requests.rows);
      s.errors = total(p.errors.rows);
      // Without a successes query, whatever is not an error (the plan was warned at validation).
      s.successes = p.successes ? total(p.successes.rows) : Math.max(0, s.requests - s.errors);
      if (!p.buckets) continue;
      const sums = new Map<number, number>();
      for (const r of p.buckets.rows) {
        const le = parseBound(r.metric.le);
        if (le === undefined)
          throw new MetricsGarbageError(
            'MetricsMalformed',
            `${where}: ${r.at}: ${seriesText('', r.metric)} has no numeric le label (query: ${p.buckets.promql})`,
          );
        sums.set(le, (sums.get(le) ?? 0) + r.count);
      }
      const placed = [...sums].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count, at: `le="${le}"` }));
      checkCumulative(placed, `target.metrics.queries.buckets (${p.impl})`, where, {
        verb: 'grew by',
        note: ` (query: ${p.buckets.promql})`,
      });
      s.buckets = bucketList(new Map(placed.filter((b) => b.le !== Infinity).map((b) => [b.le, b.count])));
    }
    this.addKeys(stats, keys);
    return { from: query.from.toISOString(), to: query.to.toISOString(), ...stats };
  }

  private queryUrl(): string {
    return `${this.config.url.replace(/\/+$/, '')}/api/v1/query`;
  }

  /** `rollout verify --explain` (prometheus-explain.ts). */
  explain(query: ExplainQuery): Promise<FigureExplain[]> {
    return explainPrometheus(this.selectorContext(), this.config, query);
  }

  /** What `diagnoseSelector` asks with: this provider's queries, URL and selector. */
  selectorContext(): SelectorContext {
    return { url: this.config.url, selector: this.config.selector, run: (q, at) => this.query(q, at), intervals: this.intervals };
  }

  /** No series at all: an error naming the cause when it is not a quiet interval (prometheus-targets.ts). */
  private async checkSelector(rangeSeconds: number, requestsMetric: string): Promise<void> {
    const found = await diagnoseSelector(this.selectorContext(), rangeSeconds, requestsMetric);
    if (found.kind !== 'ok') throw new Error(found.message);
  }

  /**
   * Runs an instant query whose every value is a count; counts are rounded (increase()
   * extrapolates to fractions). A value that is not a finite count, or a series listed twice, is a
   * `MetricsGarbageError`.
   */
  async query(promql: string, at: number): Promise<Row[]> {
    const url = this.queryUrl();
    const where = `Prometheus ${url}`;
    const limits = { what: where, deadlineMs: this.timeoutMs, maxBytes: PROMETHEUS_MAX_BYTES };
    const res = await bounded(limits, (bounds) =>
      this.http.get(url, {
        ...bounds,
        params: { query: promql, time: at.toFixed(3) },
        validateStatus: () => true,
        responseType: 'text',
        transformResponse: (d: unknown) => d,
      }),
    );
    const text = typeof res.data === 'string' ? res.data : String(res.data ?? '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${where}: HTTP ${res.status}, not JSON: ${preview(text)}`);
    }
    const parsed = vectorResponse.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `${where}: HTTP ${res.status}, unexpected answer: ${describeIssues(parsed.error)}; got ${preview(json)}`,
      );
    }
    if (parsed.data.status === 'error') {
      const msg = `${where}: ${parsed.data.errorType ?? 'error'}: ${parsed.data.error} (query: ${promql})`;
      // A query Prometheus cannot parse comes from our config (the selector): no retry fixes it.
      if (parsed.data.errorType === 'bad_data' || res.status === 400) throw permanent(msg);
      throw new Error(msg);
    }
    if (res.status < 200 || res.status >= 300)
      throw new Error(`${where}: HTTP ${res.status}: ${preview(text)}`);
    const note = ` (query: ${promql})`;
    const seen = new SeriesRegistry(where, note);
    return parsed.data.data.result.map((r, i) => {
      const place = `result[${i}]`;
      const series = seriesText('', r.metric);
      seen.add('', r.metric, place);
      const v = parseSampleValue(r.value[1]);
      checkCount(v, series, place, where, note);
      return { metric: r.metric, count: Math.round(v), at: place };
    });
  }
}

/** Prometheus writes sample values as Go formats floats: `NaN`, `+Inf`, `-Inf`, or a number. */
function parseSampleValue(text: string): number {
  const t = text.trim();
  if (t === '+Inf' || t === 'Inf') return Infinity;
  if (t === '-Inf') return -Infinity;
  if (t === '' || t === 'NaN') return NaN;
  return Number(t);
}
