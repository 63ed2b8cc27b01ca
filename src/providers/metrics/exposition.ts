import axios, { type AxiosInstance } from 'axios';
import type { MetricsConfig } from '../../plan/schema';
import type { GroupSample, SavedReading } from '../../judge/samples';
import { MiB, bounded, preview } from '../errors';
import { durationMs } from '../settings';
import { difference, readingOf, saveReading } from './exposition-reading';
import type { ExplainQuery, MetricsProvider, MetricsQuery } from './metrics-provider';
import type { FigureExplain } from './explain';
import { explainScrape } from './exposition-explain';
import { emptyStats } from './series';
import { baseConvention, conventionFor } from './conventions';
import { endpointKey } from '../../plan/endpoints';
import { parseExposition, type ExpositionSample } from './text-format';

export type ExpositionMetricsConfig = Extract<MetricsConfig, { type: 'exposition' }>;
export type { ExpositionSample } from './text-format';

/** The most of a `/metrics` answer read; past it the scrape is cut off and is a metrics-source error. */
export const METRICS_MAX_BYTES = 20 * MiB;

/**
 * Scrapes a target's own `/metrics`. A scrape holds totals since the target started, so this
 * provider reports the difference to the group's previous reading: the caller's (`previous`, kept
 * in durable state, so a worker restart loses no traffic), else its own memory per caller `key`.
 * The first reading, and the first after a counter reset, is a `warmup` with zeros; every sample
 * returns its reading as `reference` for the next.
 * A scrape with garbage in the group's series is refused before it can become the previous
 * reading, so the next good scrape is diffed against the last good one.
 */
export class ExpositionMetricsProvider implements MetricsProvider {
  private readonly last = new Map<string, SavedReading>();
  private readonly timeoutMs: number;

  constructor(
    private readonly config: ExpositionMetricsConfig,
    private readonly http: AxiosInstance = axios,
  ) {
    this.timeoutMs = durationMs(config.timeout, 'target.metrics.timeout', '10s');
  }

  async sample(query: MetricsQuery): Promise<GroupSample> {
    const where = `GET ${this.config.url}`;
    const families = await this.scrape();
    const now = new Date();
    const cur = readingOf(families, { ...query, convention: conventionFor(this.config, query.group) }, now, where);
    // One key samples several groups; each group keeps its own previous reading.
    const slot = [
      query.key,
      query.group,
      query.endpoints
        .map((e) => endpointKey(e.method, e.route))
        .sort()
        .join(','),
    ].join('\u0000');
    const prev = query.previous === undefined ? this.last.get(slot) : (query.previous ?? undefined);
    const diff = prev ? difference(prev, cur, where) : undefined;
    // Only now: readingOf() and difference() throw on garbage, which must never become the reference.
    const reference = saveReading(cur);
    // A caller that keeps the reading itself needs no copy here (one per rollout, for good).
    if (query.previous === undefined) this.last.set(slot, reference);
    if (!prev || !diff) {
      return {
        from: now.toISOString(),
        to: now.toISOString(),
        domain: emptyStats(),
        legacy: emptyStats(),
        warmup: true,
        reference,
      };
    }
    return { from: prev.at, to: now.toISOString(), ...diff, reference };
  }

  /** Fetches and parses `/metrics`; anything but Prometheus text with the convention's request counter (`http_requests_total`) is an error. */
  async scrape(): Promise<Map<string, ExpositionSample[]>> {
    const { families, body } = await this.fetchFamilies();
    const problem = this.missingCounter(families, body);
    if (problem) throw new Error(problem);
    return families;
  }

  /** `rollout verify --explain` (exposition-explain.ts): one scrape, counts from the caller's sample. */
  async explain(query: ExplainQuery): Promise<FigureExplain[]> {
    const { families, body } = await this.fetchFamilies();
    return explainScrape(families, this.config, query, this.missingCounter(families, body), (name) =>
      declares(body, name),
    );
  }

  /** Fetches and parses `/metrics`; anything but Prometheus text is an error. */
  private async fetchFamilies(): Promise<{ families: Map<string, ExpositionSample[]>; body: string }> {
    const where = `GET ${this.config.url}`;
    const limits = {
      what: `metrics from ${this.config.url}`,
      deadlineMs: this.timeoutMs,
      maxBytes: METRICS_MAX_BYTES,
    };
    const res = await bounded(limits, (bounds) =>
      this.http.get<string>(this.config.url, {
        ...bounds,
        responseType: 'text',
        transformResponse: (d: unknown) => d,
        validateStatus: () => true,
        headers: { Accept: 'text/plain;version=0.0.4;q=0.9,*/*;q=0.1' },
      }),
    );
    const body = typeof res.data === 'string' ? res.data : String(res.data ?? '');
    if (res.status < 200 || res.status >= 300)
      throw new Error(`${where}: HTTP ${res.status}: ${preview(body)}`);
    const type = String(res.headers['content-type'] ?? '');
    if (/html/i.test(type) || /^\s*<(!doctype|html|\?xml|[a-z]+[\s>])/i.test(body)) {
      throw new Error(
        `${where}: answered HTML (content-type ${type || 'none'}), not Prometheus text format: ${preview(body)}`,
      );
    }
    if (/json/i.test(type) || /^\s*[[{]/.test(body)) {
      throw new Error(
        `${where}: answered JSON (content-type ${type || 'none'}), not Prometheus text format: ${preview(body)}`,
      );
    }
    if (body.trim() === '') throw new Error(`${where}: answered an empty body, not Prometheus text format`);
    return { families: parseExposition(body, where), body };
  }

  /** Why a scrape lacks the request counter, `null` when it has it. */
  private missingCounter(families: Map<string, ExpositionSample[]>, body: string): string | null {
    const where = `GET ${this.config.url}`;
    const requests = baseConvention(this.config).requests;
    // prom-client lists HELP/TYPE even before the first request; no such lines means a wrong URL.
    if (!families.has(requests) && !declares(body, requests)) {
      return `${where}: has no ${requests} metric (is target.metrics.url the API's /metrics${this.config.preset ? '' : ', or does the service name its metrics after a preset (target.metrics.preset)'}?)`;
    }
    return null;
  }
}

/**
 * Whether a scrape declares the family of series `name` (HELP/TYPE lines) even with no sample yet:
 * a histogram's `_count`/`_bucket` or a counter's `_total` is declared under its family's name.
 */
function declares(body: string, name: string): boolean {
  const family = name.replace(/_(count|bucket|total)$/, '');
  return new RegExp(`^#\\s*(HELP|TYPE)\\s+(${name}|${family}|${family}_total)\\s`, 'm').test(body);
}
