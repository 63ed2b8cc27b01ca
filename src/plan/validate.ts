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

interface LoosePlan {
  target?: { consistency?: unknown };
  phases?: Array<{ group?: unknown; steps?: Array<{ percent?: unknown; observe?: unknown }>; checks?: unknown; command?: unknown }>;
}

/**
 * Rules across fields. They run on the raw input, beside the schema, so that one typo elsewhere
 * does not hide them: an operator gets every problem in one go.
 */
function crossFieldProblems(input: unknown): PlanProblem[] {
  const plan = (input && typeof input === 'object' ? input : {}) as LoosePlan;
  const phases = Array.isArray(plan.phases) ? plan.phases : [];
  const out: PlanProblem[] = [];
  const seen = new Map<unknown, number>();
  phases.forEach((p, i) => {
    if (!p || typeof p !== 'object') return;
    const first = seen.get(p.group);
    if (typeof p.group === 'string' && first !== undefined)
      out.push({ path: `phases[${i}].group`, message: `duplicate group "${p.group}" (already used by phases[${first}])` });
    else seen.set(p.group, i);
    const steps = Array.isArray(p.steps) ? p.steps : [];
    steps.forEach((s, j) => {
      const prev = steps[j - 1]?.percent;
      if (typeof s?.percent === 'number' && typeof prev === 'number' && s.percent <= prev)
        out.push({ path: `phases[${i}].steps[${j}].percent`, message: `must be greater than the step before (${prev})` });
      if (s?.observe === 'continuous' && j !== steps.length - 1)
        out.push({ path: `phases[${i}].steps[${j}].observe`, message: '"continuous" is only allowed on the last step' });
    });
    const checks = Array.isArray(p.checks) ? p.checks : [];
    if (checks.includes('dataConsistency') && !plan.target?.consistency)
      out.push({ path: `phases[${i}].checks`, message: 'dataConsistency needs target.consistency' });
    if (checks.includes('command') && !p.command) out.push({ path: `phases[${i}].command`, message: 'the command check needs a command' });
  });
  return out;
}

/** Validates a plan and reports every problem at once. Pure: safe in workflow code. */
export function validatePlan(input: unknown): PlanValidation {
  const parsed = planSchema.safeParse(input);
  const cross = crossFieldProblems(input);
  if (!parsed.success) return { ok: false, problems: [...problemsOf(parsed.error), ...cross], warnings: [] };
  if (cross.length > 0) return { ok: false, problems: cross, warnings: [] };
  return { ok: true, plan: parsed.data, warnings: sharedVariableWarnings(parsed.data) };
}

export function describeProblems(problems: PlanProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}
