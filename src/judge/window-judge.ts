/**
 * The verdicts of one observation window, as plain functions over plain state: the
 * workflow keeps `JudgeState` per group, `rollout simulate` and `bench/judgement.ts` drive the very
 * same functions on synthetic traffic. Pure; runs inside workflow code.
 *
 * Every check of the window calls `judgeCheck`; only a `rollback` there acts at once. At the end
 * of the window `judgeWindowEnd` says pass, hold or inconclusive. The window's false-rollback
 * budget (`thresholds.falseRollback`) is split between the checks that can roll back (`BUDGET`),
 * and each spends its share over every look of the window, extensions included.
 */
import type { CheckName, Thresholds } from '../plan/schema';
import { pct, tooFew, type CheckResult } from './verdicts';
import { addSamples } from './samples';
import type { GroupSample, ImplStats } from './samples';
import {
  startSequential,
  stepSequential,
  type Counts,
  type SequentialSettings,
  type SequentialState,
} from './sequential';
import { blindLatency, heavierTail, judgeP95End, p95Rollback } from './p95-judge';
import { normalQuantile, wilson } from './statistics';
import {
  addLegacySpread,
  addSpread,
  carriedSpread,
  dispersionFactor,
  spreadVariance,
  startSpread,
  type Spread,
} from './dispersion';

export { p95BucketWarning } from './p95-judge';

/** Shares of the false-rollback budget; they sum to 1. */
export const BUDGET = { errorRate: 0.4, successRate: 0.4, p95: 0.1, servedShare: 0.1 } as const;

/** A check's share of the window's false-rollback budget. */
export function checkAlpha(t: Thresholds, check: keyof typeof BUDGET): number {
  return (t.falseRollback ?? 0.001) * BUDGET[check];
}

/**
 * Share of the P95 budget spent at the window's end, where the window has the most requests: a
 * P95 just over the bar takes thousands of them to show, so one well-funded look there is worth
 * more than the same budget spread thin over every check (which still catch large regressions
 * early). A window is tested at its end at most once: an extension comes only while the domain
 * is short of `minSamples`, and then the P95 is not tested at all.
 */
export const P95_END_SHARE = 0.5;

/** z of the legacy reference rate's upper bound (how bad legacy may be while it looks this good). */
const LEGACY_Z = 2;
/** Per-check shares kept for the dispersion of the served share. */
const SHARE_HISTORY = 60;

/** What a window is judged against. */
export interface JudgeContext {
  /** The configured domain share of the group, 0..100. */
  percent: number;
  thresholds: Thresholds;
  checks: CheckName[];
  /** Legacy traffic of the baseline window before the phase's first step: the reference at 100%. */
  baseline: ImplStats | null;
  /** Looks the window takes, extensions included; `null` for a continuous window. */
  plannedLooks: number | null;
  /** For a continuous window: the looks spent at the base threshold (a day of checks). */
  continuousLooks: number;
  /** Checks summed for the "just now" P95 and the legacy reference rate. */
  lookbackChecks: number;
  /**
   * `defaults.burstLength` in checks: a rate test's alarm rolls back only once the run behind it
   * spans more checks than this (a burst that ends lets the statistic fall back before then).
   */
  burstChecks?: number;
}

/** The running state of one group's window: JSON, kept in workflow state between checks. */
export interface JudgeState {
  looks: number;
  window: GroupSample | null;
  recent: GroupSample[];
  errors: SequentialState;
  failures: SequentialState;
  /** The same tests from the window's first check only (`fromStart`). Absent in older state. */
  errorsWhole?: SequentialState;
  failuresWhole?: SequentialState;
  /** `[domain, total]` requests of the latest checks. */
  shares: Array<[number, number]>;
  /**
   * The same sequential tests against the target instead of the bar: when one alarms, the canary
   * is clearly above the target (while the rollback test stays quiet below the bar) and the step
   * will hold at its end: said at once, once per window (`noticed`). Absent in older state.
   */
  aboveTarget?: { errors: SequentialState; failures: SequentialState; noticed: string[] };
  /** How much the rates wander between checks, learned here and in the group's earlier windows. Absent in older state. */
  spread?: Spread;
}

/**
 * Said at once, once per window: `above-target`, a canary clearly past the target but not the
 * rollback bar (the step will hold at its end); `blind`, a check the metrics cannot feed (it is
 * inconclusive, a hold at the window's end, until the metrics or the plan change).
 */
export interface TargetNotice {
  check: 'errorRate' | 'successRate' | 'p95';
  /** Absent: `above-target`. `slower`: the domain's latency tail clearly heavier than legacy's. */
  kind?: 'above-target' | 'blind' | 'slower';
  reason: string;
}

