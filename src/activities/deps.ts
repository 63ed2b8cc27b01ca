import axios, { type AxiosInstance } from 'axios';
import type { ConsistencyConfig, MetricsConfig, TrafficConfig } from '../plan/schema';
import { createConsistencyProvider, type ConsistencyProvider } from '../providers/consistency';
import { createMetricsProvider, type MetricsProvider } from '../providers/metrics';
import { policyFromEnv, type WorkerPolicy } from '../providers/policy';
import type { Env } from '../providers/settings';
import { createTrafficProvider, type TrafficProvider } from '../providers/traffic';
import { NO_METRICS, type OrchestratorMetrics } from '../contracts/orchestrator-metrics';
import { heartbeat } from './context';

/** What the activities need from the outside world; every part but `env` has a default. */
export interface ActivityDeps {
  /** Where secrets named by plans (`tokenEnv`) are read; the worker passes `process.env`. */
  env: NodeJS.ProcessEnv | Env;
  trafficFor?: (config: TrafficConfig) => TrafficProvider;
  metricsFor?: (config: MetricsConfig) => MetricsProvider;
  consistencyFor?: (config: ConsistencyConfig) => ConsistencyProvider;
  /** Client for the target's API and for webhooks. */
  http?: AxiosInstance;
  /** The worker's own metrics; none by default. */
  metrics?: OrchestratorMetrics;
  /**
   * What plans may reach (hosts, tokenEnv, commands, paths) and how outputs are redacted; from
   * `env` (ROLLOUT_ALLOW_*) by default. The default providers are created through it.
   */
  policy?: WorkerPolicy;
}

export type ResolvedDeps = Required<ActivityDeps>;

/**
 * One provider per distinct config for the life of the worker: the exposition provider keeps its
 * previous reading in memory, and the env-file provider serialises restarts, so a fresh instance
 * per call would lose both.
 */
function memoize<C, P>(create: (config: C) => P): (config: C) => P {
  const cache = new Map<string, P>();
  return (config) => {
    const key = JSON.stringify(config);
    let provider = cache.get(key);
    if (!provider) {
      provider = create(config);
      cache.set(key, provider);
    }
    return provider;
  };
}

export function resolveDeps(deps: ActivityDeps): ResolvedDeps {
  const env = deps.env as Env;
  // The factories refuse what the policy does not allow (a refused config is never cached).
  const policy = deps.policy ?? policyFromEnv(env);
  const http =
    deps.http ??
    axios.create({
      // A redirect is a request to another URL: allowed only where the plan's own URLs may go.
      beforeRedirect: (options) => {
        const to = String(options.href ?? `${options.protocol}//${options.host}`);
        const problem = policy.hostProblem(to);
        if (problem) throw new Error(`redirected: ${problem}`);
      },
    });
  return {
    env,
    http,
    policy,
    metrics: deps.metrics ?? NO_METRICS,
    trafficFor:
      deps.trafficFor ??
      memoize((config: TrafficConfig) =>
        createTrafficProvider(config, env, { policy, onProgress: (message) => heartbeat(message) }),
      ),
    metricsFor:
      deps.metricsFor ??
      memoize((config: MetricsConfig) => createMetricsProvider(config, env, { policy })),
    consistencyFor:
      deps.consistencyFor ??
      memoize((config: ConsistencyConfig) => createConsistencyProvider(config, { policy })),
  };
}
