import type { CheckName, Thresholds } from '../plan/schema';
import type { GroupSample, ImplStats, StageReport } from '../contracts/samples';
import { addBuckets, histogramQuantile, quantileInterval, wilson } from './statistics';

export type Verdict = 'pass' | 'hold' | 'rollback' | 'inconclusive';
export type Trigger =
  | 'errorRate'
  | 'successRate'
  | 'p95'
  | 'servedShare'
  | 'dataConsistency'
  | 'writeProbe'
  | 'command'
  | 'manual';

/** One check's judgement. */
export interface CheckResult {
  check: CheckName;
  verdict: Verdict;
  reason: string;
  /** Set when `verdict` is `rollback`. */
  trigger?: Trigger;
  figures: Record<string, number | null>;
  /** Set when the only trouble is too few samples ("38 of 50 domain requests"): a longer window may do. */
  shortfall?: string;
}

/** The combined judgement of several checks. */
export interface Evaluation {
  verdict: Verdict;
  trigger?: Trigger;
  reasons: string[];
  results: CheckResult[];
  metrics: Record<string, number | null>;
}

export interface TrafficContext {
  /** The configured domain share of the group, 0..100. */
  percent: number;
  thresholds: Thresholds;
  checks: CheckName[];
  /** Legacy P95 in ms before the first step; the reference once no legacy traffic is left. */
  baselineP95Ms: number | null;
  /**
   * `current` (the default): rollbacks need `rollbackConfidence`, and P95 compares confidence
   * intervals. `v1`: every interval at `confidence`, P95 by point estimates, as rollouts started
   * before those rules judged; kept so their histories replay.
   */
  rules?: Rules;
}

export type Rules = 'current' | 'v1';

/** z of the intervals behind a rollback verdict. */
function rollbackZ(t: Thresholds, rules: Rules = 'current'): number {
  return rules === 'v1' ? t.confidence : t.rollbackConfidence;
}

/** A rate as reasons show it: two decimals. */
export const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const ms = (x: number) => `${x.toFixed(1)}ms`;

export function p95Ms(stats: ImplStats): number | null {
  const q = histogramQuantile(0.95, stats.buckets, stats.requests);
  return q === null ? null : q * 1000;
}

/** Too few samples to judge: inconclusive, and the shortfall named (a longer window may do). */
export function tooFew(check: CheckName, n: number, min: number, what: string): CheckResult {
  return {
    check,
    verdict: 'inconclusive',
    reason: `${check}: only ${n} ${what} (need ${min})`,
    figures: { samples: n },
    shortfall: `${n} of ${min} ${what}`,
  };
}

/**
 * Domain 5xx rate: rollback only when even the low end of the rollback interval is above the
 * rollback threshold; hold when the low end of the ordinary interval is above the target.
 */
export function evaluateErrorRate(domain: ImplStats, t: Thresholds, rules?: Rules): CheckResult {
  const n = domain.requests;
  if (n < t.minSamples) return tooFew('errorRate', n, t.minSamples, 'domain requests');
  const rate = domain.errors / n;
  const ci = wilson(domain.errors, n, t.confidence);
  const strict = wilson(domain.errors, n, rollbackZ(t, rules));
  const figures = { errorRate: rate, errorRateLow: ci.low, errorRateHigh: ci.high, samples: n };
  const text = `domain error rate ${pct(rate)} (${domain.errors}/${n}, CI ${pct(ci.low)}–${pct(ci.high)})`;
  if (strict.low > t.errorRate.rollback)
    return {
      check: 'errorRate',
      verdict: 'rollback',
      trigger: 'errorRate',
      figures,
      reason: `${text} > ${pct(t.errorRate.rollback)} (rollback CI ${pct(strict.low)}–${pct(strict.high)})`,
    };
  if (ci.low > t.errorRate.target)
    return {
      check: 'errorRate',
      verdict: 'hold',
      figures,
      reason: `${text} above target ${pct(t.errorRate.target)}`,
    };
  return { check: 'errorRate', verdict: 'pass', figures, reason: `${text} within target` };
}

