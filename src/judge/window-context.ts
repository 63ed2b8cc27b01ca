/**
 * What a window is judged against (`JudgeContext`), built alike by the workflow (a step's window
 * or a monitored group), `rollout verify` (one window of one check) and the simulations.
 */
import type { CheckName, Thresholds } from '../plan/schema';
import type { ImplStats } from './samples';
import type { JudgeContext } from './window-judge';

export interface WindowSettings {
  thresholds: Thresholds;
  checks: CheckName[];
  /** The configured domain share of the group, 0..100. */
  percent: number;
  /** Legacy traffic of the baseline window before the phase's first step, if measured. */
  baseline: ImplStats | null;
  /** The window's length; `null` for a continuous window. */
  windowMs: number | null;
  checkIntervalMs: number;
  /** The span of checks summed for the "just now" figures (`defaults.lookback`). */
  lookbackMs: number;
  /** `defaults.burstLength`: a rate rollback needs an excess lasting longer (0 or absent: none). */
  burstLengthMs?: number;
  /** A continuous window spends its base threshold over this long (a day, scaled like the plan). */
  continuousMs: number;
}

export function windowContext(w: WindowSettings): JudgeContext {
  const checksIn = (ms: number) => Math.max(1, Math.ceil(ms / w.checkIntervalMs));
  return {
    percent: w.percent,
    thresholds: w.thresholds,
    checks: w.checks,
    baseline: w.baseline,
    // The window's own checks: the looks of an extension (rare: only a window short of samples
    // gets one) are paid for by the half of the budget kept for looks past the planned ones.
    plannedLooks: w.windowMs === null ? null : checksIn(w.windowMs),
    continuousLooks: checksIn(w.continuousMs),
    lookbackChecks: Math.max(1, Math.round(w.lookbackMs / w.checkIntervalMs)),
    ...(w.burstLengthMs ? { burstChecks: checksIn(w.burstLengthMs) } : {}),
  };
}
