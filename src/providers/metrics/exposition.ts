import axios, { type AxiosInstance } from 'axios';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { z } from 'zod';
import type { MetricsConfig } from '../../plan/schema';
import type { Endpoint, GroupSample, ImplStats } from '../../workflows/observations';
import { messageOf, preview, transport } from '../errors';
import { durationMs } from '../settings';
import type { MetricsProvider } from './metrics-provider';
import {
  DURATION_METRIC,
  IMPLS,
  REQUESTS_METRIC,
  addRequests,
  bucketList,
  emptyStats,
  endpointKey,
  endpointMatcher,
  parseLe,
  type Impl,
} from './series';

export type ExpositionMetricsConfig = Extract<MetricsConfig, { type: 'exposition' }>;

/** One sample line: labels and value. */
export interface ExpositionSample {
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const NUMBER = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf|NaN|nan)$/;

const sampleSchema = z.object({
  value: z.string({ error: 'has no value' }).regex(NUMBER, 'value is not a number'),
  labels: z.record(z.string(), z.string()).optional(),
});
const familySchema = z.object({
  name: z.string().regex(METRIC_NAME, 'is not a metric name'),
  metrics: z.array(sampleSchema),
});

/**
 * Parses Prometheus text format into samples by metric name (histogram series appear under their
 * `_bucket`, `_sum` and `_count` names, labels intact).
 *
 * Uses `parse-prometheus-text-format` for the line syntax (escapes, timestamps), with two guards:
 * - its histogram grouping merges the buckets of every labelled series into one and drops their
 *   labels, so histogram and summary `# TYPE` lines are removed first and their series come out as
 *   plain samples;
 * - it silently drops a last line without a newline, so one is added.
 * The result is checked with zod; `where` (the URL) and the offending sample are named on failure.
 */
export function parseExposition(text: string, where: string): Map<string, ExpositionSample[]> {
  const cleaned = text
    .split('\n')
    .filter((line) => !/^#\s*TYPE\s+\S+\s+(histogram|summary|gaugehistogram)\s*$/i.test(line.trim()))
    .join('\n');
  let raw: unknown;
  try {
    raw = parsePrometheusTextFormat(`${cleaned}\n`);
  } catch (err) {
    throw new Error(`${where}: not Prometheus text format: ${messageOf(err)}`);
  }
  const families = z.array(z.unknown()).parse(raw);
  const out = new Map<string, ExpositionSample[]>();
  families.forEach((family) => {
    const parsed = familySchema.safeParse(family);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const f = family as {
        name?: unknown;
        metrics?: Array<{ labels?: Record<string, string>; value?: unknown }>;
      };
      const name = typeof f.name === 'string' ? f.name : '?';
      const [, index] = issue.path as [string, number];
      const sample = typeof index === 'number' ? f.metrics?.[index] : undefined;
      const labels = sample?.labels
        ? `{${Object.entries(sample.labels)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(',')}}`
        : '';
      const what = sample
        ? `sample ${preview(`${name}${labels} ${String(sample.value ?? '')}`)}`
        : `metric ${preview(name)}`;
      throw new Error(`${where}: not Prometheus text format: ${what}: ${issue.message}`);
    }
    const list = out.get(parsed.data.name) ?? [];
    for (const s of parsed.data.metrics) list.push({ labels: s.labels ?? {}, value: parseValue(s.value) });
    out.set(parsed.data.name, list);
  });
  return out;
}

