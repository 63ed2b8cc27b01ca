/**
 * The checks a phase may name, apart from the plan's schema: the workflow needs them, and the
 * schema (zod) must stay out of workflow code, where every cached rollout would hold its own copy.
 * Typed structurally, so this file does not import the schema back (no import circle).
 */

/** Every check a phase may name. `functional`, the metric checks and `servedShare` run by default. */
export const CHECK_NAMES = [
  'functional',
  'errorRate',
  'successRate',
  'p95',
  'servedShare',
  'dataConsistency',
  'writeProbe',
  'command',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];
export const DEFAULT_CHECKS: CheckName[] = ['functional', 'errorRate', 'successRate', 'p95', 'servedShare'];

/** The checks a phase runs: the defaults and those it names. */
export function checksOf(phase: { checks?: readonly CheckName[] }): CheckName[] {
  return [...new Set([...DEFAULT_CHECKS, ...(phase.checks ?? [])])];
}

/** Phases whose group is above their last step's percent: `--resume-from-current` has no step for them. */
export function beyondLastStep<P extends { group: string; steps: ReadonlyArray<{ percent: number }> }>(
  phases: P[],
  shares: Record<string, number>,
): P[] {
  return phases.filter((ph) => (shares[ph.group] ?? 0) > ph.steps[ph.steps.length - 1].percent);
}
