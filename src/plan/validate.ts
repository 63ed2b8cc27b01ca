import { probeProblems } from './probe-rules';
import { validatePlanCore, type PlanValidation } from './validate-core';

export {
  describeProblems,
  formatPath,
  jsonBytes,
  type PlanProblem,
  type PlanValidation,
} from './validate-core';

/** Validates a plan, its probes included (their JSON Schemas compile with ajv: not for workflow code). */
export function validatePlan(input: unknown): PlanValidation {
  return validatePlanCore(input, [probeProblems]);
}
