import type { EvidenceRow, ObservedNotice } from './observation';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Plan } from '../plan/schema';
import type { CurrentShares } from '../plan/rollout-input';
import type { Verdict, Trigger } from '../judge/verdicts';

export const TASK_QUEUE = 'rollouts';

export const ROLLOUT_STATES = [
  'pending',
  'applying',
  'verifying',
  'observing',
  'awaiting-approval',
  'holding',
  'paused',
  'rolling-back',
  'rolled-back',
  'monitoring',
  'completed',
  'failed',
] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export const TERMINAL_STATES: ReadonlyArray<RolloutState> = ['rolled-back', 'completed', 'failed'];

/** The workflow's one argument (SPEC §3). `resume` is internal: state carried over continue-as-new. */
export interface RolloutInput {
  plan: unknown;
  timeScale?: number;
  /** The target's shares when the rollout was started, and what to do about those above 0%. */
  current?: CurrentShares;
  resume?: unknown;
}

/** The workflow's signature, for clients and for continue-as-new (which must not import the workflow). */
export type RolloutWorkflow = (input: RolloutInput) => Promise<RolloutStatus>;

export interface ApproveSignal {
  by: string;
  comment?: string;
}
export interface PauseSignal {
  by: string;
  reason?: string;
}
export interface ResumeSignal {
  by: string;
}
export interface RollbackSignal {
  by: string;
  reason?: string;
  /** Which group to revert; the current phase's group when omitted. */
  group?: string;
}
export interface CompleteSignal {
  by: string;
}

export const approveSignal = defineSignal<[ApproveSignal]>('approve');
export const pauseSignal = defineSignal<[PauseSignal]>('pause');
export const resumeSignal = defineSignal<[ResumeSignal]>('resume');
export const rollbackSignal = defineSignal<[RollbackSignal]>('rollback');
export const completeSignal = defineSignal<[CompleteSignal]>('complete');
export const statusQuery = defineQuery<RolloutStatus>('status');
/** A few hundred bytes per rollout, for lists that poll many (the rollout page's list). */
export const summaryQuery = defineQuery<RolloutSummary>('summary');

/** What an accepted Update answers: the state the request led to. */
export interface CommandOutcome {
  /** The event the request recorded, e.g. "approve accepted: looks good". */
  message: string;
  state: RolloutState;
  /** What the workflow does next (e.g. `apply` right after an approval at a step boundary). */
  stage: string;
  phase: string | null;
  percent: number;
}
/**
 * The same requests as Updates, with the signals' names and payloads: a refused one is rejected by
 * its validator with the reason (nothing enters the history); an accepted one answers once the
 * rollout has moved on (an approval once the next stage began, a rollback once it is done).
 */
export const approveUpdate = defineUpdate<CommandOutcome, [ApproveSignal]>('approve');
export const pauseUpdate = defineUpdate<CommandOutcome, [PauseSignal]>('pause');
export const resumeUpdate = defineUpdate<CommandOutcome, [ResumeSignal]>('resume');
export const rollbackUpdate = defineUpdate<CommandOutcome, [RollbackSignal]>('rollback');
export const completeUpdate = defineUpdate<CommandOutcome, [CompleteSignal]>('complete');
/** The failure type of a refused Update (`ApplicationFailure.type`). */
export const REFUSED = 'Refused';

export const SIGNAL_NAMES = ['approve', 'pause', 'resume', 'rollback', 'complete'] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

export const rolloutStateKey = defineSearchAttributeKey('RolloutState', SearchAttributeType.KEYWORD);
export const rolloutPhaseKey = defineSearchAttributeKey('RolloutPhase', SearchAttributeType.KEYWORD);
export const rolloutPercentKey = defineSearchAttributeKey('RolloutPercent', SearchAttributeType.INT);
export const rolloutTargetKey = defineSearchAttributeKey('RolloutTarget', SearchAttributeType.KEYWORD);
/** Name → type, for registering them on a namespace. */
export const SEARCH_ATTRIBUTES = {
  RolloutState: 'Keyword',
  RolloutPhase: 'Keyword',
  RolloutPercent: 'Int',
  RolloutTarget: 'Keyword',
} as const;

export type GroupState =
  'pending' | 'applying' | 'observing' | 'holding' | 'monitoring' | 'rolled-back' | 'completed';

export interface CheckRecord {
  at: string;
  group: string;
  verdict: Verdict;
  metrics: Record<string, number | string | null>;
  reasons: string[];
}