/** Domain 2xx share: the mirror image of the error rate (high ends below the thresholds). */
export function evaluateSuccessRate(domain: ImplStats, t: Thresholds, rules?: Rules): CheckResult {
  const n = domain.requests;
  if (n < t.minSamples) return tooFew('successRate', n, t.minSamples, 'domain requests');
  const rate = domain.successes / n;
  const ci = wilson(domain.successes, n, t.confidence);
  const strict = wilson(domain.successes, n, rollbackZ(t, rules));
  const figures = { successRate: rate, successRateLow: ci.low, successRateHigh: ci.high, samples: n };
  const text = `domain success rate ${pct(rate)} (${domain.successes}/${n}, CI ${pct(ci.low)}–${pct(ci.high)})`;
  if (strict.high < t.successRate.rollback)
    return {
      check: 'successRate',
      verdict: 'rollback',
      trigger: 'successRate',
      figures,
      reason: `${text} < ${pct(t.successRate.rollback)} (rollback CI ${pct(strict.low)}–${pct(strict.high)})`,
    };
  if (ci.high < t.successRate.target)
    return {
      check: 'successRate',
      verdict: 'hold',
      figures,
      reason: `${text} below target ${pct(t.successRate.target)}`,
    };
  return { check: 'successRate', verdict: 'pass', figures, reason: `${text} within target` };
}

/**
 * Domain P95 against legacy P95 of the same interval, or against the baseline when legacy has
 * too little traffic left (at 100%). Increases smaller than `minDeltaMs` are bucket noise.
 *
 * The P95 of a few dozen requests is their second or third slowest, so a point estimate above the
 * threshold is not yet evidence: it rolls back only when even the low end of the domain P95's
 * rollback interval exceeds the high end of the legacy one by the threshold (the baseline is a
 * single figure). Above the threshold but not clearly so is `inconclusive`: at a window's end a
 * person decides.
 */
export function evaluateP95(sample: GroupSample, ctx: TrafficContext): CheckResult {
  const t = ctx.thresholds;
  if (sample.domain.requests < t.minSamples)
    return tooFew('p95', sample.domain.requests, t.minSamples, 'domain requests');
  const domain = p95Ms(sample.domain);
  const sameWindow = ctx.percent < 100 && sample.legacy.requests >= t.minSamples;
  const reference = sameWindow ? p95Ms(sample.legacy) : ctx.baselineP95Ms;
  const against = sameWindow ? 'legacy in the same window' : 'the baseline before the first step';
  if (domain === null || reference === null || reference <= 0) {
    return {
      check: 'p95',
      verdict: 'inconclusive',
      reason: `p95: no reference latency (legacy ${sample.legacy.requests} requests, no baseline)`,
      figures: { p95DomainMs: domain, p95ReferenceMs: reference },
    };
  }
  const increase = domain / reference - 1;
  const figures: Record<string, number | null> = {
    p95DomainMs: domain,
    p95ReferenceMs: reference,
    p95Increase: increase,
  };
  const text = `domain P95 ${ms(domain)} vs ${ms(reference)} for ${against} (${increase >= 0 ? '+' : ''}${pct(increase)})`;
  const over = (d: number, r: number) =>
    d / r - 1 > t.p95Increase.rollback && d - r > t.p95Increase.minDeltaMs;
  if (ctx.rules === 'v1') {
    if (over(domain, reference))
      return {
        check: 'p95',
        verdict: 'rollback',
        trigger: 'p95',
        figures,
        reason: `${text} > +${pct(t.p95Increase.rollback)}`,
      };
    return { check: 'p95', verdict: 'pass', figures, reason: text };
  }
  const z = rollbackZ(t, ctx.rules);
  const domainLow = quantileInterval(0.95, sample.domain.buckets, sample.domain.requests, z)!.low * 1000;
  const referenceHigh = sameWindow
    ? quantileInterval(0.95, sample.legacy.buckets, sample.legacy.requests, z)!.high * 1000
    : reference;
  Object.assign(figures, { p95DomainLowMs: domainLow, p95ReferenceHighMs: referenceHigh });
  const bounds = `rollback CI low ${ms(domainLow)} vs high ${ms(referenceHigh)}`;
  if (referenceHigh > 0 && over(domainLow, referenceHigh))
    return {
      check: 'p95',
      verdict: 'rollback',
      trigger: 'p95',
      figures,
      reason: `${text}, ${bounds}: > +${pct(t.p95Increase.rollback)}`,
    };
  if (over(domain, reference))
    return {
      check: 'p95',
      verdict: 'inconclusive',
      figures,
      reason: `${text} > +${pct(t.p95Increase.rollback)}, not yet clear (${bounds})`,
    };
  return { check: 'p95', verdict: 'pass', figures, reason: text };
}

