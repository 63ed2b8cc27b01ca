import type { AxiosInstance } from 'axios';
import type { MetricsConfig } from '../../plan/schema';
import { permanent } from '../errors';
import type { WorkerPolicy } from '../policy';
import type { Env } from '../settings';
import { ExpositionMetricsProvider } from './exposition';
import type { MetricsProvider } from './metrics-provider';
import { PrometheusMetricsProvider } from './prometheus';

export type { MetricsProvider } from './metrics-provider';
export { ExpositionMetricsProvider } from './exposition';
export { parseExposition } from './text-format';
export { MetricsGarbageError, type MetricsGarbageType } from './garbage';
export type { MetricsQuery } from './metrics-provider';
export { PrometheusMetricsProvider, increaseQuery } from './prometheus';

/**
 * The metrics provider a plan's `target.metrics` names. `env` is unused by today's providers; it
 * is here so a provider needing a secret (a Prometheus behind auth) fits the same seam.
 */
export function createMetricsProvider(
  config: MetricsConfig,
  _env: Env = {},
  options: { http?: AxiosInstance; policy?: WorkerPolicy } = {},
): MetricsProvider {
  // The worker's policy, when given: a metrics URL on a host it does not allow is refused.
  options.policy?.assert(options.policy.hostProblem(config.url), 'target.metrics.url');
  switch (config.type) {
    case 'exposition':
      return new ExpositionMetricsProvider(config, options.http);
    case 'prometheus':
      return new PrometheusMetricsProvider(config, options.http);
    default:
      throw permanent(
        `target.metrics.type: unknown provider ${JSON.stringify((config as { type: unknown }).type)}`,
      );
  }
}
