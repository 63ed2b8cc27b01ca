import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import type { MetricsConfig } from '../../plan/schema';
import type { GroupSample } from '../../judge/samples';
import type { Endpoint } from '../../plan/endpoints';
import { MiB, bounded, describeIssues, permanent, preview } from '../errors';
import { durationMs } from '../settings';
import { parseDuration } from '../../plan/duration';
import {
  MetricsGarbageError,
  SeriesRegistry,
  checkCount,
  checkCumulative,
  parseBound,
  seriesText,
  type PlacedBucket,
} from './garbage';
import type { MetricsProvider, MetricsQuery } from './metrics-provider';
import { DURATION_METRIC, IMPLS, REQUESTS_METRIC, ROUTING_KEYS_METRIC, addRequests, bucketList, emptyStats, routeSpellings, type Impl } from './series';
import { normalizeRoute } from '../../plan/endpoints';

export type PrometheusMetricsConfig = Extract<MetricsConfig, { type: 'prometheus' }>;

/** The most of one query answer read; past it the query is cut off and is a metrics-source error. */
export const PROMETHEUS_MAX_BYTES = 20 * MiB;

/** What `/api/v1/targets` says of each active target that matters here. */
const targetsResponse = z.object({
  data: z.object({
    activeTargets: z.array(
      z.object({
        labels: z.record(z.string(), z.string()),
        scrapeInterval: z.string(),
      }),
    ),
  }),
});

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

/** A string literal in PromQL (double-quoted, Go escapes). */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** RE2 metacharacters escaped, for a `=~` matcher. */
function escapeRegex(s: string): string {
  return s.replace(/[\\.^$|?*+()[\]{}]/g, '\\$&');
}

/** `job="orders-api"` or `{job="orders-api"}` → `job="orders-api"`. */
function selectorBody(selector: string | undefined): string {
  const s = (selector ?? '').trim();
  return s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1).trim() : s;
}

/**
 * One vector selector per endpoint, joined with `or`: a matcher cannot pair a method with a route
 * by itself. Routes match both template spellings (`{id}` and `:id`).
 */
export function endpointSelectors(metric: string, endpoints: Endpoint[], selector?: string): string[] {
  const extra = selectorBody(selector);
  return endpoints.map((e) => {
    const spellings = routeSpellings(normalizeRoute(e.route));
    const route =
      spellings.length === 1
        ? `route=${quote(spellings[0])}`
        : `route=~${quote(spellings.map(escapeRegex).join('|'))}`;
    const matchers = [extra, `method=${quote(e.method.toUpperCase())}`, route].filter(Boolean);
    return `${metric}{${matchers.join(',')}}`;
  });
}

/** `sum by (<by>) (increase(a[Ns]) or increase(b[Ns]) ...)`. */
export function increaseQuery(
  metric: string,
  endpoints: Endpoint[],
  rangeSeconds: number,
  by: string[],
  selector?: string,
): string {
  const parts = endpointSelectors(metric, endpoints, selector).map((s) => `increase(${s}[${rangeSeconds}s])`);
  return `sum by (${by.join(', ')}) (${parts.join(' or ')})`;
}

/**
 * `max by (impl) (rollout_routing_keys{group="read"})`: the gauge as it stood at the query's time.
 * With several replicas each counts the keys it routed; a key seen by two would count twice in a
 * sum, so the largest replica's figure is taken: never more keys than there are, which keeps a
 * served-share interval built on it no narrower than the data allow.
 */
export function routingKeysQuery(group: string, selector?: string): string {
  const matchers = [selectorBody(selector), `group=${quote(group)}`].filter(Boolean);
  return `max by (impl) (${ROUTING_KEYS_METRIC}{${matchers.join(',')}})`;
}

