import type { RolloutActivities } from '../contracts/activities';
import { consistencyActivities } from './consistency';
import { resolveDeps, type ActivityDeps } from './deps';
import { metricsActivities } from './metrics';
import { notifyActivities } from './notify';
import { observeActivities } from './observe';
import { trafficActivities } from './traffic';
import { inputActivities } from './validate-input';
import { verificationActivities } from './verification';

export type { ActivityDeps } from './deps';
export type * from '../contracts/activities';

/**
 * The activities the worker registers (Temporal samples style: a factory closing over its
 * dependencies, so tests pass fakes or real providers and the worker passes `process.env`).
 *
 * Error policy: configuration and credential problems are `ApplicationFailure.nonRetryable`;
 * unreachable targets and 5xx are plain errors that Temporal retries; findings about the canary
 * (failed probes, metric errors, store differences) are returned as data, never thrown.
 */
export function createActivities(deps: ActivityDeps): RolloutActivities {
  const resolved = resolveDeps(deps);
  return {
    ...trafficActivities(resolved),
    ...verificationActivities(resolved),
    ...metricsActivities(resolved),
    ...observeActivities(resolved),
    ...consistencyActivities(resolved),
    ...notifyActivities(resolved),
    ...inputActivities(),
  };
}