function parseValue(v: string): number {
  const lower = v.toLowerCase().replace(/^\+/, '');
  if (lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  return Number(v);
}

/** The counters that matter to one group, by series identity. */
interface Reading {
  at: Date;
  series: Map<
    string,
    { impl: Impl; kind: 'requests' | 'bucket'; status?: string; le?: number; value: number }
  >;
}

function seriesId(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/** Selects the group's series from a scrape. */
export function readingOf(
  families: Map<string, ExpositionSample[]>,
  endpoints: Endpoint[],
  at: Date,
): Reading {
  const matches = endpointMatcher(endpoints);
  const series: Reading['series'] = new Map();
  const isImpl = (v: string | undefined): v is Impl => (IMPLS as readonly string[]).includes(v ?? '');
  for (const s of families.get(REQUESTS_METRIC) ?? []) {
    if (!matches(s.labels) || !isImpl(s.labels.impl)) continue;
    series.set(seriesId(REQUESTS_METRIC, s.labels), {
      impl: s.labels.impl,
      kind: 'requests',
      status: s.labels.status,
      value: s.value,
    });
  }
  for (const s of families.get(`${DURATION_METRIC}_bucket`) ?? []) {
    const le = parseLe(s.labels.le);
    if (le === undefined || !matches(s.labels) || !isImpl(s.labels.impl)) continue;
    series.set(seriesId(`${DURATION_METRIC}_bucket`, s.labels), {
      impl: s.labels.impl,
      kind: 'bucket',
      le,
      value: s.value,
    });
  }
  return { at, series };
}

/**
 * The increase from `prev` to `cur` per implementation, or `undefined` when a counter went down
 * or disappeared: the target restarted and the difference means nothing.
 */
export function difference(
  prev: Reading,
  cur: Reading,
): { domain: ImplStats; legacy: ImplStats } | undefined {
  for (const [id, p] of prev.series) {
    const c = cur.series.get(id);
    if (!c || c.value < p.value) return undefined;
  }
  const stats = { domain: emptyStats(), legacy: emptyStats() };
  const buckets = { domain: new Map<number, number>(), legacy: new Map<number, number>() };
  for (const [id, c] of cur.series) {
    // A series born since the last reading started at zero.
    const delta = c.value - (prev.series.get(id)?.value ?? 0);
    if (c.kind === 'requests') addRequests(stats[c.impl], c.status, delta);
    else buckets[c.impl].set(c.le!, (buckets[c.impl].get(c.le!) ?? 0) + delta);
  }
  stats.domain.buckets = bucketList(buckets.domain);
  stats.legacy.buckets = bucketList(buckets.legacy);
  return stats;
}

/**
 * Scrapes a target's own `/metrics`. A scrape holds totals since the target started, so this
 * provider keeps the previous reading per caller `key` (in memory) and reports the difference;
 * the first reading for a key, and the first after a counter reset, is a `warmup` with zeros.
 */
export class ExpositionMetricsProvider implements MetricsProvider {
  private readonly last = new Map<string, Reading>();
  private readonly timeoutMs: number;

  constructor(
    private readonly config: ExpositionMetricsConfig,
    private readonly http: AxiosInstance = axios,
  ) {
    this.timeoutMs = durationMs(config.timeout, 'target.metrics.timeout', '10s');
  }

  async sample(query: { key: string; endpoints: Endpoint[]; from: Date; to: Date }): Promise<GroupSample> {
    const families = await this.scrape();
    const now = new Date();
    const cur = readingOf(families, query.endpoints, now);
    // One key may sample several groups; each group's endpoints keep their own previous reading.
    const slot = `${query.key}\u0000${query.endpoints
      .map((e) => endpointKey(e.method, e.route))
      .sort()
      .join(',')}`;
    const prev = this.last.get(slot);
    this.last.set(slot, cur);
    const diff = prev ? difference(prev, cur) : undefined;
    if (!prev || !diff) {
      return {
        from: now.toISOString(),
        to: now.toISOString(),
        domain: emptyStats(),
        legacy: emptyStats(),
        warmup: true,
      };
    }
    return { from: prev.at.toISOString(), to: now.toISOString(), ...diff };
  }

  /** Fetches and parses `/metrics`; anything but Prometheus text with `http_requests_total` is an error. */
  async scrape(): Promise<Map<string, ExpositionSample[]>> {
    const where = `GET ${this.config.url}`;
    const res = await transport(() =>
      this.http.get<string>(this.config.url, {
        timeout: this.timeoutMs,
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
    const families = parseExposition(body, where);
    // prom-client lists HELP/TYPE even before the first request; no such lines means a wrong URL.
    if (
      !families.has(REQUESTS_METRIC) &&
      !new RegExp(`^#\\s*(HELP|TYPE)\\s+${REQUESTS_METRIC}\\s`, 'm').test(body)
    ) {
      throw new Error(
        `${where}: has no ${REQUESTS_METRIC} metric (is target.metrics.url the API's /metrics?)`,
      );
    }
    return families;
  }
}
