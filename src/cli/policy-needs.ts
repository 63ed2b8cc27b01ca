/**
 * What a plan needs of the worker's policy (`ROLLOUT_ALLOW_*`) that this environment does not
 * allow, as the variables to set: said once a plan is written (`rollout init`), so a new user sets
 * them where the worker runs (`npm start`'s environment) and in the shell (`verify`) together.
 */
import { POLICY_DEFAULTS, type PolicyNeed } from '../providers/policy';

/**
 * The `ROLLOUT_ALLOW_*` assignments that would admit every refused use in `needs` (the policy's
 * `planNeeds`), each keeping what the variable allows now (its value, or the default).
 */
export function policyNeeds(needs: PolicyNeed[], env: NodeJS.ProcessEnv): string[] {
  const add = new Map<NonNullable<PolicyNeed['allow']>['variable'], Set<string>>();
  for (const { allow } of needs)
    if (allow) add.set(allow.variable, (add.get(allow.variable) ?? new Set()).add(allow.value));
  return [...add].map(([v, values]) => {
    const now = (env[v] ?? POLICY_DEFAULTS[v]).split(',').filter(Boolean);
    return `${v}=${[...new Set([...now, ...values])].join(',')}`;
  });
}