/** The chance of a "slower" notice on a domain as fast as legacy, over a whole window. */
const SLOWER_NOTICE_ALPHA = 0.01;

export interface CheckJudgement {
  state: JudgeState;
  /** The checks whose evidence is clear enough to roll back now: the only ones that act. */
  rollbacks: CheckResult[];
  /** Checks clearly past their target (not their bar) for the first time this window. */
  notices: TargetNotice[];
  /** How close each rate's sequential test came to its threshold (1 = alarm). */
  progress: Record<string, number>;
}

/**
 * A window's judge. `previous`: the group's judge of its last window (or baseline), whose learned
 * spread this one starts from.
 */
export function startJudge(t: Thresholds, previous?: JudgeState): JudgeState {
  return {
    spread: startSpread(carriedSpread(previous?.spread)),
    looks: 0,
    window: null,
    recent: [],
    errors: startSequential(t.errorRate.rollback),
    failures: startSequential(1 - t.successRate.rollback),
    errorsWhole: startSequential(t.errorRate.rollback),
    failuresWhole: startSequential(1 - t.successRate.rollback),
    shares: [],
    aboveTarget: {
      errors: startSequential(t.errorRate.target, noticeRates(t.errorRate.target, t.errorRate.rollback)),
      failures: startSequential(
        1 - t.successRate.target,
        noticeRates(1 - t.successRate.target, 1 - t.successRate.rollback),
      ),
      noticed: [],
    },
  };
}

/** The alternatives of the above-target test: the middle of the bands, and the bar. */
function noticeRates(target: number, rollback: number): number[] {
  return [Math.sqrt(Math.max(target, 1e-6) * rollback), rollback];
}

const short = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const rate = (c: Counts) => (c.n > 0 ? c.bad / c.n : 0);

/** α of one look, on the schedule of `threshold` in sequential.ts: α/(2K0) each, then α·K0/(2k²). */
export function lookAlpha(alpha: number, look: number, ctx: JudgeContext): number {
  const k0 = Math.max(1, ctx.plannedLooks ?? ctx.continuousLooks);
  return look <= k0 ? alpha / (2 * k0) : (alpha * k0) / (2 * look * look);
}

function sum(samples: GroupSample[]): GroupSample | null {
  return samples.reduce<GroupSample | undefined>((acc, s) => addSamples(acc, s), undefined) ?? null;
}

/** Requests whose status is known: the others are neither errors nor successes to anyone. */
const known = (s: ImplStats) => s.requests - (s.unknownStatus ?? 0);
const errorsOf = (s: ImplStats): Counts => ({ n: known(s), bad: s.errors });
const failuresOf = (s: ImplStats): Counts => ({ n: known(s), bad: known(s) - s.successes });

/** Legacy requests to compare with: the same checks while legacy serves, the baseline at 100%. */
function legacyReference(
  sample: GroupSample | null,
  ctx: JudgeContext,
): { stats: ImplStats; label: string } | null {
  const min = ctx.thresholds.minSamples;
  if (sample && ctx.percent < 100 && sample.legacy.requests >= min)
    return { stats: sample.legacy, label: 'legacy' };
  if (ctx.baseline && ctx.baseline.requests >= min)
    return { stats: ctx.baseline, label: 'legacy before the first step' };
  return null;
}

/**
 * The null rate of the sequential test: the rollback bar, so that a canary between target and bar
 * is never rolled back by the rules (it holds at the window's end, for a person); or, when legacy
 * is worse than the bar over the same checks, as bad as legacy may be (its upper bound), so that
 * a service whose legacy and domain fail alike is not rolled back for it. Never above the
 * geometric middle of the bar and the first alternative (twice the bar), which the test must
 * still tell apart.
 */
export function nullRate(rollback: number, legacy: Counts | null): number {
  const cap = rollback * Math.SQRT2;
  // Only a legacy measured worse than the bar raises it: a few dozen healthy legacy requests have
  // an upper bound past the bar too, and would slow every rollback for nothing.
  if (!legacy || legacy.n <= 0 || legacy.bad / legacy.n <= rollback) return rollback;
  return Math.min(cap, Math.max(rollback, wilson(legacy.bad, legacy.n, LEGACY_Z).high));
}

interface RateRule {
  check: 'errorRate' | 'successRate';
  counts: (s: ImplStats) => Counts;
  /** Bars as bad-outcome rates. */
  target: number;
  rollback: number;
  /** How a bad-outcome rate reads in reasons. */
  show: (badRate: number) => string;
  noun: string;
  figure: string;
}

