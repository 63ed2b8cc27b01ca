import { checksOf, type CheckSwitches } from './checks';

/**
 * How a service's metrics are named (issue 23, "metrics as your service already exports them"):
 * the presets as data, a plan's own names laid over them, and what a convention cannot feed.
 *
 * Here in the plan layer, not beside the providers: plan validation says at load what a preset
 * lacks (a later layer cannot be imported from here), and the providers read the same data. Pure
 * and free of zod: the workflow bundle validates plans with it.
 */

export const METRICS_PRESETS = ['default', 'opentelemetry', 'micrometer', 'haproxy', 'envoy', 'traefik'] as const;
export type MetricsPreset = (typeof METRICS_PRESETS)[number];

/** How domain and legacy are told apart: one label, and the value each implementation carries. */
export interface ImplMapping {
  label: string;
  domain: string;
  legacy: string;
}

/** A convention: where requests, statuses and latencies are read. */
export interface MetricsConvention {
  /** The request counter: a counter, or a histogram's `_count` (OpenTelemetry, Micrometer). */
  requests: string;
  /** The latency histogram (series `<name>_bucket`); `null`: the source has none (p95 cannot be judged). */
  histogram: string | null;
  /** Unit of the bucket bounds (`le`): Envoy's `upstream_rq_time` counts milliseconds. */
  histogramUnit: 'seconds' | 'milliseconds';
  /** The route template's label; `null`: the source has none, every series of the mapped implementations counts. */
  route: string | null;
  /** The HTTP method's label; `null`: none (every method counts). */
  method: string | null;
  status: string;
  /** `code` (`503`) or `class` (`5xx`, or Envoy's bare `5`). */
  statusKind: 'code' | 'class';
  /** The label telling the implementations apart and its values; `null` values: the plan must give them. */
  impl: { label: string; domain: string | null; legacy: string | null };
}

/** A convention as one group reads it: its implementations known, its extra label matchers. */
export interface GroupConvention extends MetricsConvention {
  impl: ImplMapping;
  /** Label values every series of the group must carry (a backend, a proxy: route-less sources). */
  match: Record<string, string>;
}

const byImplLabel = { label: 'impl', domain: 'domain', legacy: 'legacy' };

/**
 * The presets. The first is the example backend's (prom-client): existing plans name no preset and
 * read exactly what they read before. Routers know no implementation label of ours: the plan names
 * the servers, services or clusters each one is.
 */
export const PRESETS: Record<MetricsPreset, MetricsConvention> = {
  default: {
    requests: 'http_requests_total',
    histogram: 'http_request_duration_seconds',
    histogramUnit: 'seconds',
    route: 'route',
    method: 'method',
    status: 'status',
    statusKind: 'code',
    impl: byImplLabel,
  },
  /** HTTP semantic conventions, as OpenTelemetry's Prometheus exporter writes them (dots become `_`). */
  opentelemetry: {
    requests: 'http_server_request_duration_seconds_count',
    histogram: 'http_server_request_duration_seconds',
    histogramUnit: 'seconds',
    route: 'http_route',
    method: 'http_request_method',
    status: 'http_response_status_code',
    statusKind: 'code',
    impl: byImplLabel,
  },
  /** Spring Boot's `http.server.requests` timer (buckets only with percentiles-histogram on). */
  micrometer: {
    requests: 'http_server_requests_seconds_count',
    histogram: 'http_server_requests_seconds',
    histogramUnit: 'seconds',
    route: 'uri',
    method: 'method',
    status: 'status',
    statusKind: 'code',
    impl: byImplLabel,
  },
  /** HAProxy's built-in exporter: responses per server by class; no route, no method, no latency histogram. */
  haproxy: {
    requests: 'haproxy_server_http_responses_total',
    histogram: null,
    histogramUnit: 'seconds',
    route: null,
    method: null,
    status: 'code',
    statusKind: 'class',
    impl: { label: 'server', domain: null, legacy: null },
  },
  /** Envoy's per-cluster upstream statistics; no route, no method; latencies in milliseconds. */
  envoy: {
    requests: 'envoy_cluster_upstream_rq_xx',
    histogram: 'envoy_cluster_upstream_rq_time',
    histogramUnit: 'milliseconds',
    route: null,
    method: null,
    status: 'envoy_response_code_class',
    statusKind: 'class',
    impl: { label: 'envoy_cluster_name', domain: null, legacy: null },
  },
  /** Traefik's per-service metrics: a method but no route. */
  traefik: {
    requests: 'traefik_service_requests_total',
    histogram: 'traefik_service_request_duration_seconds',
    histogramUnit: 'seconds',
    route: null,
    method: 'method',
    status: 'code',
    statusKind: 'code',
    impl: { label: 'service', domain: null, legacy: null },
  },
};