export interface HistoryEntry {
  phase: string;
  group: string;
  percent: number;
  startedAt: string;
  endedAt: string | null;
  /** `passed`, `approved` (held, then approved), `rolled-back`, `completed`, or null while running. */
  outcome: string | null;
  reason: string | null;
  /** Who approved or rolled back, when a person did. */
  by: string | null;
  /** The observation window as planned (after timeScale), in ms; null for continuous. */
  windowMs: number | null;
  verdict: Verdict | null;
  metrics: Record<string, number | string | null> | null;
  /**
   * The step's time series, one row per check (`[epoch ms, group, domain requests, domain errors,
   * legacy requests, legacy errors]`), the last 3,000 kept: for `history`, plots and re-judging.
   * Absent in rollouts begun before the observing activity.
   */
  evidence?: EvidenceRow[];
}

export interface RolloutEvent {
  at: string;
  kind: 'signal' | 'state' | 'warning' | 'notify';
  name?: string;
  by?: string;
  accepted?: boolean;
  message: string;
}

/** The `status` query (SPEC §3). */
/** What a list shows of a running rollout (`summary` query): small, whatever the rollout's length. */
export interface RolloutSummary {
  rolloutId: string;
  state: RolloutState;
  phase: string | null;
  percent: number;
  groups: Record<string, { percent: number; state: GroupState }>;
  windowRemainingMs: number | null;
  /** `pass (read)`: the last check's verdict and group. */
  lastVerdict: string | null;
  /** What the rollout waits for, as `awaiting.prompt` says it. */
  awaiting: string | null;
  rollback: { trigger: Trigger; completedAt: string | null; failing: boolean } | null;
}

/** The summary of a status (`summaryQuery`). */
export function summaryOf(s: RolloutStatus): RolloutSummary {
  return {
    rolloutId: s.rolloutId,
    state: s.state,
    phase: s.phase,
    percent: s.percent,
    groups: s.groups,
    windowRemainingMs: s.windowRemainingMs,
    lastVerdict: s.lastCheck ? `${s.lastCheck.verdict} (${s.lastCheck.group})` : null,
    awaiting: s.awaiting?.prompt ?? null,
    rollback: s.rollback
      ? { trigger: s.rollback.trigger, completedAt: s.rollback.completedAt, failing: !!s.rollback.failing }
      : null,
  };
}

/** A rollback the target has not confirmed yet (`status.rollback.failing`). */
export interface RollbackFailure {
  group: string;
  attempts: number;
  since: string;
  /** The latest error, as the activity reported it (bounded). */
  error: string;
  nextAttemptAt: string;
  /** What an operator can do meanwhile. */
  hint: string;
}

export interface RolloutStatus {
  rolloutId: string;
  plan: Plan;
  timeScale: number;
  state: RolloutState;
  phase: string | null;
  group: string | null;
  stepIndex: number;
  percent: number;
  stepStartedAt: string | null;
  windowEndsAt: string | null;
  /** Window time left; frozen while paused. */
  windowRemainingMs: number | null;
  groups: Record<string, { percent: number; state: GroupState }>;
  lastCheck: CheckRecord | null;
  awaiting: { kind: 'approval' | 'hold' | 'complete'; since: string; prompt: string } | null;
  history: HistoryEntry[];
  rollback: {
    trigger: Trigger;
    reason: string;
    at: string;
    completedAt: string | null;
    by: string | null;
    groups: string[];
    /**
     * The rollback is not confirmed yet: what fails and since when. It is retried until the
     * target confirms it (never given up); cleared once it is.
     */
    failing?: RollbackFailure | null;
  } | null;
  events: RolloutEvent[];
  /** Consecutive metrics-source errors so far. */
  metricErrors: number;
  /**
   * The current window was extended for want of samples: how many times, of how many
   * allowed, and what is missing ("38 of 50 domain requests"). Absent or null otherwise.
   */
  extension?: { count: number; max: number; missing: string } | null;
  /**
   * Checks of the current window clearly past their target but not their rollback bar ("above
   * target, below the rollback bar: this step will hold"), announced as soon as they were clear.
   */
  aboveTarget?: ObservedNotice[] | null;
  /** Checks of the current window the metrics cannot feed (no histogram, statuses that are not codes): each holds the step until fixed. */
  blind?: ObservedNotice[] | null;
  /** Legacy P95 (ms) measured before each group's first step: the reference at 100%. */
  baselineP95Ms?: Record<string, number | null>;
}