/**
 * Share answered by the domain service against the configured percent, ± a relative tolerance:
 * rollback when the whole rollback interval is outside the band, pass when the point estimate is
 * inside it, inconclusive otherwise.
 */
export function evaluateServedShare(sample: GroupSample, ctx: TrafficContext): CheckResult {
  const t = ctx.thresholds;
  const n = sample.domain.requests + sample.legacy.requests;
  if (n < t.minSamples) return tooFew('servedShare', n, t.minSamples, 'requests');
  const expected = ctx.percent / 100;
  const low = expected * (1 - t.servedShare.tolerance);
  const high = Math.min(1, expected * (1 + t.servedShare.tolerance));
  const share = sample.domain.requests / n;
  const ci = wilson(sample.domain.requests, n, t.confidence);
  const strict = wilson(sample.domain.requests, n, rollbackZ(t, ctx.rules));
  const figures = {
    servedShare: share,
    servedShareLow: ci.low,
    servedShareHigh: ci.high,
    expectedShare: expected,
  };
  const text = `domain served ${pct(share)} of ${n} requests (CI ${pct(ci.low)}–${pct(ci.high)}), configured ${ctx.percent}% (band ${pct(low)}–${pct(high)})`;
  if (strict.high < low || strict.low > high)
    return {
      check: 'servedShare',
      verdict: 'rollback',
      trigger: 'servedShare',
      figures,
      reason: `${text}, rollback CI ${pct(strict.low)}–${pct(strict.high)}`,
    };
  if (share >= low && share <= high) return { check: 'servedShare', verdict: 'pass', figures, reason: text };
  // The 95% interval may miss the band while the rollback's stricter one still reaches it: say so.
  return {
    check: 'servedShare',
    verdict: 'inconclusive',
    figures,
    reason: `${text}: not yet clear (the rollback decision's interval ${pct(strict.low)}–${pct(strict.high)} still reaches the band)`,
  };
}

/** Judges a metrics sample of one group with the checks the phase asks for. */
export function evaluateTraffic(sample: GroupSample, ctx: TrafficContext): CheckResult[] {
  const out: CheckResult[] = [];
  const want = (c: CheckName) => ctx.checks.includes(c);
  if (want('errorRate')) out.push(evaluateErrorRate(sample.domain, ctx.thresholds, ctx.rules));
  if (want('successRate')) out.push(evaluateSuccessRate(sample.domain, ctx.thresholds, ctx.rules));
  if (want('p95')) out.push(evaluateP95(sample, ctx));
  if (want('servedShare')) out.push(evaluateServedShare(sample, ctx));
  return out;
}

