import type { ImplStats } from '../../judge/samples';
import { endpointKey, normalizeRoute, type Endpoint } from '../../plan/endpoints';

/**
 * What both metrics providers share: which series belong to the endpoints being rolled out, and
 * how counts add up per implementation.
 */

export const REQUESTS_METRIC = 'http_requests_total';
export const DURATION_METRIC = 'http_request_duration_seconds';
/** Gauge `{group, impl}`: distinct routing keys sent to each implementation since the group's routing last changed. */
export const ROUTING_KEYS_METRIC = 'rollout_routing_keys';
export const IMPLS = ['domain', 'legacy'] as const;
export type Impl = (typeof IMPLS)[number];


/** Both spellings of a route template, for label matchers. */
export function routeSpellings(route: string): string[] {
  const braces = normalizeRoute(route);
  const colon = braces.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
  return braces === colon ? [braces] : [braces, colon];
}


/** A predicate matching `method`/`route` labels against the endpoints of a group. */
export function endpointMatcher(endpoints: Endpoint[]): (labels: Record<string, string>) => boolean {
  const wanted = new Set(endpoints.map((e) => endpointKey(e.method, e.route)));
  return (labels) =>
    labels.method !== undefined &&
    labels.route !== undefined &&
    wanted.has(endpointKey(labels.method, labels.route));
}

export function emptyStats(): ImplStats {
  return { requests: 0, errors: 0, successes: 0, buckets: [] };
}

/**
 * The class (1–5) of a status label: a code (`503`) or a class as routers export them (`5xx`,
 * `5XX`); `null` for anything else (`OK`, `error`, no label).
 */
export function statusClass(status: string | undefined): number | null {
  const m = /^([1-5])(?:\d\d|xx)$/i.exec(status?.trim() ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Adds `count` requests answered with `status` (a label value). A status that is neither a code
 * nor a class is counted apart (`unknownStatus`): read as "not a success" it would roll a healthy
 * canary back on a success rate of 0%.
 */
export function addRequests(stats: ImplStats, status: string | undefined, count: number): void {
  stats.requests += count;
  const c = statusClass(status);
  // A series that saw none (HAProxy lists `code="other"` at 0 always) leaves the field absent.
  if (c === null) {
    if (count > 0) stats.unknownStatus = (stats.unknownStatus ?? 0) + count;
  }
  else if (c === 5) stats.errors += count;
  else if (c === 2) stats.successes += count;
}

/** Turns per-bound sums into the ascending `[bound, count]` list of `ImplStats`. */
export function bucketList(sums: Map<number, number>): Array<[number, number]> {
  return [...sums].sort((a, b) => a[0] - b[0]);
}