function rateRules(t: Thresholds): RateRule[] {
  return [
    {
      check: 'errorRate',
      counts: errorsOf,
      target: t.errorRate.target,
      rollback: t.errorRate.rollback,
      show: pct,
      noun: 'error rate',
      figure: 'errorRate',
    },
    {
      check: 'successRate',
      counts: failuresOf,
      target: 1 - t.successRate.target,
      rollback: 1 - t.successRate.rollback,
      show: (bad) => pct(1 - bad),
      noun: 'success rate',
      figure: 'successRate',
    },
  ];
}

/**
 * Legacy's rate in this one check, when it served enough requests in it to say: the paired null of
 * the rate tests (legacy is the canary's concurrent control and sees the same downstream bursts).
 * The rate itself, not an upper bound: a bound on a few dozen requests would reach the
 * alternatives and blind the test.
 */
function checkNull(legacy: Counts, minSamples: number): number | undefined {
  if (legacy.n < Math.min(minSamples, 20)) return undefined;
  return legacy.bad / legacy.n;
}

/**
 * Share of a rate's budget for the test from the window's start; the CUSUM (every check a start
 * point) has the rest. The CUSUM pays ln(1/share) for it, the test from the start ln(1/(1−share)):
 * a quarter keeps a mid-window fault within 0.3 nats of the CUSUM alone, while a fault there from
 * the start needs about ln(2m/α) + 1.4 instead of ln(2·K·m/α), K the window's checks (180–8,640).
 */
const FROM_START_SHARE = 0.25;

/** The settings of one rate's rollback tests: the CUSUM's budget (`fromStart`: the other test's). */
function sequentialSettings(rule: RateRule, p0: number, ctx: JudgeContext, fromStart = false): SequentialSettings {
  const alpha = checkAlpha(ctx.thresholds, rule.check);
  return {
    p0,
    rollback: rule.rollback,
    alpha: fromStart ? alpha * FROM_START_SHARE : alpha * (1 - FROM_START_SHARE),
    ...(fromStart ? { fromStart } : {}),
    plannedLooks: ctx.plannedLooks,
    continuousLooks: ctx.continuousLooks,
  };
}