/** What a plan's `target.metrics` says of names (both sources), structurally: no schema import. */
export interface MetricsMappingConfig {
  type?: string;
  preset?: MetricsPreset;
  names?: {
    requests?: string;
    histogram?: string | null;
    histogramUnit?: 'seconds' | 'milliseconds';
    route?: string | null;
    method?: string | null;
    status?: string;
    statusKind?: 'code' | 'class';
  };
  impl?: { label?: string; domain: string; legacy: string };
  groups?: Record<string, { impl?: { label?: string; domain: string; legacy: string }; match?: Record<string, string> }>;
  queries?: { requests: string; errors: string; successes?: string; buckets?: string };
}

/** The preset with the plan's `names` and global `impl` laid over it (impl values may still be missing). */
export function conventionOf(config: MetricsMappingConfig): MetricsConvention {
  const base = PRESETS[config.preset ?? 'default'];
  const names = config.names ?? {};
  const pick = <K extends keyof MetricsConvention>(k: K, v: MetricsConvention[K] | undefined) =>
    v === undefined ? base[k] : v;
  return {
    requests: pick('requests', names.requests),
    histogram: pick('histogram', names.histogram),
    histogramUnit: pick('histogramUnit', names.histogramUnit),
    route: pick('route', names.route),
    method: pick('method', names.method),
    status: pick('status', names.status),
    statusKind: pick('statusKind', names.statusKind),
    impl: {
      label: config.impl?.label ?? base.impl.label,
      domain: config.impl?.domain ?? base.impl.domain,
      legacy: config.impl?.legacy ?? base.impl.legacy,
    },
  };
}

/**
 * The convention one group reads: its own `groups.<group>.impl` over the global one, and its own
 * label matchers. `undefined` when the implementations are not told apart for it (a router preset
 * with no servers named): validation refuses such a plan (`metricsMappingProblems`).
 */
export function groupConvention(config: MetricsMappingConfig, group: string): GroupConvention | undefined {
  const c = conventionOf(config);
  const own = config.groups?.[group];
  const impl = {
    label: own?.impl?.label ?? c.impl.label,
    domain: own?.impl?.domain ?? c.impl.domain,
    legacy: own?.impl?.legacy ?? c.impl.legacy,
  };
  if (impl.domain === null || impl.legacy === null) return undefined;
  return { ...c, impl: { label: impl.label, domain: impl.domain, legacy: impl.legacy }, match: { ...(own?.match ?? {}) } };
}

/** A source for the messages: the preset, or the fields the plan set itself. */
function named(config: MetricsMappingConfig): string {
  if (config.queries) return 'target.metrics.queries';
  if (config.names && Object.keys(config.names).length) return `metrics names (preset ${config.preset ?? 'default'} with target.metrics.names)`;
  return `metrics preset ${config.preset ?? 'default'}`;
}

interface PhaseLike {
  name: string;
  group: string;
  checks?: CheckSwitches;
}

interface Problem {
  path: string;
  message: string;
}

const list = (names: string[]) => names.join(', ');

