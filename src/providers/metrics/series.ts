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

/** Adds `count` requests answered with `status` (a label value; non-numeric statuses count only as requests). */
export function addRequests(stats: ImplStats, status: string | undefined, count: number): void {
  stats.requests += count;
  const code = Number(status);
  if (!Number.isFinite(code)) return;
  if (code >= 500) stats.errors += count;
  else if (code >= 200 && code < 300) stats.successes += count;
}

/** Turns per-bound sums into the ascending `[bound, count]` list of `ImplStats`. */
export function bucketList(sums: Map<number, number>): Array<[number, number]> {
  return [...sums].sort((a, b) => a[0] - b[0]);
}