/** Judges one check: the window so far, with a rollback where the evidence is clear. */
export function judgeCheck(state: JudgeState, sample: GroupSample, ctx: JudgeContext): CheckJudgement {
  const t = ctx.thresholds;
  const recent = [...state.recent, sample].slice(-Math.max(1, ctx.lookbackChecks));
  const recentSum = sum(recent);
  const window = addSamples(state.window ?? undefined, sample);
  // Legacy of the whole window so far: the most requests, so the tightest bound on how bad it is.
  const reference = legacyReference(window, ctx);
  const next: JudgeState = {
    looks: state.looks + 1,
    window,
    recent,
    errors: state.errors,
    failures: state.failures,
    errorsWhole: state.errorsWhole ?? startSequential(t.errorRate.rollback),
    failuresWhole: state.failuresWhole ?? startSequential(1 - t.successRate.rollback),
    ...(state.aboveTarget ? { aboveTarget: state.aboveTarget } : {}),
    shares: [
      ...state.shares,
      [sample.domain.requests, sample.domain.requests + sample.legacy.requests] as [number, number],
    ].slice(-SHARE_HISTORY),
  };
  const rollbacks: CheckResult[] = [];
  const progress: Record<string, number> = {};
  const variance = spreadVariance(state.spread);
  for (const rule of rateRules(t)) {
    const key = rule.check === 'errorRate' ? 'errors' : 'failures';
    const p0 = nullRate(rule.rollback, reference ? rule.counts(reference.stats) : null);
    const dispersion = dispersionFactor(variance, sample.domain.requests, p0);
    const settings: SequentialSettings = {
      ...sequentialSettings(rule, p0, ctx),
      p0Check: checkNull(rule.counts(sample.legacy), t.minSamples),
      dispersion,
      ...(ctx.burstChecks ? { burstChecks: ctx.burstChecks } : {}),
    };
    const whole = rule.check === 'errorRate' ? 'errorsWhole' : 'failuresWhole';
    const cusum = stepSequential(next[key], rule.counts(sample.domain), rule.counts(sample.legacy), settings);
    const fromStart = stepSequential(next[whole]!, rule.counts(sample.domain), rule.counts(sample.legacy), {
      ...settings,
      ...sequentialSettings(rule, p0, ctx, true),
    });
    next[key] = cusum.state;
    next[whole] = fromStart.state;
    progress[rule.check] = Math.max(cusum.progress, fromStart.progress);
    const step = cusum.alarm ? cusum : fromStart;
    if (!ctx.checks.includes(rule.check) || !step.alarm) continue;
    const a = step.alarm;
    const legacyRate = rate(a.legacy);
    const legacyText =
      a.legacy.n >= t.minSamples
        ? `; legacy ${rule.show(legacyRate)} over the same checks (${legacyRate > rule.rollback ? 'legacy fails too' : legacyRate > rule.target ? 'legacy above target too' : 'legacy is fine'})`
        : '';
    rollbacks.push({
      check: rule.check,
      verdict: 'rollback',
      trigger: rule.check,
      reason:
        `domain ${rule.noun} ${rule.show(rate(a.domain))} (${rule.check === 'errorRate' ? a.domain.bad : a.domain.n - a.domain.bad}/${a.domain.n} over the last ${next.looks - a.since} checks${ctx.burstChecks ? `, going on past the plan's burstLength of ${ctx.burstChecks} checks` : ''}), ` +
        `${rule.check === 'errorRate' ? 'above' : 'below'} ${p0 > rule.rollback * (1 + 1e-9) ? `${rule.show(p0)} (as bad as legacy may be over the same checks, worse than the ${rule.show(rule.rollback)} bar)` : `the rollback bar ${rule.show(rule.rollback)}`} by a sequential test ` +
        `(log-likelihood ${a.s.toFixed(1)} ≥ ${step.threshold.toFixed(1)}${dispersion > 1.05 ? `, each request weighed 1/${dispersion.toFixed(1)} for the bursts this service has shown` : ''}; false-rollback budget ${(checkAlpha(t, rule.check) * 100).toPrecision(2)}%)${legacyText}`,
      // The rate the test saw, so the check's headline reads "errors 12.00%", not only its share.
      figures: {
        [rule.figure]: rule.check === 'errorRate' ? rate(a.domain) : 1 - rate(a.domain),
        [`${rule.figure}Sequential`]: step.progress,
        samples: a.domain.n,
      },
    });
  }
  const look = lookAlpha(t.falseRollback ?? 0.001, next.looks, ctx);
  if (ctx.checks.includes('p95')) {
    // One test per sum, the window and the recent checks: two ways to be wrong per look, from the
    // share of the P95 budget not kept for the window's end.
    const threshold = Math.log(2 / (look * BUDGET.p95 * (1 - P95_END_SHARE)));
    for (const [label, s] of [
      ['window', next.window!],
      ['last checks', recentSum!],
    ] as const) {
      const r = p95Rollback(s, legacyReference(s, ctx), t, threshold, label);
      if (r) {
        rollbacks.push(r);
        break;
      }
    }
  }
  // Out of its band the share holds at the window's end; only a plan that opts in rolls back, and
  // only for a gross mismatch (`rollbackFactor` times off).
  const factor = t.servedShare.rollbackFactor;
  if (ctx.checks.includes('servedShare') && factor) {
    const r = shareRollback(next, ctx, normalQuantile(1 - (look * BUDGET.servedShare) / 2), factor);
    if (r) rollbacks.push(r);
  }
  const notices = [
    ...targetNotices(next, sample, reference, ctx, rollbacks, variance),
    ...blindNotices(next, sample, ctx),
    ...slowerNotices(next, ctx, rollbacks),
  ];
  if (state.spread) {
    const open = [...next.errors.alternatives, ...next.failures.alternatives].some((a) => a.s > 0);
    next.spread = addSpread(state.spread, errorsOf(sample.domain), errorsOf(sample.legacy), open);
  }
  return { state: next, rollbacks, progress, notices };
}

/**
 * The above-target tests: the rate tests again, against the target (or legacy's rate, when legacy
 * misses the target too: then it is not the canary), alarming at the same budget. A check whose
 * test alarms while its rollback test does not is announced once per window.
 */
