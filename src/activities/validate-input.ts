import { checkRolloutInput } from '../plan/rollout-input';
import { describeProblems, validatePlan } from '../plan/validate';
import type { InputCheck } from '../plan/rollout-input';
import type { WorkerPolicy } from '../providers/policy';

/**
 * Checked in the worker, where the plan's schema is loaded once for every rollout; a valid plan is
 * then held against the worker's policy, so a plan reaching what it may not fails at once, before
 * any traffic moves, with every refusal and its path. (Without a policy: the plan's own checks,
 * for fakes that reach nothing.)
 */
export function inputActivities(policy?: WorkerPolicy) {
  return {
    async validateRolloutInput(input: unknown): Promise<InputCheck> {
      const checked = checkRolloutInput(input, validatePlan);
      if (!checked.ok || !policy) return checked;
      const problems = policy.planProblems(checked.plan);
      if (!problems.length) return checked;
      const n = problems.length;
      return {
        ok: false,
        type: 'PlanRefused',
        message: `plan refused by the worker's policy (${n} problem${n === 1 ? '' : 's'}):\n${describeProblems(problems)}`,
        details: { problems },
      };
    },
  };
}
