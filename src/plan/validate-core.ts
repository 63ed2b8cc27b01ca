import { parseDuration } from './duration';
import { LIMITS } from './limits';
import { planErrorMap } from './messages';
import { conventionGaps, metricsMappingProblems } from './metrics-conventions';
import { planSchema, type Plan } from './schema';
import { checkKeys, formatPath, type PlanProblem } from './strict-keys';

export { formatPath, type PlanProblem };

export type PlanValidation =
  | {
      ok: true;
      plan: Plan;
      /** The plan as written, comment (`x-`) keys removed, defaults not applied: what a workflow gets. */
      input: unknown;
      warnings: PlanProblem[];
    }
  | { ok: false; problems: PlanProblem[]; warnings: PlanProblem[] };

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

/** Fields earlier versions read and 0.2.0 no longer does: accepted, with a warning, so old plans still load. */
function retiredFieldWarnings(plan: Plan): PlanProblem[] {
  if (plan.defaults.thresholds.rollbackConfidence === undefined) return [];
  return [
    {
      path: 'defaults.thresholds.rollbackConfidence',
      message:
        'no rule reads it since 0.2.0 (the v1/v2 interval rules were retired): rollbacks are bounded by thresholds.falseRollback; remove it',
    },
  ];
}

interface Band {
  target?: unknown;
  rollback?: unknown;
}
interface LoosePlan {
  target?: { consistency?: unknown; traffic?: unknown };
  approvers?: unknown;
  defaults?: { checkInterval?: unknown; lookback?: unknown; thresholds?: { errorRate?: Band; successRate?: Band } };
  phases?: Array<{
    name?: unknown;
    group?: unknown;
    steps?: Array<{ percent?: unknown; observe?: unknown }>;
    checks?: unknown;
    command?: unknown;
  }>;
}