function targetNotices(
  next: JudgeState,
  sample: GroupSample,
  reference: { stats: ImplStats; label: string } | null,
  ctx: JudgeContext,
  rollbacks: CheckResult[],
  variance: number,
): TargetNotice[] {
  if (!next.aboveTarget) return [];
  const above = { ...next.aboveTarget, noticed: [...next.aboveTarget.noticed] };
  next.aboveTarget = above;
  const notices: TargetNotice[] = [];
  for (const rule of rateRules(ctx.thresholds)) {
    const key = rule.check === 'errorRate' ? 'errors' : 'failures';
    const legacy = reference ? rule.counts(reference.stats) : null;
    const p0 = Math.max(rule.target, legacy && legacy.n > 0 ? wilson(legacy.bad, legacy.n, LEGACY_Z).high : 0);
    const step = stepSequential(above[key], rule.counts(sample.domain), rule.counts(sample.legacy), {
      p0,
      rollback: rule.rollback,
      alpha: checkAlpha(ctx.thresholds, rule.check),
      plannedLooks: ctx.plannedLooks,
      continuousLooks: ctx.continuousLooks,
      dispersion: dispersionFactor(variance, sample.domain.requests, p0),
      // A canary between the bars is so from the start: one start point, no looks to pay for.
      fromStart: true,
    });
    above[key] = step.state;
    if (!step.alarm || !ctx.checks.includes(rule.check) || above.noticed.includes(rule.check)) continue;
    if (rollbacks.some((r) => r.check === rule.check)) continue;
    above.noticed.push(rule.check);
    const a = step.alarm;
    notices.push({
      check: rule.check,
      reason:
        `domain ${rule.noun} ${rule.show(rate(a.domain))} (${a.domain.n} requests over the last ${next.looks - a.since} checks): ` +
        `${rule.check === 'errorRate' ? 'above target' : 'below target'} ${rule.show(rule.target)}, ${rule.check === 'errorRate' ? 'below' : 'above'} the rollback bar ${rule.show(rule.rollback)}: ` +
        `this step will hold at its end (a sequential test against ${rule.show(Math.min(p0, a.p1))})`,
    });
  }
  return notices;
}

/**
 * A check that only teaches the spread, judging nothing: what a simulation runs for the earlier
 * steps of a phase, whose verdicts are not its business (their rate tests at rest throughout).
 */
export function learnSpread(state: JudgeState, sample: GroupSample): JudgeState {
  if (!state.spread) return state;
  return { ...state, spread: addSpread(state.spread, errorsOf(sample.domain), errorsOf(sample.legacy), false) };
}

/** Why some requests count for no rate, and how to fix it. */
export function unknownStatusText(unknown: number, requests: number): string {
  return (
    `${unknown} of ${requests} domain requests carry a status label that is neither a code (503) nor a class (5xx)` +
    `: map the status label to the codes or classes (target.metrics), or turn the rate checks off for this phase`
  );
}

/**
 * A check of the group at 0% (its baseline window): legacy's traffic is summed for the reference
 * and teaches the spread; nothing is judged.
 */
export function recordBaseline(state: JudgeState, sample: GroupSample): JudgeState {
  return {
    ...state,
    window: addSamples(state.window ?? undefined, sample),
    ...(state.spread ? { spread: addLegacySpread(state.spread, errorsOf(sample.legacy)) } : {}),
  };
}

/**
 * The domain's latency tail clearly heavier than legacy's at some bound (the window so far): said
 * at once, once per window, while the P95's own test may wait for the window's end or never be
 * sure (coarse buckets): "this step may hold at its end".
 */
function slowerNotices(next: JudgeState, ctx: JudgeContext, rollbacks: CheckResult[]): TargetNotice[] {
  if (!next.aboveTarget || !ctx.checks.includes('p95') || next.aboveTarget.noticed.includes('p95-slower')) return [];
  if (rollbacks.some((r) => r.check === 'p95')) return [];
  const w = next.window!;
  const ref = legacyReference(w, ctx);
  if (!ref || w.domain.requests < ctx.thresholds.minSamples) return [];
  const tail = heavierTail(w.domain, ref.stats, Math.log(1 / lookAlpha(SLOWER_NOTICE_ALPHA, next.looks, ctx)));
  if (!tail) return [];
  next.aboveTarget = { ...next.aboveTarget, noticed: [...next.aboveTarget.noticed, 'p95-slower'] };
  const ms = `${Math.round(tail.bound * 1000)}ms`;
  return [
    {
      check: 'p95',
      kind: 'slower',
      reason:
        `domain latency tail heavier than ${ref.label}'s: ${pct(tail.domainShare)} of domain requests over ${ms} vs ${pct(tail.referenceShare)} of ${ref.label} ` +
        `(${w.domain.requests} domain requests in the window so far): the P95 may be past +${pct(ctx.thresholds.p95Increase.rollback)}; this step may hold at its end`,
    },
  ];
}

/**
 * The checks this sample cannot feed, said once per window: a latency metric without buckets
 * (a router's exporter), statuses that are neither codes nor classes. Kept with the above-target
 * notices' `noticed` (absent in older state: then nothing is said).
 */
