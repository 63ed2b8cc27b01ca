import type { CheckConsistencyInput } from '../contracts/activities';
import type { ConsistencyReport } from '../judge/samples';
import { messageOf } from '../providers/errors';
import { keptAlive } from './context';
import type { ResolvedDeps } from './deps';

/** Runs the consistency provider; a store it cannot read is reported (`error`, not ok), not thrown. */
export async function runConsistency(
  deps: ResolvedDeps,
  config: CheckConsistencyInput['consistency'],
): Promise<ConsistencyReport> {
  try {
    return await deps.consistencyFor(config).compare();
  } catch (err) {
    return { ok: false, checked: 0, differences: [], error: messageOf(err) };
  }
}

export function consistencyActivities(deps: ResolvedDeps) {
  return keptAlive({
    async checkConsistency(input: CheckConsistencyInput): Promise<ConsistencyReport> {
      return runConsistency(deps, input.consistency);
    },
  });
}