const asObject = <T>(v: unknown): T => (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as T;
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Reports the second and later occurrences of a value in `list`. */
function duplicates(list: unknown[], path: (i: number) => string, what: string): PlanProblem[] {
  const first = new Map<unknown, number>();
  const out: PlanProblem[] = [];
  list.forEach((v, i) => {
    if (typeof v !== 'string') return;
    const at = first.get(v);
    if (at === undefined) first.set(v, i);
    else out.push({ path: path(i), message: `duplicate ${what} "${v}" (already at ${path(at)})` });
  });
  return out;
}

/** A target band inside the rollback band: otherwise a pass would sit past a rollback. */
function bandProblems(thresholds: unknown): PlanProblem[] {
  const t = asObject<{ errorRate?: Band; successRate?: Band }>(thresholds);
  const out: PlanProblem[] = [];
  const e = asObject<Band>(t.errorRate);
  if (typeof e.target === 'number' && typeof e.rollback === 'number' && e.target > e.rollback)
    out.push({
      path: 'defaults.thresholds.errorRate.target',
      message: `must be at most errorRate.rollback (${e.rollback}): a passing error rate cannot be past the rollback one`,
    });
  const s = asObject<Band>(t.successRate);
  if (typeof s.target === 'number' && typeof s.rollback === 'number' && s.target < s.rollback)
    out.push({
      path: 'defaults.thresholds.successRate.target',
      message: `must be at least successRate.rollback (${s.rollback}): a passing success rate cannot be below the rollback one`,
    });
  return out;
}

/** Routers map each group to their own objects: a group without a mapping could not be moved. */
function routerGroupProblems(traffic: unknown, phases: Array<{ group?: unknown }>): PlanProblem[] {
  const t = asObject<{ type?: unknown; groups?: unknown }>(traffic);
  if (t.type !== 'haproxy' && t.type !== 'nginx') return [];
  const groups = asObject<Record<string, unknown>>(t.groups);
  const out: PlanProblem[] = [];
  phases.forEach((p, i) => {
    if (typeof p.group === 'string' && !Object.prototype.hasOwnProperty.call(groups, p.group))
      out.push({
        path: 'target.traffic.groups',
        message: `has no mapping for group "${p.group}" (phases[${i}].group): add ${p.group}: ${t.type === 'haproxy' ? '{ backend, legacy, domain }' : '{ upstream, legacy, domain }'}`,
      });
  });
  if (t.type === 'nginx')
    out.push(
      ...duplicates(
        Object.values(groups).map((g) => asObject<{ upstream?: unknown }>(g).upstream),
        (i) => `target.traffic.groups.${Object.keys(groups)[i]}.upstream`,
        'upstream',
      ),
    );
  return out;
}

/** Groups on the same HAProxy servers move together, as groups sharing one env variable do. */
function sharedServerWarnings(plan: Plan): PlanProblem[] {
  const traffic = plan.target.traffic;
  if (traffic.type !== 'haproxy') return [];
  const byServers = new Map<string, string[]>();
  for (const [group, g] of Object.entries(traffic.groups)) {
    for (const server of [g.legacy, g.domain]) {
      const key = `${g.backend}/${server}`;
      byServers.set(key, [...(byServers.get(key) ?? []), group]);
    }
  }
  return [...byServers]
    .filter(([, groups]) => groups.length > 1)
    .map(([server, groups]) => ({
      path: 'target.traffic.groups',
      message: `groups ${groups.join(', ')} share the server ${server}: changing one changes the others`,
    }));
}

/**
 * Rules across fields. They run on the input beside the schema, so that one typo elsewhere does
 * not hide them: an operator gets every problem in one go.
 */
function crossFieldProblems(input: unknown): PlanProblem[] {
  const plan = asObject<LoosePlan>(input);
  const phases = asList(plan.phases).map((p) => asObject<NonNullable<LoosePlan['phases']>[number]>(p));
  const defaults = asObject<NonNullable<LoosePlan['defaults']>>(plan.defaults);
  const out: PlanProblem[] = [
    ...duplicates(asList(plan.approvers), (i) => `approvers[${i}]`, 'approver'),
    ...duplicates(
      phases.map((p) => p.name),
      (i) => `phases[${i}].name`,
      'phase name',
    ),
    ...duplicates(
      phases.map((p) => p.group),
      (i) => `phases[${i}].group`,
      'group',
    ),
    ...bandProblems(defaults.thresholds),
    ...routerGroupProblems(asObject<NonNullable<LoosePlan['target']>>(plan.target).traffic, phases),
  ];
  const interval =
    typeof defaults.checkInterval === 'string'
      ? parseDuration(defaults.checkInterval)
      : defaults.checkInterval;
  const checkIntervalMs =
    interval === undefined ? 10_000 : typeof interval === 'number' ? interval : undefined;
  const lookbackMs =
    defaults.lookback === undefined ? 120_000 : typeof defaults.lookback === 'string' ? parseDuration(defaults.lookback) : undefined;
  // The judge keeps every check of the lookback in the rollout's state (carried at continue-as-new).
  if (lookbackMs !== undefined && checkIntervalMs !== undefined && lookbackMs / checkIntervalMs > LIMITS.lookbackChecks)
    out.push({
      path: 'defaults.lookback',
      message: `must span at most ${LIMITS.lookbackChecks} checks of defaults.checkInterval (${String(defaults.checkInterval ?? '10s')}; got ${Math.round(lookbackMs / checkIntervalMs)}): the judge keeps each of them`,
    });
  phases.forEach((p, i) => {
    const steps = asList(p.steps).map((s) => asObject<{ percent?: unknown; observe?: unknown }>(s));
    steps.forEach((s, j) => {
      const prev = steps[j - 1]?.percent;
      if (typeof s.percent === 'number' && typeof prev === 'number' && s.percent <= prev)
        out.push({
          path: `phases[${i}].steps[${j}].percent`,
          message: `must be greater than the step before (${prev})`,
        });
      if (s.observe === 'continuous' && j !== steps.length - 1)
        out.push({
          path: `phases[${i}].steps[${j}].observe`,
          message: '"continuous" is only allowed on the last step',
        });
      const observeMs = typeof s.observe === 'string' ? parseDuration(s.observe) : undefined;
      if (observeMs !== undefined && checkIntervalMs !== undefined && observeMs < checkIntervalMs)
        out.push({
          path: `phases[${i}].steps[${j}].observe`,
          message: `must be at least defaults.checkInterval (${String(defaults.checkInterval ?? '10s')}): a window needs a check`,
        });
    });
    const checks = Array.isArray(p.checks)
      ? asList(p.checks)
      : p.checks && typeof p.checks === 'object'
        ? Object.entries(p.checks as Record<string, unknown>).filter(([, v]) => v === 'on').map(([k]) => k)
        : [];
    if (Array.isArray(p.checks)) out.push(...duplicates(checks, (k) => `phases[${i}].checks[${k}]`, 'check'));
    if (checks.includes('dataConsistency') && !plan.target?.consistency)
      out.push({ path: `phases[${i}].checks`, message: 'dataConsistency needs target.consistency' });
    if (checks.includes('command') && !p.command)
      out.push({ path: `phases[${i}].command`, message: 'the command check needs a command' });
  });
  return out;
}

function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 2 : 3; // a pair counts 2 + 2
  }
  return n;
}