/**
 * Plan errors of the mapping: what no sample could be read without. A router preset with no
 * servers, services or clusters named for a group; both implementations on one value; a mapping
 * for a group no phase has (a misspelt group would silently read the global mapping).
 */
export function metricsMappingProblems(config: MetricsMappingConfig, phases: PhaseLike[]): Problem[] {
  const out: Problem[] = [];
  const groups = [...new Set(phases.map((p) => p.group))];
  for (const g of Object.keys(config.groups ?? {}))
    if (!groups.includes(g))
      out.push({ path: `target.metrics.groups.${g}`, message: `no phase has group "${g}" (groups: ${list(groups)})` });
  const c = conventionOf(config);
  for (const g of groups) {
    const gc = groupConvention(config, g);
    if (!gc) {
      out.push({
        path: 'target.metrics.impl',
        message: `${named(config)} tells domain from legacy by the ${c.impl.label} label, and the plan names neither value for group "${g}": give target.metrics.impl: { domain: <${c.impl.label}>, legacy: <${c.impl.label}> }, or target.metrics.groups.${g}.impl`,
      });
      continue;
    }
    if (gc.impl.domain === gc.impl.legacy)
      out.push({
        path: config.groups?.[g]?.impl ? `target.metrics.groups.${g}.impl` : 'target.metrics.impl',
        message: `domain and legacy are both ${gc.impl.label}="${gc.impl.domain}" for group "${g}": they must differ, or both implementations read the same series`,
      });
  }
  if (config.queries && (config.preset !== undefined || config.names !== undefined))
    out.push({
      path: 'target.metrics.queries',
      message: 'replaces the preset and names: give either queries or preset/names, not both',
    });
  return out;
}

/**
 * What the convention cannot feed, as plan warnings: the check it feeds would be inconclusive at
 * every window (never a pass), so the plan should turn it off or map the missing figure. Warnings,
 * not errors: a plan stays valid, and a preset's limits must not block a rollout.
 */
export function conventionGaps(config: MetricsMappingConfig, phases: PhaseLike[]): Problem[] {
  const out: Problem[] = [];
  const c = conventionOf(config);
  const withCheck = (check: 'p95' | 'successRate') => phases.filter((p) => checksOf(p).includes(check)).map((p) => p.name);
  const p95 = withCheck('p95');
  const noHistogram = config.queries ? config.queries.buckets === undefined : c.histogram === null;
  if (noHistogram && p95.length)
    out.push({
      path: config.queries ? 'target.metrics.queries' : config.names?.histogram === null ? 'target.metrics.names.histogram' : 'target.metrics.preset',
      message: `${named(config)} has no latency histogram${config.queries ? ' (no buckets query)' : ''}: p95 cannot be judged (inconclusive at every window) in phases ${list(p95)}; turn it off with \`checks: {p95: off}\``,
    });
  const success = withCheck('successRate');
  if (config.queries && config.queries.successes === undefined && success.length)
    out.push({
      path: 'target.metrics.queries',
      message: `has no successes query: successes are read as requests − errors (4xx count as successes) in phases ${list(success)}; add a successes query, or turn it off with \`checks: {successRate: off}\``,
    });
  if (!config.queries && c.route === null) {
    // Only a mapping shared by groups is a problem: one group on its own servers reads its own traffic.
    const bySeries = new Map<string, string[]>();
    for (const g of new Set(phases.map((p) => p.group))) {
      const gc = groupConvention(config, g);
      if (!gc) continue;
      const key = JSON.stringify([gc.impl, Object.entries(gc.match).sort()]);
      bySeries.set(key, [...(bySeries.get(key) ?? []), g]);
    }
    for (const groups of bySeries.values())
      if (groups.length > 1)
        out.push({
          path: 'target.metrics.groups',
          message: `${named(config)} has no route label: groups ${list(groups)} read the same series, so each is judged on the other's requests too; map each group to its own backend or servers (target.metrics.groups.<group>.match or .impl)`,
        });
  }
  return out;
}