/** Judges the verification run at a step's start or a window's end. */
export function evaluateStage(report: StageReport): CheckResult[] {
  const out: CheckResult[] = [];
  const f = report.functional;
  if (f) {
    // No trigger name for "functional" in the contract: unreachable/5xx answers are the domain
    // failing requests (errorRate); wrong shapes are requests not answered correctly (successRate).
    out.push(
      f.ok
        ? {
            check: 'functional',
            verdict: 'pass',
            reason: `functional: ${f.checked} calls passed`,
            figures: { functionalChecked: f.checked },
          }
        : {
            check: 'functional',
            verdict: 'rollback',
            trigger: f.serverErrors > 0 ? 'errorRate' : 'successRate',
            reason: `functional verification failed: ${f.failures.join('; ')}`,
            figures: { functionalChecked: f.checked, functionalFailures: f.failures.length },
          },
    );
  }
  const w = report.writeProbe;
  if (w) {
    out.push(
      w.ok
        ? {
            check: 'writeProbe',
            verdict: 'pass',
            reason: `write probe passed (${w.steps.length} steps)`,
            figures: {},
          }
        : {
            check: 'writeProbe',
            verdict: 'rollback',
            trigger: 'writeProbe',
            reason: `write probe failed: ${w.failure ?? 'unknown'}`,
            figures: {},
          },
    );
  }
  const c = report.command;
  if (c) {
    const tail = c.output.trim().split('\n').slice(-3).join(' | ');
    if (c.ok)
      out.push({ check: 'command', verdict: 'pass', reason: 'command exited 0', figures: { exitCode: 0 } });
    else if (c.timedOut)
      out.push({
        check: 'command',
        verdict: 'inconclusive',
        reason: `command timed out: ${tail}`,
        figures: { exitCode: null },
      });
    else
      out.push({
        check: 'command',
        verdict: 'rollback',
        trigger: 'command',
        reason: `command exited ${c.exitCode}: ${tail}`,
        figures: { exitCode: c.exitCode },
      });
  }
  if (report.consistency) out.push(evaluateConsistency(report.consistency));
  return out;
}

export function evaluateConsistency(r: NonNullable<StageReport['consistency']>): CheckResult {
  const figures = { consistencyChecked: r.checked, consistencyDifferences: r.differences.length };
  if (r.error)
    return {
      check: 'dataConsistency',
      verdict: 'inconclusive',
      reason: `data consistency: source error: ${r.error}`,
      figures,
    };
  if (r.ok)
    return {
      check: 'dataConsistency',
      verdict: 'pass',
      reason: `database and YAML agree on ${r.checked} records`,
      figures,
    };
  const shown = r.differences.slice(0, 5).join('; ');
  const more = r.differences.length > 5 ? ` (+${r.differences.length - 5} more)` : '';
  return {
    check: 'dataConsistency',
    verdict: 'rollback',
    trigger: 'dataConsistency',
    figures,
    reason: `database and YAML differ: ${shown}${more}`,
  };
}

const SEVERITY: Record<Verdict, number> = { pass: 0, inconclusive: 1, hold: 2, rollback: 3 };

/**
 * Combines check results: any rollback wins; then hold; then inconclusive; pass only when every
 * check passed. An empty list is inconclusive: no evidence is not a pass.
 */
export function combine(results: CheckResult[]): Evaluation {
  const metrics: Record<string, number | null> = {};
  for (const r of results) Object.assign(metrics, r.figures);
  if (results.length === 0)
    return { verdict: 'inconclusive', reasons: ['no checks produced evidence'], results, metrics };
  const worst = results.reduce((a, b) => (SEVERITY[b.verdict] > SEVERITY[a.verdict] ? b : a));
  const reasons = [...new Set(results.filter((r) => r.verdict === worst.verdict).map((r) => r.reason))];
  return { verdict: worst.verdict, trigger: worst.trigger, reasons, results, metrics };
}

/** Adds two samples of one group (a later interval to the window so far). */
export function addSamples(a: GroupSample | undefined, b: GroupSample): GroupSample {
  if (!a) return b;
  const add = (x: ImplStats, y: ImplStats): ImplStats => {
    const sum: ImplStats = {
      requests: x.requests + y.requests,
      errors: x.errors + y.errors,
      successes: x.successes + y.successes,
      buckets: addBuckets(x.buckets, y.buckets),
    };
    // A gauge of keys since the routing changed: the later reading covers the earlier one.
    const keys = y.keys ?? x.keys;
    if (keys !== undefined) sum.keys = keys;
    return sum;
  };
  return { from: a.from, to: b.to, domain: add(a.domain, b.domain), legacy: add(a.legacy, b.legacy) };
}