function blindNotices(next: JudgeState, sample: GroupSample, ctx: JudgeContext): TargetNotice[] {
  if (!next.aboveTarget) return [];
  const said = next.aboveTarget.noticed;
  const out: TargetNotice[] = [];
  const once = (key: string, notice: TargetNotice) => {
    if (said.includes(key)) return;
    next.aboveTarget = { ...next.aboveTarget!, noticed: [...next.aboveTarget!.noticed, key] };
    out.push(notice);
  };
  if (ctx.checks.includes('p95')) {
    const blind = blindLatency(sample.domain, 'domain') ?? blindLatency(sample.legacy, 'legacy');
    if (blind)
      once('p95-blind', {
        check: 'p95',
        kind: 'blind',
        reason: `p95: ${blind}: the P95 cannot be judged (inconclusive, a hold at the window's end); export a latency histogram, or turn the check off for this phase with checks: {p95: off}`,
      });
  }
  const unknown = sample.domain.unknownStatus ?? 0;
  const rates = (['errorRate', 'successRate'] as const).filter((c) => ctx.checks.includes(c));
  if (unknown > 0 && rates.length)
    once('status-unknown', {
      check: rates[0],
      kind: 'blind',
      reason: `${rates.join(', ')}: ${unknownStatusText(unknown, sample.domain.requests)}`,
    });
  return out;
}

/**
 * What a check shows (`status.lastCheck`): the window so far as `judgeWindowEnd` sees it, with
 * the rollbacks of this check in place of their checks' results. Only the workflow needs it; a
 * simulation looks at `rollbacks` alone.
 */
export function checkResults(judgement: CheckJudgement, ctx: JudgeContext): CheckResult[] {
  return judgeWindowEnd(judgement.state, ctx).map((r) => {
    const rolled = judgement.rollbacks.find((x) => x.check === r.check);
    const seq = judgement.progress[r.check];
    const figures = { ...r.figures, ...(seq === undefined ? {} : { [`${r.check}Sequential`]: seq }) };
    // A rollback keeps the window's figures beside its own evidence.
    return rolled ? { ...rolled, figures: { ...figures, ...rolled.figures } } : { ...r, figures };
  });
}

// -------------------------------------------------------------------------- served share

/**
 * How far off a share of requests may be, either way, before sticky routing without a key figure
 * holds: with sticky routing the share of requests follows whichever users the router happened to
 * pin, and a few users may send a third of the traffic (Zipf 0.9 over 2,000 users: the busiest one
 * 8%), so only a share this many times off the configured one is a routing fault beyond doubt.
 */
export const STICKY_FACTOR = 3;

/**
 * Requests that count as independent for the served share: n, or n/φ when the check-to-check
 * spread of the share is wider than a coin toss allows (a quasi-binomial dispersion φ from the
 * latest checks).
 */
export function effectiveRequests(
  window: GroupSample,
  shares: Array<[number, number]>,
): { n: number; dispersion: number } {
  const n = window.domain.requests + window.legacy.requests;
  const used = shares.filter(([, total]) => total > 0);
  let dispersion = 1;
  if (used.length >= 5) {
    const d = used.reduce((a, [x]) => a + x, 0);
    const total = used.reduce((a, [, y]) => a + y, 0);
    const p = d / total;
    if (p > 0 && p < 1) {
      const chi2 = used.reduce((a, [x, y]) => a + (x - p * y) ** 2 / (y * p * (1 - p)), 0);
      dispersion = Math.max(1, chi2 / (used.length - 1));
    }
  }
  return { n: n / dispersion, dispersion };
}

/**
 * What the served share is judged on:
 * - `keys`: the share of routing keys (`rollout_routing_keys`), when the target exports them for
 *   both sides: a sticky router decides per key, each key a coin toss at the configured share
 *   whatever its activity, so the share of keys is binomial in the keys however unequal the users;
 * - `requests`: the share of requests, binomial (per-request routing), widened by the spread;
 * - `sticky`: the share of requests of a plan that says its routing is sticky but exports no keys:
 *   how many requests each user sends cannot be seen, so only a share `STICKY_FACTOR` times off
 *   is judged (the band cannot be).
 */
export type ShareBasis = 'keys' | 'requests' | 'sticky';

