import type { CheckConsistencyInput } from '../contracts/activities';
import type { ConsistencyReport } from '../judge/samples';
import { messageOf } from '../providers/errors';
import { keptAlive } from './context';
import type { ResolvedDeps } from './deps';

/**
 * Runs the consistency provider; a store it cannot read, or one the worker's policy refuses, is
 * reported (`error`: inconclusive, never a pass), not thrown. Differences show stored values: what
 * looks like a secret is redacted.
 */
export async function runConsistency(
  deps: ResolvedDeps,
  config: CheckConsistencyInput['consistency'],
): Promise<ConsistencyReport> {
  try {
    return deps.policy.redactDeep(await deps.consistencyFor(config).compare());
  } catch (err) {
    return { ok: false, checked: 0, differences: [], error: deps.policy.redact(messageOf(err)) };
  }
}

export function consistencyActivities(deps: ResolvedDeps) {
  return keptAlive({
    async checkConsistency(input: CheckConsistencyInput): Promise<ConsistencyReport> {
      return runConsistency(deps, input.consistency);
    },
  });
}
