import type { z } from 'zod';
import { planSchema, type Plan } from './schema';

/** One problem in a plan, with where it is (`phases[1].steps[0].percent`). */
export interface PlanProblem {
  path: string;
  message: string;
}

export type PlanValidation =
  | { ok: true; plan: Plan; warnings: PlanProblem[] }
  | { ok: false; problems: PlanProblem[]; warnings: PlanProblem[] };

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(plan)';
}

function problemsOf(error: z.ZodError): PlanProblem[] {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

/** Groups that end up on one environment variable would move together: the seed's own trap. */
function sharedVariableWarnings(plan: Plan): PlanProblem[] {
  const traffic = plan.target.traffic;
  if (traffic.type !== 'env-file') return [];
  const byVar = new Map<string, string[]>();
  for (const p of plan.phases) {
    const v = traffic.variables[p.group] ?? traffic.percentVariable;
    byVar.set(v, [...(byVar.get(v) ?? []), p.group]);
  }
  return [...byVar]
    .filter(([, groups]) => groups.length > 1)
    .map(([v, groups]) => ({
      path: 'target.traffic.variables',
      message: `groups ${groups.join(', ')} share the variable ${v}: changing one changes the others`,
    }));
}

/** Validates a plan and reports every problem at once. Pure: safe in workflow code. */
export function validatePlan(input: unknown): PlanValidation {
  const parsed = planSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error), warnings: [] };
  return { ok: true, plan: parsed.data, warnings: sharedVariableWarnings(parsed.data) };
}

export function describeProblems(problems: PlanProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}
