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

/**
 * What a phase says of its checks: a list adds checks to the defaults; a map turns each on or off
 * (`{p95: off}` where the metrics have no latency histogram; `{dataConsistency: on}`).
 */
export type CheckSwitches = readonly CheckName[] | Partial<Record<CheckName, 'on' | 'off'>>;

const isList = (c: CheckSwitches): c is readonly CheckName[] => Array.isArray(c);

/** The checks a phase runs: the defaults, with those it names on, and those it turns off off. */
export function checksOf(phase: { checks?: CheckSwitches }): CheckName[] {
  const c = phase.checks;
  if (!c) return [...DEFAULT_CHECKS];
  if (isList(c)) return [...new Set([...DEFAULT_CHECKS, ...c])];
  const on = DEFAULT_CHECKS.filter((n) => c[n] !== 'off');
  for (const n of CHECK_NAMES) if (c[n] === 'on' && !on.includes(n)) on.push(n);
  return on;
}

/** The checks a phase turns off explicitly (`status` and `verify` say so). */
export function checksOff(phase: { checks?: CheckSwitches }): CheckName[] {
  const c = phase.checks;
  return !c || isList(c) ? [] : CHECK_NAMES.filter((n) => c[n] === 'off');
}

/** Phases whose group is above their last step's percent: `--resume-from-current` has no step for them. */
export function beyondLastStep<P extends { group: string; steps: ReadonlyArray<{ percent: number }> }>(
  phases: P[],
  shares: Record<string, number>,
): P[] {
  return phases.filter((ph) => (shares[ph.group] ?? 0) > ph.steps[ph.steps.length - 1].percent);
}
