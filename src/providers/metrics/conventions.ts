import type { Endpoint } from '../../plan/endpoints';
import { endpointKey } from '../../plan/endpoints';
import {
  conventionOf,
  groupConvention,
  type GroupConvention,
  type MetricsConvention,
  type MetricsMappingConfig,
} from '../../plan/metrics-conventions';
import { permanent } from '../errors';
import type { Impl } from './series';

/**
 * Reading series through a convention (src/plan/metrics-conventions.ts): which series are the
 * group's, which implementation each is, what its status says, where its bucket bound lies. Both
 * providers read through these, so a preset means the same to a scrape and to Prometheus.
 */

export type { GroupConvention, MetricsConvention } from '../../plan/metrics-conventions';

/** The convention of a group; a plan that passed validation always has one. */
export function conventionFor(config: MetricsMappingConfig, group: string): GroupConvention {
  const c = groupConvention(config, group);
  if (!c)
    throw permanent(
      `target.metrics: preset ${config.preset ?? 'default'} tells domain from legacy by a label whose values the plan does not give for group "${group}" (target.metrics.impl)`,
    );
  return c;
}

/** The names that do not depend on a group (the request counter a scrape must list). */
export function baseConvention(config: MetricsMappingConfig): MetricsConvention {
  return conventionOf(config);
}

/** Which implementation a series is, by the convention's label; `undefined`: neither. */
export function implOf(c: GroupConvention, labels: Record<string, string>): Impl | undefined {
  const v = labels[c.impl.label];
  if (v === undefined) return undefined;
  if (v === c.impl.domain) return 'domain';
  if (v === c.impl.legacy) return 'legacy';
  return undefined;
}

/**
 * A predicate for the group's series: its matchers, and its endpoints as far as the convention's
 * labels can tell them. Without a route label every route of the mapped implementations counts
 * (the plan maps each group to its own servers); without a method label, every method.
 */
export function seriesMatcher(c: GroupConvention, endpoints: Endpoint[]): (labels: Record<string, string>) => boolean {
  const { route, method } = c;
  // endpointKey reads both template spellings (`{id}`, `:id`) as one.
  const wanted = new Set(endpoints.map((e) => endpointKey(method ? e.method : '*', route ? e.route : '*')));
  const matchers = Object.entries(c.match);
  return (labels) => {
    if (!matchers.every(([k, v]) => labels[k] === v)) return false;
    const m = method ? labels[method] : '*';
    const r = route ? labels[route] : '*';
    if (m === undefined || r === undefined) return false;
    return wanted.has(endpointKey(m, r));
  };
}

/**
 * The status label as `addRequests` reads it: Envoy writes a class as a bare digit (`5`), which
 * the common reading (`503`, `5xx`) would count as unknown.
 */
export function statusOf(c: MetricsConvention, labels: Record<string, string>): string | undefined {
  const v = labels[c.status];
  if (c.statusKind === 'class' && v !== undefined && /^[1-5]$/.test(v.trim())) return `${v.trim()}xx`;
  return v;
}

/** A bucket bound in seconds, as `ImplStats` holds them. */
export function boundSeconds(c: MetricsConvention, le: number): number {
  return c.histogramUnit === 'milliseconds' && le !== Infinity ? le / 1000 : le;
}
