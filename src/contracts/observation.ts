/**
 * What the workflow and the observing activity exchange (issue 9): the workflow hands over the
 * groups to watch and the running state of their windows; the activity checks every
 * `checkInterval`, heartbeats that state and returns it when the evidence says rollback, when the
 * window ends, at the end of a slice, or when asked to stop. JSON throughout.
 */
import type { ConsistencyConfig, MetricsConfig } from '../plan/schema';
import type { CheckResult } from '../judge/verdicts';
import type { SavedReading } from '../judge/samples';
import type { JudgeContext, JudgeState } from '../judge/window-judge';

/** One group to watch. */
export interface ObservedGroup {
  group: string;
  endpoints: string[];
  /** What its window is judged against; at 0% the traffic is only summed (a baseline). */
  context: JudgeContext;
  /** Epoch ms of the last change of its percent: a sample that began before it mixes two shares. */
  appliedAtMs: number;
  /** Run the data-consistency check at every check of this group. */
  consistency: boolean;
}

/** The running state of an observation: the activity's heartbeat details and part of its result. */
export interface ObservationState {
  judges: Record<string, JudgeState>;
  /** ISO time the last sample ended: the next one starts there, so no traffic goes unjudged. */
  lastSampleAt: string | null;
  /**
   * Each group's last metrics reading, for sources that read totals (a `/metrics` scrape): kept
   * here rather than in worker memory, so traffic served while no worker ran is judged by the next
   * (absent in states recorded before it existed).
   */
  references?: Record<string, SavedReading>;
  /** Epoch ms of the last check (of the start, before the first), to measure the time watched. */
  lastCheckAtMs: number | null;
  /** Epoch ms of the next check. */
  nextCheckAt: number | null;
  /** Window time still to watch; `null` when nothing ends by time (holds, approvals, monitoring). */
  windowRemainingMs: number | null;
  /** Time that passed without a check that read metrics (worker down, metrics failing): not window time. */
  blindMs: number;
  /** Blind time since the last check that read metrics (told in a warning once one does). */
  blindRunMs: number;
  /** Metrics-source errors in a row. */
  metricErrors: number;
  checks: number;
  lastCheck: ObservedCheck | null;
  /** Per check and group, compact: the window's time series for `history` and later re-judging. */
  evidence: EvidenceRow[];
}

/**
 * `[epoch ms, group, domain requests, domain errors, legacy requests, legacy errors, domain P95 ms,
 * legacy P95 ms]`; the P95s are `null` when a side had no requests, and absent in rows recorded
 * before they were kept (so the rollout page plots latency only where it was measured).
 */
export type EvidenceRow = [number, string, number, number, number, number, (number | null)?, (number | null)?];

/** The latest check: what `status.lastCheck` shows. */
export interface ObservedCheck {
  at: string;
  group: string;
  results: CheckResult[];
}

/** What the workflow hands to the activity. */
export interface ObservationInput {
  rolloutId: string;
  metrics: MetricsConfig;
  consistency?: ConsistencyConfig;
  groups: ObservedGroup[];
  /** The group whose window `windowRemainingMs` counts down. */
  primary: string;
  checkIntervalMs: number;
  /** Return after this long at the latest, so the workflow's `status` stays fresh. */
  sliceMs: number;
  maxMetricErrors: number;
  state: ObservationState;
}

/** "Above target, below the rollback bar: this step will hold" (`TargetNotice`), with its group and time. */
export interface ObservedNotice {
  at: string;
  group: string;
  check: string;
  /**
   * `blind`: a check the metrics cannot feed; `slower`: the domain's latency tail clearly heavier
   * than legacy's; absent or `above-target`: a rate past its target.
   */
  kind?: 'above-target' | 'blind' | 'slower';
  reason: string;
}

/** Why an observation returned. */
export type ObservationEnd =
  | { kind: 'rollback'; group: string; results: CheckResult[] }
  | { kind: 'window-end' }
  | { kind: 'slice' }
  | { kind: 'metrics-hold'; error: string }
  /** A canary clearly above its target (not its bar) for the first time this window: said at once. */
  | { kind: 'notice'; notices: ObservedNotice[] }
  | { kind: 'stopped' };

export interface ObservationResult {
  end: ObservationEnd;
  state: ObservationState;
  /** Warnings for the event log (metrics-source errors, blind time), oldest first. */
  warnings: string[];
}

/** A fresh state: nothing judged yet, the first check one interval from now. */
export function startObservation(windowRemainingMs: number | null): ObservationState {
  return {
    judges: {},
    lastSampleAt: null,
    references: {},
    lastCheckAtMs: null,
    nextCheckAt: null,
    windowRemainingMs,
    blindMs: 0,
    blindRunMs: 0,
    metricErrors: 0,
    checks: 0,
    lastCheck: null,
    evidence: [],
  };
}
