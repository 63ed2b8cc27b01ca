/**
 * The verdicts' vocabulary, shared by every rule: what a check says (`CheckResult`), how several
 * combine into one (`combine`), and the few helpers every rule's reasons use.
 */
import type { CheckName } from '../plan/schema';
import type { ImplStats } from './samples';
import { histogramQuantile } from './statistics';

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

/** A rate as reasons show it: two decimals. */
export const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

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