export function shareFigures(state: JudgeState, ctx: JudgeContext, z: number) {
  const t = ctx.thresholds;
  const w = state.window!;
  const n = w.domain.requests + w.legacy.requests;
  const requestShare = n > 0 ? w.domain.requests / n : 0;
  const keys =
    w.domain.keys !== undefined && w.legacy.keys !== undefined ? w.domain.keys + w.legacy.keys : null;
  const expected = ctx.percent / 100;
  const spread = effectiveRequests(w, state.shares);
  const basis: ShareBasis =
    keys !== null && keys >= t.minSamples ? 'keys' : t.servedShare.routing === 'sticky' ? 'sticky' : 'requests';
  const share = basis === 'keys' ? w.domain.keys! / keys! : requestShare;
  const eff = basis === 'keys' ? keys! : spread.n;
  const ci = wilson(share * eff, eff, z);
  const band =
    basis === 'sticky'
      ? { low: expected / STICKY_FACTOR, high: Math.min(1, expected * STICKY_FACTOR) }
      : { low: expected * (1 - t.servedShare.tolerance), high: Math.min(1, expected * (1 + t.servedShare.tolerance)) };
  const bandText =
    basis === 'sticky'
      ? `${STICKY_FACTOR}× band ${pct(band.low)}–${pct(band.high)}: sticky routing without routing keys, so the ±${Math.round(t.servedShare.tolerance * 100)}% band cannot be judged`
      : `band ${pct(band.low)}–${pct(band.high)}`;
  const measured =
    basis === 'keys'
      ? `domain served ${pct(share)} of ${keys} routing keys (interval ${pct(ci.low)}–${pct(ci.high)}; ${pct(requestShare)} of ${n} requests)`
      : `domain served ${pct(share)} of ${n} requests (${spread.dispersion > 1 ? `≈ ${Math.round(eff)} independent, dispersion ${spread.dispersion.toFixed(1)}; ` : ''}interval ${pct(ci.low)}–${pct(ci.high)})`;
  const text = `${measured}, configured ${ctx.percent}% (${bandText})`;
  return { n, share, requestShare, basis, eff, ci, band, text, expected };
}

function shareRollback(state: JudgeState, ctx: JudgeContext, z: number, factor: number): CheckResult | null {
  const w = state.window!;
  if (w.domain.requests + w.legacy.requests < ctx.thresholds.minSamples) return null;
  const f = shareFigures(state, ctx, z);
  const low = f.expected / factor;
  const high = Math.min(1, f.expected * factor);
  if (f.ci.high >= low && f.ci.low <= high) return null;
  return {
    check: 'servedShare',
    verdict: 'rollback',
    trigger: 'servedShare',
    reason: `${f.text}: beyond ${factor}× the configured share (${pct(low)}–${pct(high)}) beyond doubt`,
    figures: {
      servedShare: f.share,
      servedShareLow: f.ci.low,
      servedShareHigh: f.ci.high,
      expectedShare: f.expected,
      servedShareEffective: f.eff,
    },
  };
}

function judgeShareEnd(state: JudgeState, ctx: JudgeContext): CheckResult {
  const w = state.window!;
  const n = w.domain.requests + w.legacy.requests;
  if (n < ctx.thresholds.minSamples) return tooFew('servedShare', n, ctx.thresholds.minSamples, 'requests');
  const f = shareFigures(state, ctx, ctx.thresholds.confidence);
  const figures = {
    servedShare: f.share,
    servedShareLow: f.ci.low,
    servedShareHigh: f.ci.high,
    expectedShare: f.expected,
    servedShareEffective: f.eff,
    requestShare: f.requestShare,
  };
  if (f.ci.high >= f.band.low && f.ci.low <= f.band.high)
    return { check: 'servedShare', verdict: 'pass', figures, reason: f.text };
  return { check: 'servedShare', verdict: 'hold', figures, reason: `${f.text}: outside the band` };
}

// --------------------------------------------------------------------------- rates at the end