/**
 * Bytes of `value` as JSON, or Infinity past `limit` or `LIMITS.planDepth` levels. Stops early, so
 * a 10 MB string or a self-referencing value costs no more than the limit.
 */
export function jsonBytes(value: unknown, limit: number, depth = 0): number {
  if (depth > LIMITS.planDepth) return Infinity;
  if (typeof value === 'string') return value.length > limit ? Infinity : utf8Bytes(JSON.stringify(value));
  if (typeof value !== 'object' || value === null) return String(value).length;
  let total = 2;
  const entries = Array.isArray(value) ? value.map((v) => ['', v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    total += 1 + (Array.isArray(value) ? 0 : utf8Bytes(JSON.stringify(k)) + 1);
    total += jsonBytes(v, limit - total, depth + 1);
    if (total > limit) return Infinity;
  }
  return total;
}

function capped(problems: PlanProblem[]): PlanProblem[] {
  if (problems.length <= LIMITS.problems) return problems;
  const rest = problems.length - LIMITS.problems;
  return [...problems.slice(0, LIMITS.problems), { path: '(plan)', message: `and ${rest} more problems` }];
}

/** Rules a caller adds to the core's, run on the plan as written (keys checked, comments dropped). */
export type PlanRule = (clean: unknown) => PlanProblem[];

/**
 * Validates a plan and reports every problem at once: the schema and the rules across fields,
 * and `rules`. Pure: the workflow runs it (without the probe rules, which need ajv) for rollouts
 * begun before the input was checked in an activity.
 */
export function validatePlanCore(input: unknown, rules: PlanRule[] = []): PlanValidation {
  const fail = (problems: PlanProblem[]): PlanValidation => ({
    ok: false,
    problems: capped(problems),
    warnings: [],
  });
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return fail([{ path: '(plan)', message: `must be a mapping (key: value) with name, target and phases` }]);
  const keyProblems: PlanProblem[] = [];
  const clean = checkKeys(planSchema, input, [], keyProblems);
  if (jsonBytes(clean, LIMITS.workflowInputBytes) > LIMITS.workflowInputBytes)
    return fail([
      ...keyProblems,
      {
        path: '(plan)',
        message: `is too large or nested too deeply for a workflow input (at most ${LIMITS.workflowInputBytes / 1024} KB as JSON, ${LIMITS.planDepth} levels)`,
      },
    ]);
  const parsed = planSchema.safeParse(clean, { error: planErrorMap });
  const problems = [
    ...keyProblems,
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }))),
    ...crossFieldProblems(clean),
    ...rules.flatMap((rule) => rule(clean)),
  ];
  // The metrics mapping is judged on the parsed plan: it needs the phases' groups and checks as validated.
  if (parsed.success) problems.push(...metricsMappingProblems(parsed.data.target.metrics, parsed.data.phases));
  if (!parsed.success || problems.length > 0) return fail(problems);
  return {
    ok: true,
    plan: parsed.data,
    input: clean,
    warnings: [
      ...sharedVariableWarnings(parsed.data),
      ...sharedServerWarnings(parsed.data),
      ...retiredFieldWarnings(parsed.data),
      ...conventionGaps(parsed.data.target.metrics, parsed.data.phases),
    ],
  };
}

export function describeProblems(problems: PlanProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}
