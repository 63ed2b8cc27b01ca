import { checkRolloutInput } from '../plan/rollout-input';
import { validatePlan } from '../plan/validate';
import type { InputCheck } from '../plan/rollout-input';

/** Checked in the worker, where the plan's schema is loaded once for every rollout. */
export function inputActivities() {
  return {
    async validateRolloutInput(input: unknown): Promise<InputCheck> {
      return checkRolloutInput(input, validatePlan);
    },
  };
}