function judgeRateEnd(rule: RateRule, state: JudgeState, ctx: JudgeContext): CheckResult {
  const t = ctx.thresholds;
  const w = state.window!;
  const d = rule.counts(w.domain);
  const unknown = w.domain.unknownStatus ?? 0;
  if (d.n < t.minSamples && unknown > 0)
    return {
      check: rule.check,
      verdict: 'inconclusive',
      figures: {},
      reason: `the ${rule.noun} cannot be judged: ${unknownStatusText(unknown, w.domain.requests)}`,
    };
  if (d.n < t.minSamples) return tooFew(rule.check, d.n, t.minSamples, 'domain requests');
  // Rates that wander between checks (bursts) make a window's requests count for less.
  const variance = spreadVariance(state.spread);
  const looks = Math.max(1, state.looks);
  const spreadOf = (c: Counts) =>
    dispersionFactor(variance, c.n / looks, Math.min(0.5, Math.max(rule.target, rate(c))), 1);
  const interval = (c: Counts) => {
    const phi = spreadOf(c);
    return wilson(c.bad / phi, c.n / phi, t.confidence);
  };
  const ci = interval(d);
  const ref = legacyReference(w, ctx);
  const l = ref ? rule.counts(ref.stats) : null;
  const lci = l ? interval(l) : null;
  const r = rate(d);
  const shown =
    rule.check === 'errorRate' ? { low: ci.low, high: ci.high } : { low: 1 - ci.high, high: 1 - ci.low };
  const figures = {
    [rule.figure]: rule.check === 'errorRate' ? r : 1 - r,
    [`${rule.figure}Low`]: shown.low,
    [`${rule.figure}High`]: shown.high,
    [`legacy${rule.figure[0].toUpperCase()}${rule.figure.slice(1)}`]: l
      ? rule.check === 'errorRate'
        ? rate(l)
        : 1 - rate(l)
      : null,
    samples: d.n,
  };
  const legacyText = l ? `, ${ref!.label} ${rule.show(rate(l))}` : '';
  const phi = spreadOf(d);
  const text = `domain ${rule.noun} ${rule.show(r)} (${d.n} requests${phi > 1.05 ? ` counting as ${Math.round(d.n / phi)} for the spread between checks` : ''}, interval ${rule.show(rule.check === 'errorRate' ? ci.low : ci.high)}–${rule.show(rule.check === 'errorRate' ? ci.high : ci.low)})${legacyText}`;
  if (ci.low > rule.target) {
    // Not worse than legacy: the interval of domain reaches down into legacy's.
    if (l && lci && ci.low <= lci.high)
      return {
        check: rule.check,
        verdict: 'hold',
        figures,
        reason: `${ref!.label} ${short(rule.check === 'errorRate' ? rate(l) : 1 - rate(l))}, domain ${short(rule.check === 'errorRate' ? r : 1 - r)}: not the canary, both implementations miss the ${rule.noun} target (${text})`,
      };
    return {
      check: rule.check,
      verdict: 'hold',
      figures,
      reason: `${text}: ${rule.check === 'errorRate' ? 'above' : 'below'} target ${rule.show(rule.target)}`,
    };
  }
  // Above the target by the point estimate, not clearly: neither a pass nor a hold yet. More
  // requests tell (the window is extended, as for too few samples); a window that cannot be holds.
  if (r > rule.target)
    return {
      check: rule.check,
      verdict: 'inconclusive',
      figures,
      reason: `${text}: above target ${rule.show(rule.target)}, not clearly: more requests needed`,
      shortfall: `a ${rule.noun} not clearly within target`,
    };
  return { check: rule.check, verdict: 'pass', figures, reason: `${text}: within target` };
}

/**
 * The window's verdicts. Rollbacks come from `judgeCheck` as soon as they are clear; at the real
 * end of a window (`atEnd`) the P95 may roll back too, on the budget kept for that look.
 * Without `atEnd` (what a check shows), the same evidence holds.
 */
export function judgeWindowEnd(state: JudgeState, ctx: JudgeContext, atEnd = false): CheckResult[] {
  const w = state.window;
  if (!w)
    return [
      {
        check: 'errorRate',
        verdict: 'inconclusive',
        reason: 'no traffic was measured in the window',
        figures: {},
        shortfall: 'no measured traffic',
      },
    ];
  const out: CheckResult[] = [];
  for (const rule of rateRules(ctx.thresholds))
    if (ctx.checks.includes(rule.check)) out.push(judgeRateEnd(rule, state, ctx));
  if (ctx.checks.includes('p95'))
    out.push(
      judgeP95End(w, legacyReference(w, ctx), ctx.thresholds, {
        legacyShort: ctx.percent < 100 && !ctx.baseline,
        // One test, the window's: ln(1/α) of the budget kept for the end.
        rollbackAt: atEnd ? Math.log(1 / (checkAlpha(ctx.thresholds, 'p95') * P95_END_SHARE)) : null,
      }),
    );
  if (ctx.checks.includes('servedShare')) out.push(judgeShareEnd(state, ctx));
  return out;
}

/**
 * When every result that is not a pass is short of samples, what is missing ("38 of 50 domain
 * requests"): the window is then extended instead of holding. `null` otherwise.
 */
export function sampleShortfall(results: CheckResult[]): string | null {
  const notPassed = results.filter((r) => r.verdict !== 'pass');
  if (notPassed.length === 0 || notPassed.some((r) => !r.shortfall)) return null;
  return [...new Set(notPassed.map((r) => r.shortfall!))].join(', ');
}