/** One row of a query answer, checked: `count` is the value rounded, `at` names the row. */
interface Row {
  metric: Record<string, string>;
  count: number;
  at: string;
}

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

  constructor(
    private readonly config: PrometheusMetricsConfig,
    private readonly http: AxiosInstance = axios,
  ) {
    this.timeoutMs = durationMs(config.timeout, 'target.metrics.timeout', '10s');
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
    const bucketQuery = increaseQuery(
      `${DURATION_METRIC}_bucket`,
      query.endpoints,
      range,
      ['impl', 'le'],
      sel,
    );
    const [requests, buckets, keys] = await Promise.all([
      this.query(increaseQuery(REQUESTS_METRIC, query.endpoints, range, ['impl', 'status'], sel), at),
      this.query(bucketQuery, at),
      this.query(routingKeysQuery(query.group, sel), at),
    ]);
    if (requests.length === 0 && buckets.length === 0) await this.checkSelector(range);

    const stats = { domain: emptyStats(), legacy: emptyStats() };
    const isImpl = (v: string | undefined): v is Impl => (IMPLS as readonly string[]).includes(v ?? '');
    for (const r of requests) {
      if (isImpl(r.metric.impl)) addRequests(stats[r.metric.impl], r.metric.status, r.count);
    }
    const where = `Prometheus ${this.queryUrl()}`;
    const placed = { domain: [] as PlacedBucket[], legacy: [] as PlacedBucket[] };
    for (const r of buckets) {
      if (!isImpl(r.metric.impl)) continue;
      const le = parseBound(r.metric.le);
      if (le === undefined) {
        throw new MetricsGarbageError(
          'MetricsMalformed',
          `${where}: ${r.at}: ${seriesText('', r.metric)} has no numeric le label (query: ${bucketQuery})`,
        );
      }
      placed[r.metric.impl].push({ le, count: r.count, at: r.at });
    }
    for (const impl of IMPLS) {
      checkCumulative(placed[impl], `${DURATION_METRIC}_bucket{impl="${impl}"}`, where, {
        verb: 'grew by',
        note: ` (query: ${bucketQuery})`,
      });
      // +Inf is left out of ImplStats: it equals `requests`.
      stats[impl].buckets = bucketList(
        new Map(placed[impl].filter((b) => b.le !== Infinity).map((b) => [b.le, b.count])),
      );
    }
    // A gauge: its value at `to`, not an increase. No series: the source does not export it.
    const keyed = keys.filter((r) => isImpl(r.metric.impl));
    if (keyed.length) {
      for (const impl of IMPLS) stats[impl].keys = 0;
      for (const r of keyed) stats[r.metric.impl as Impl].keys = r.count;
    }
    return { from: query.from.toISOString(), to: query.to.toISOString(), ...stats };
  }

  private queryUrl(): string {
    return `${this.config.url.replace(/\/+$/, '')}/api/v1/query`;
  }

  /**
   * No series at all may be a quiet interval, or something that will look like "no traffic"
   * forever: a selector matching no target (told through the targets' `up` series), a counter of
   * another name, or checks shorter than two scrapes (`increase()` needs two samples in its range).
   * Those are errors that name the cause. Asked about now, not the window: a window before the
   * target was first scraped is just empty.
   */
  private async checkSelector(rangeSeconds: number): Promise<void> {
    const body = selectorBody(this.config.selector);
    const now = Date.now() / 1000;
    const up = await this.query(`up${body ? `{${body}}` : ''}`, now);
    if (up.length === 0) {
      throw new Error(
        `${this.config.url}: Prometheus scrapes no target matching {${body}} (up{${body}} is empty): check target.metrics.selector`,
      );
    }
    const matchers = (name: string) => [body, `__name__=${quote(name)}`].filter(Boolean).join(',');
    const named = await this.query(`count({${matchers(REQUESTS_METRIC)}})`, now);
    if (named.length === 0) {
      const seen = await this.query(
        `count by (__name__) ({${[body, '__name__=~".+(_total|_count|_bucket)"'].filter(Boolean).join(',')}})`,
        now,
      );
      // Those that look like request counters first: the one meant is most likely among them.
      const likely = (n: string) => (/request|http/i.test(n) ? 0 : 1);
      const names = [...new Set(seen.map((r) => r.metric.__name__).filter(Boolean))].sort(
        (a, b) => likely(a) - likely(b) || a.localeCompare(b),
      );
      throw new Error(
        `${this.config.url}: no series named ${REQUESTS_METRIC}${body ? `{${body}}` : ''} in Prometheus: the requests cannot be counted; ` +
          `counters seen: ${names.length ? names.slice(0, 12).join(', ') + (names.length > 12 ? ', …' : '') : 'none'}`,
      );
    }
    const intervals = await this.scrapeIntervals(up.map((r) => r.metric));
    const slowest = Math.max(0, ...intervals.map((i) => i.seconds));
    if (slowest > 0 && rangeSeconds < 2 * slowest) {
      const who = intervals.find((i) => i.seconds === slowest)!;
      throw new Error(
        `${this.config.url}: the check interval (${rangeSeconds}s) is shorter than two scrapes of ${who.target} (scraped every ${slowest}s): ` +
          `increase() sees no requests in it; set defaults.checkInterval to ${2 * slowest}s or more, or scrape more often`,
      );
    }
  }

  /** The scrape intervals of the targets behind `up` series (their job and instance), from `/api/v1/targets`. */
  private async scrapeIntervals(
    ups: Array<Record<string, string>>,
  ): Promise<Array<{ target: string; seconds: number }>> {
    const url = `${this.config.url.replace(/\/+$/, '')}/api/v1/targets`;
    const limits = { what: `Prometheus ${url}`, deadlineMs: this.timeoutMs, maxBytes: PROMETHEUS_MAX_BYTES };
    const res = await bounded(limits, (bounds) =>
      this.http.get(url, { ...bounds, params: { state: 'active' }, validateStatus: () => true }),
    );
    const parsed = targetsResponse.safeParse(res.data);
    // Only a hint: a Prometheus that does not say (an older one, a proxy) is not an error.
    if (res.status !== 200 || !parsed.success) return [];
    const wanted = new Set(ups.map((m) => `${m.job}\u0000${m.instance}`));
    return parsed.data.data.activeTargets
      .filter((t) => wanted.has(`${t.labels.job}\u0000${t.labels.instance}`))
      .map((t) => ({ target: `${t.labels.job}/${t.labels.instance}`, seconds: (parseDuration(t.scrapeInterval) ?? 0) / 1000 }));
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
