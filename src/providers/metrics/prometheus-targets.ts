import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { bounded } from '../errors';
import { parseDuration } from '../../plan/duration';
import { likelyFirst, listNames } from './explain';

/**
 * What Prometheus says of its targets, and why a selector finds no request series: read by a
 * sample that found nothing (to name the cause instead of reporting "no traffic" forever) and by
 * `rollout verify --explain` (to show what it found either way). One copy for both.
 */

/** One row of a query answer, checked: `count` is the value rounded, `at` names the row. */
export interface Row {
  metric: Record<string, string>;
  count: number;
  at: string;
}

/** An instant query of the provider (its deadline, size cap and garbage checks). */
export type RunQuery = (promql: string, at: number) => Promise<Row[]>;

/** How long the scrape intervals of `/api/v1/targets` are reused. */
const TARGETS_TTL_MS = 5 * 60_000;

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

/** A string literal in PromQL (double-quoted, Go escapes). */
export function quote(s: string): string {
  return JSON.stringify(s);
}

/** `job="orders-api"` or `{job="orders-api"}` → `job="orders-api"`. */
export function selectorBody(selector: string | undefined): string {
  const s = (selector ?? '').trim();
  return s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1).trim() : s;
}

/**
 * Every active target's scrape interval (s), by `job/instance`, fetched at most every 5 minutes
 * (the whole target list: a quiet service would fetch it at every check). Intervals change with
 * Prometheus's config only.
 */
export class ScrapeIntervals {
  private cached: { at: number; intervals: Map<string, number> } | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly http: AxiosInstance,
    private readonly limits: { deadlineMs: number; maxBytes: number },
  ) {}

  /** The scrape intervals of the targets behind `up` series (their job and instance). */
  async of(ups: Array<Record<string, string>>): Promise<Array<{ target: string; seconds: number }>> {
    const intervals = await this.all();
    return ups
      .map((m) => `${m.job}/${m.instance}`)
      .filter((target) => intervals.has(target))
      .map((target) => ({ target, seconds: intervals.get(target)! }));
  }

  private async all(): Promise<Map<string, number>> {
    if (this.cached && Date.now() - this.cached.at < TARGETS_TTL_MS) return this.cached.intervals;
    const url = `${this.baseUrl.replace(/\/+$/, '')}/api/v1/targets`;
    const res = await bounded({ what: `Prometheus ${url}`, ...this.limits }, (bounds) =>
      this.http.get(url, { ...bounds, params: { state: 'active' }, validateStatus: () => true }),
    );
    const parsed = targetsResponse.safeParse(res.data);
    // Only a hint: a Prometheus that does not say (an older one, a proxy) is not an error.
    if (res.status !== 200 || !parsed.success) return new Map();
    const intervals = new Map(
      parsed.data.data.activeTargets.map((t) => [
        `${t.labels.job}/${t.labels.instance}`,
        (parseDuration(t.scrapeInterval) ?? 0) / 1000,
      ]),
    );
    this.cached = { at: Date.now(), intervals };
    return intervals;
  }
}

/** What the selector finds: the first thing that keeps it from counting requests, or `ok`. */
export type SelectorFinding =
  | { kind: 'no-target'; message: string }
  | { kind: 'no-series'; message: string; metric: string; names: string[] }
  | { kind: 'short-range'; message: string; intervals: Array<{ target: string; seconds: number }> }
  | { kind: 'ok'; intervals: Array<{ target: string; seconds: number }> };

export interface SelectorContext {
  url: string;
  selector: string | undefined;
  run: RunQuery;
  intervals: ScrapeIntervals;
}

/** Counter, `_count` and `_bucket` names with the selector, those like a request counter first. */
export async function namesSeen(ctx: SelectorContext, at: number): Promise<string[]> {
  const body = selectorBody(ctx.selector);
  const seen = await ctx.run(
    `count by (__name__) ({${[body, '__name__=~".+(_total|_count|_bucket)"'].filter(Boolean).join(',')}})`,
    at,
  );
  return likelyFirst(seen.map((r) => r.metric.__name__));
}

/**
 * No series at all may be a quiet interval, or something that will look like "no traffic"
 * forever: a selector matching no target (told through the targets' `up` series), a metric of
 * another name, or checks shorter than two scrapes (`increase()` needs two samples in its range).
 * Asked about now, not the window: a window before the target was first scraped is just empty.
 * `what` completes "... in Prometheus: the ... cannot be counted".
 */
export async function diagnoseSelector(
  ctx: SelectorContext,
  rangeSeconds: number,
  metric: string,
  what = 'requests',
): Promise<SelectorFinding> {
  const body = selectorBody(ctx.selector);
  const now = Date.now() / 1000;
  const up = await ctx.run(`up${body ? `{${body}}` : ''}`, now);
  if (up.length === 0)
    return {
      kind: 'no-target',
      message: `${ctx.url}: Prometheus scrapes no target matching {${body}} (up{${body}} is empty): check target.metrics.selector`,
    };
  const matchers = [body, `__name__=${quote(metric)}`].filter(Boolean).join(',');
  const named = await ctx.run(`count({${matchers}})`, now);
  if (named.length === 0) {
    const names = await namesSeen(ctx, now);
    return {
      kind: 'no-series',
      metric,
      names,
      message:
        `${ctx.url}: no series named ${metric}${body ? `{${body}}` : ''} in Prometheus: the ${what} cannot be counted; ` +
        `counters seen: ${listNames(names)}`,
    };
  }
  const intervals = await ctx.intervals.of(up.map((r) => r.metric));
  const slowest = Math.max(0, ...intervals.map((i) => i.seconds));
  if (slowest > 0 && rangeSeconds < 2 * slowest) {
    const who = intervals.find((i) => i.seconds === slowest)!;
    return {
      kind: 'short-range',
      intervals,
      message:
        `${ctx.url}: the check interval (${rangeSeconds}s) is shorter than two scrapes of ${who.target} (scraped every ${slowest}s): ` +
        `increase() sees no requests in it; a check must span ${2 * slowest}s or more: raise defaults.checkInterval ` +
        `(a rollout started with --time-scale N checks every checkInterval ÷ N), or scrape more often`,
    };
  }
  return { kind: 'ok', intervals };
}
