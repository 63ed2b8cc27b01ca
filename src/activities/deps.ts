import axios, { type AxiosInstance } from 'axios';
import type { ConsistencyConfig, MetricsConfig, TrafficConfig } from '../plan/schema';
import { createConsistencyProvider, type ConsistencyProvider } from '../providers/consistency';
import { createMetricsProvider, type MetricsProvider } from '../providers/metrics';
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
  const http = deps.http ?? axios.create();
  return {
    env,
    http,
    metrics: deps.metrics ?? NO_METRICS,
    trafficFor:
      deps.trafficFor ??
      memoize((config: TrafficConfig) =>
        createTrafficProvider(config, env, { onProgress: (message) => heartbeat(message) }),
      ),
    metricsFor: deps.metricsFor ?? memoize((config: MetricsConfig) => createMetricsProvider(config, env)),
    consistencyFor:
      deps.consistencyFor ?? memoize((config: ConsistencyConfig) => createConsistencyProvider(config)),
  };
}
