import type { Endpoint } from '../../plan/endpoints';
import { normalizeRoute } from '../../plan/endpoints';
import { conventionFor, type GroupConvention } from './conventions';
import { ROUTING_KEYS_METRIC, routeSpellings } from './series';
import { quote, selectorBody } from './prometheus-targets';

/**
 * The PromQL one check of a group runs (docs/providers.md shows it): pure text, so the provider's
 * sample and `rollout verify --explain` run exactly the same queries.
 */

/** RE2 metacharacters escaped, for a `=~` matcher. */
function escapeRegex(s: string): string {
  return s.replace(/[\\.^$|?*+()[\]{}]/g, '\\$&');
}

/**
 * One vector selector per endpoint, joined with `or`: a matcher cannot pair a method with a route
 * by itself. Routes match both template spellings (`{id}` and `:id`). Labels are the convention's
 * (the example backend's when none is given); a convention without a route label has one selector
 * for the whole group (its methods, when it has a method label), and the group's own matchers.
 */
export function endpointSelectors(
  metric: string,
  endpoints: Endpoint[],
  selector?: string,
  convention: GroupConvention = conventionFor({}, ''),
): string[] {
  const c = convention;
  const extra = [selectorBody(selector), ...Object.entries(c.match).map(([k, v]) => `${k}=${quote(v)}`)].filter(Boolean);
  const selectorOf = (matchers: string[]) => (matchers.length ? `${metric}{${matchers.join(',')}}` : metric);
  if (c.route === null) {
    const methods = [...new Set(endpoints.map((e) => e.method.toUpperCase()))].sort();
    const method =
      c.method === null ? [] : [methods.length === 1 ? `${c.method}=${quote(methods[0])}` : `${c.method}=~${quote(methods.join('|'))}`];
    return [selectorOf([...extra, ...method])];
  }
  const route = c.route;
  const selectors = endpoints.map((e) => {
    const spellings = routeSpellings(normalizeRoute(e.route));
    const routeMatcher =
      spellings.length === 1
        ? `${route}=${quote(spellings[0])}`
        : `${route}=~${quote(spellings.map(escapeRegex).join('|'))}`;
    const method = c.method === null ? [] : [`${c.method}=${quote(e.method.toUpperCase())}`];
    return selectorOf([...extra, ...method, routeMatcher]);
  });
  // Without a method label two endpoints of one route are one selector (`or` would not add them twice anyway).
  return [...new Set(selectors)];
}

/** `sum by (<by>) (increase(a[Ns]) or increase(b[Ns]) ...)`. */
export function increaseQuery(
  metric: string,
  endpoints: Endpoint[],
  rangeSeconds: number,
  by: string[],
  selector?: string,
  convention?: GroupConvention,
): string {
  const parts = endpointSelectors(metric, endpoints, selector, convention).map((s) => `increase(${s}[${rangeSeconds}s])`);
  return `sum by (${by.join(', ')}) (${parts.join(' or ')})`;
}

/**
 * The three queries one check of a group runs for a convention (docs/providers.md shows them):
 * requests by implementation and status, buckets by implementation and bound (none without a
 * histogram), and the routing-keys gauge.
 */
export function conventionQueries(
  c: GroupConvention,
  endpoints: Endpoint[],
  rangeSeconds: number,
  group: string,
  selector?: string,
): { requests: string; buckets: string | null; keys: string } {
  return {
    requests: increaseQuery(c.requests, endpoints, rangeSeconds, [c.impl.label, c.status], selector, c),
    buckets:
      c.histogram === null
        ? null
        : increaseQuery(`${c.histogram}_bucket`, endpoints, rangeSeconds, [c.impl.label, 'le'], selector, c),
    keys: routingKeysQuery(group, selector),
  };
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
