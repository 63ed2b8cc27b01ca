import { parseDuration } from '../../src/plan/duration';
import { LIMITS } from '../../src/plan/limits';
import { CHECK_NAMES, type Plan } from '../../src/plan/schema';

/**
 * What every plan that validates must satisfy, checked from the outside (not with the schema's
 * own code): the fuzz test holds every accepted plan to it. Returns the violations.
 */
export function invariants(plan: Plan, input: unknown): string[] {
  const out: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) out.push(what);
  };
  const within = (text: string, min: number, max: number, what: string) => {
    const ms = parseDuration(text);
    need(
      ms !== undefined && Number.isFinite(ms) && ms >= min && ms <= max,
      `${what} ${text} outside ${min}..${max} ms`,
    );
    return ms ?? NaN;
  };
  const d = plan.defaults;
  const interval = within(
    d.checkInterval,
    LIMITS.checkIntervalMs.min,
    LIMITS.checkIntervalMs.max,
    'checkInterval',
  );
  within(d.lookback, LIMITS.lookbackMs.min, LIMITS.lookbackMs.max, 'lookback');
  within(d.baselineWindow, LIMITS.baselineWindowMs.min, LIMITS.baselineWindowMs.max, 'baselineWindow');
  const t = d.thresholds;
  for (const [name, v] of [
    ['errorRate.target', t.errorRate.target],
    ['errorRate.rollback', t.errorRate.rollback],
    ['successRate.target', t.successRate.target],
    ['successRate.rollback', t.successRate.rollback],
    ['servedShare.tolerance', t.servedShare.tolerance],
  ] as const)
    need(Number.isFinite(v) && v >= 0 && v <= 1, `${name} ${v} not a rate`);
  need(t.errorRate.target <= t.errorRate.rollback, 'errorRate bands inverted');
  need(t.successRate.target >= t.successRate.rollback, 'successRate bands inverted');
  need(t.falseRollback > 0 && t.falseRollback <= 0.05, `falseRollback ${t.falseRollback}`);
  need(Number.isInteger(d.maxExtensions) && d.maxExtensions >= 0 && d.maxExtensions <= 20, 'maxExtensions');
  need(Number.isInteger(d.maxMetricErrors) && d.maxMetricErrors >= 1, 'maxMetricErrors');
  need(Number.isInteger(t.minSamples) && t.minSamples >= 1, 'minSamples');
  for (const v of [t.confidence, t.rollbackConfidence ?? 0, t.p95Increase.rollback, t.p95Increase.minDeltaMs])
    need(Number.isFinite(v) && v >= 0, `threshold ${v} not finite`);

  need(plan.name.length >= 1 && plan.name.length <= LIMITS.nameLength, 'name length');
  need(/^[A-Za-z0-9._-]{1,200}$/.test(plan.target.id), `target.id ${plan.target.id.slice(0, 40)}`);
  if (plan.approvers !== undefined) {
    need(plan.approvers.length > 0, 'approvers empty');
    need(new Set(plan.approvers).size === plan.approvers.length, 'approvers not unique');
    need(
      plan.approvers.every((a) => a.trim() === a && a !== ''),
      'blank or padded approver',
    );
  }
  need(plan.phases.length > 0, 'no phases');
  need(new Set(plan.phases.map((p) => p.name)).size === plan.phases.length, 'phase names not unique');
  need(new Set(plan.phases.map((p) => p.group)).size === plan.phases.length, 'groups not unique');
  for (const [i, p] of plan.phases.entries()) {
    need(p.steps.length > 0, `phases[${i}] no steps`);
    p.steps.forEach((s, j) => {
      need(
        Number.isInteger(s.percent) && s.percent >= 0 && s.percent <= 100,
        `phases[${i}].steps[${j}] percent ${s.percent}`,
      );
      if (j > 0) need(s.percent > p.steps[j - 1].percent, `phases[${i}] percents not ascending`);
      if (s.observe === 'continuous')
        need(j === p.steps.length - 1, `phases[${i}] continuous before the end`);
      else within(s.observe, Math.max(interval, 1), LIMITS.observeMaxMs, `phases[${i}].steps[${j}].observe`);
    });
    const named = Array.isArray(p.checks) ? p.checks : Object.keys(p.checks ?? {});
    for (const c of named) need((CHECK_NAMES as readonly string[]).includes(c), `unknown check ${c}`);
    need(new Set(named).size === named.length, `phases[${i}] checks repeated`);
    need(p.approval === 'none' || p.approval === 'before-start', `phases[${i}] approval ${p.approval}`);
  }
  const json = JSON.stringify(plan);
  need(Buffer.byteLength(json) <= LIMITS.workflowInputBytes, 'plan too large');
  need(!commentKeyIn(plan), 'an x- key reached the validated plan');
  out.push(...sameAsWritten(input, plan));
  return out;
}

/**
 * Where keys are data, not the plan's own: group → variable names, and the probes' JSON (schemas,
 * bodies, headers, params, captures), where an `x-` key is a field like any other.
 */
const FREE_FORM =
  /(\.variables|\.probes\.schemas|\.probes\.reads\[\d+\]\.(schema|params|headers)|\.probes\.writes\[\d+\]\.steps\[\d+\]\.(body|schema|headers|capture))(\.|\[|$)/;

/** An `x-` comment key anywhere the plan's own keys are. */
function commentKeyIn(value: unknown, path = ''): boolean {
  if (FREE_FORM.test(path)) return false;
  if (Array.isArray(value)) return value.some((v, i) => commentKeyIn(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([k, v]) => k.startsWith('x-') || commentKeyIn(v, `${path}.${k}`));
}

/**
 * The plan says what its input said: every key written (other than `x-` comments) is in the plan
 * with the same value. A plan whose input said `approvl` can never pass this, nor one whose
 * `approval` was dropped or changed on the way.
 */
function sameAsWritten(input: unknown, plan: unknown, path = '', out: string[] = []): string[] {
  if (Array.isArray(input)) {
    if (!Array.isArray(plan) || plan.length !== input.length) out.push(`${path}: list changed`);
    else input.forEach((v, i) => sameAsWritten(v, plan[i], `${path}[${i}]`, out));
  } else if (typeof input === 'object' && input !== null) {
    if (typeof plan !== 'object' || plan === null) out.push(`${path}: mapping changed`);
    else
      for (const [k, v] of Object.entries(input)) {
        const inRecord = FREE_FORM.test(path);
        if (k.startsWith('x-') && !inRecord) continue;
        if (!Object.prototype.hasOwnProperty.call(plan, k))
          out.push(`${path}.${k}: written but not in the plan`);
        else sameAsWritten(v, (plan as Record<string, unknown>)[k], `${path}.${k}`, out);
      }
  } else if (!Object.is(input, plan)) out.push(`${path}: ${String(input)} became ${String(plan)}`);
  return out;
}
