import type { RolloutActivities } from '../contracts/activities';
import { consistencyActivities } from './consistency';
import { resolveDeps, type ActivityDeps } from './deps';
import { metricsActivities } from './metrics';
import { notifyActivities } from './notify';
import { observeActivities } from './observe';
import { trafficActivities } from './traffic';
import { inputActivities } from './validate-input';
import { verificationActivities } from './verification';
import { redactError, type Redact } from '../providers/redact';

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
  return redactedFailures(
    {
      ...trafficActivities(resolved),
      ...verificationActivities(resolved),
      ...metricsActivities(resolved),
      ...observeActivities(resolved),
      ...consistencyActivities(resolved),
      ...notifyActivities(resolved),
      ...inputActivities(resolved.policy),
    },
    resolved.policy.redact,
  );
}

/**
 * The same activities, each failure's message and stack redacted before Temporal records it: a
 * target's error body, a restart command's output or a store's error text reaches status, the
 * history and the page through them.
 */
function redactedFailures<A extends object>(activities: A, redact: Redact): A {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    // A named function, so stack traces and the SDK still see the activity's own name.
    wrapped[name] = {
      [name]: async (...args: unknown[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          throw redactError(err, redact);
        }
      },
    }[name];
  }
  return wrapped as A;
}
