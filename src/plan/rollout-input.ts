/**
 * The workflow's argument checked before a rollout does anything: the shape of the input, then the
 * plan. Pure, but it needs the plan's schema (zod), so the workflow asks for it in an activity
 * (`validateRolloutInput`) rather than evaluating zod in every cached rollout.
 */
import { beyondLastStep } from './checks';
import { rolloutInputSchema } from './schema';
import type { Plan } from './schema';
import type { PlanProblem } from './strict-keys';
import { describeProblems, formatPath, type PlanValidation } from './validate-core';

/**
 * A target already serving domain traffic at start (`npx rollout start --resume-from-current` or
 * `--from-zero`): `resume-from-current` starts each such phase at its first step at or above the
 * share; `from-zero` sets each such group to 0% first, then runs the plan from its first steps.
 */
export interface CurrentShares {
  mode: 'resume-from-current' | 'from-zero';
  /** Domain share per group, as the traffic switch reported it. */
  shares: Record<string, number>;
}

/** A rollout's input as checked (`validateRolloutInput`): the plan with its defaults, or why not. */
export type InputCheck =
  | { ok: true; plan: Plan; timeScale: number; current?: CurrentShares; warnings: PlanProblem[] }
  | {
      ok: false;
      /** `PlanRefused`: valid, but it reaches what the worker's policy does not allow. */
      type: 'InvalidInput' | 'InvalidPlan' | 'PlanRefused';
      message: string;
      details: { problems: unknown[] };
    };

/**
 * `validate` is `validatePlan` in the activity; the workflow's own check of a rollout begun before
 * the activity passes the core (the plan rules of its time, and no ajv in the workflow bundle).
 */
export function checkRolloutInput(input: unknown, validate: (plan: unknown) => PlanValidation): InputCheck {
  const args = rolloutInputSchema.safeParse(input ?? {});
  if (!args.success) {
    const problems = args.error.issues.map((i) => `${formatPath(['input', ...i.path])}: ${i.message}`);
    return {
      ok: false,
      type: 'InvalidInput',
      message: `invalid rollout input:\n${problems.join('\n')}`,
      details: { problems },
    };
  }
  const validation = validate(args.data.plan);
  if (!validation.ok) {
    const n = validation.problems.length;
    return {
      ok: false,
      type: 'InvalidPlan',
      message: `invalid plan (${n} problem${n === 1 ? '' : 's'}):\n${describeProblems(validation.problems)}`,
      details: { problems: validation.problems },
    };
  }
  const current = args.data.current;
  if (current) {
    const groups = validation.plan.phases.map((ph) => ph.group);
    const unknown = Object.keys(current.shares).filter((g) => !groups.includes(g));
    const beyond =
      current.mode === 'resume-from-current' ? beyondLastStep(validation.plan.phases, current.shares) : [];
    const problems = [
      ...unknown.map(
        (g) => `input.current.shares.${g}: not a group of the plan (groups: ${groups.join(', ')})`,
      ),
      ...beyond.map(
        (ph) =>
          `input.current.shares.${ph.group}: ${current.shares[ph.group]}% is above the last step of ${ph.name} (${ph.steps[ph.steps.length - 1].percent}%): there is no step to resume at`,
      ),
    ];
    if (problems.length > 0)
      return {
        ok: false,
        type: 'InvalidInput',
        message: `invalid rollout input:\n${problems.join('\n')}`,
        details: { problems },
      };
  }
  return {
    ok: true,
    plan: validation.plan,
    timeScale: args.data.timeScale,
    ...(current ? { current } : {}),
    warnings: validation.warnings,
  };
}
