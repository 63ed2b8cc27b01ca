import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import type { MetricsConfig } from '../../plan/schema';
import type { Endpoint, GroupSample } from '../../workflows/observations';
import { describeIssues, permanent, preview, transport } from '../errors';
import { durationMs } from '../settings';
import type { MetricsProvider } from './metrics-provider';
import {
  DURATION_METRIC,
  IMPLS,
  REQUESTS_METRIC,
  addRequests,
  bucketList,
  emptyStats,
  normalizeRoute,
  parseLe,
  routeSpellings,
  type Impl,
} from './series';

export type PrometheusMetricsConfig = Extract<MetricsConfig, { type: 'prometheus' }>;

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

/** `job="camera-api"` or `{job="camera-api"}` → `job="camera-api"`. */
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
 * Asks a Prometheus server for the increase over `[from, to]`, evaluated at `to`. Prometheus keeps
 * history, so this provider is stateless: no warmup, and any worker can answer.
 */
export class PrometheusMetricsProvider implements MetricsProvider {
  private readonly timeoutMs: number;

  constructor(
    private readonly config: PrometheusMetricsConfig,
    private readonly http: AxiosInstance = axios,
  ) {
    this.timeoutMs = durationMs(config.timeout, 'target.metrics.timeout', '10s');
  }

  async sample(query: { key: string; endpoints: Endpoint[]; from: Date; to: Date }): Promise<GroupSample> {
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
    const [requests, buckets] = await Promise.all([
      this.query(increaseQuery(REQUESTS_METRIC, query.endpoints, range, ['impl', 'status'], sel), at),
      this.query(increaseQuery(`${DURATION_METRIC}_bucket`, query.endpoints, range, ['impl', 'le'], sel), at),
    ]);
    if (requests.length === 0 && buckets.length === 0) await this.checkSelector();

    const stats = { domain: emptyStats(), legacy: emptyStats() };
    const isImpl = (v: string | undefined): v is Impl => (IMPLS as readonly string[]).includes(v ?? '');
    for (const r of requests) {
      if (isImpl(r.metric.impl)) addRequests(stats[r.metric.impl], r.metric.status, r.count);
    }
    const sums = { domain: new Map<number, number>(), legacy: new Map<number, number>() };
    for (const r of buckets) {
      const le = parseLe(r.metric.le);
      if (le === undefined || !isImpl(r.metric.impl)) continue;
      sums[r.metric.impl].set(le, (sums[r.metric.impl].get(le) ?? 0) + r.count);
    }
    stats.domain.buckets = bucketList(sums.domain);
    stats.legacy.buckets = bucketList(sums.legacy);
    return { from: query.from.toISOString(), to: query.to.toISOString(), ...stats };
  }

  /**
   * No series at all may be a quiet interval, or a selector matching nothing: the second would
   * look like "no traffic" forever, so it is told apart through the scrape targets' `up` series.
   * Asked about now, not the window: a window before the target was first scraped is just empty.
   */
  private async checkSelector(): Promise<void> {
    const body = selectorBody(this.config.selector);
    const up = await this.query(`count(up${body ? `{${body}}` : ''})`, Date.now() / 1000);
    if (up.length === 0) {
      throw new Error(
        `${this.config.url}: Prometheus scrapes no target matching {${body}} (up{${body}} is empty): check target.metrics.selector`,
      );
    }
  }

  /** Runs an instant query; counts are rounded (increase() extrapolates to fractions). */
  async query(promql: string, at: number): Promise<Array<{ metric: Record<string, string>; count: number }>> {
    const url = `${this.config.url.replace(/\/+$/, '')}/api/v1/query`;
    const where = `Prometheus ${url}`;
    const res = await transport(() =>
      this.http.get(url, {
        params: { query: promql, time: at.toFixed(3) },
        timeout: this.timeoutMs,
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
    return parsed.data.data.result.map((r) => {
      const v = Number(r.value[1]);
      return { metric: r.metric, count: Number.isFinite(v) ? Math.round(v) : 0 };
    });
  }
}
