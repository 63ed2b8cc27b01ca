/**
 * The rollout's state between workflow tasks and across runs: where the story is (`Cursor`) and
 * what continue-as-new carries (`Carried`). Plain data, no behaviour.
 */
import type { ObservationState } from '../../contracts/observation';
import type { RolloutState, RolloutStatus } from '../../contracts/definitions';
import type { CurrentShares } from '../../plan/rollout-input';
import type { Trigger } from '../../judge/verdicts';
import type { ImplStats } from '../../judge/samples';
import type { JudgeState } from '../../judge/window-judge';

/** Where the rollout's story is; `run()` dispatches on it. */
export type Stage =
  | 'phase-start'
  | 'baseline'
  | 'apply'
  | 'verify'
  | 'observe'
  | 'window-end'
  | 'hold'
  | 'monitor'
  | 'rollback'
  | 'done';

/**
 * The state (SPEC §3 `state`) each stage shows while it runs, set as it begins: the one table from
 * stage to state. `phase-start` shows `awaiting-approval` only when the phase asks for one, and
 * `done` shows how the rollout ended (`completed` or `rolled-back`); `paused` lies over any of them.
 */
export const STAGE_STATE = {
  'phase-start': 'awaiting-approval',
  baseline: 'verifying',
  apply: 'applying',
  verify: 'verifying',
  observe: 'observing',
  'window-end': 'verifying',
  hold: 'holding',
  monitor: 'monitoring',
  rollback: 'rolling-back',
  done: null,
} as const satisfies Record<Stage, RolloutState | null>;

/** A rollback asked for (by a check or a person) and not yet carried out. */
export interface PendingRollback {
  trigger: Trigger;
  reason: string;
  group: string;
  by: string | null;
}

/** Where the rollout is; with `status`, everything continue-as-new carries over. */
export interface Cursor {
  phaseIndex: number;
  stepIndex: number;
  stage: Stage;
  /** The stage's entry work (state change, notification) is done; not repeated after continue-as-new. */
  entered: boolean;
  baseState: RolloutState;
  paused: boolean;
  windowRemainingMs: number | null;
  /** What an approval of the current hold does: retry applying the step, or go on. */
  holdNext: 'apply' | 'next';
  holdReason: string | null;
  /** The judgement of the current window, per group. */
  judge?: Record<string, JudgeState>;
  /** Legacy traffic of each group's baseline window (the reference rates and P95 at 100%). */
  baselineStats?: Record<string, ImplStats | null>;
  /** Extra windows the current step has had for want of samples. */
  extensions?: number;
  /** The next `observe` continues the current window (an extension) instead of starting one. */
  extending?: boolean;
  /** How many times the current baseline was extended for want of legacy requests. */
  baselineExtensions?: number;
  /** Groups whose last step is continuous and that are still being checked. */
  monitored: string[];
  pendingRollback: PendingRollback | null;
  /** When each group's percent last changed. */
  appliedAt?: Record<string, number>;
  approval: { by: string; comment: string | null } | null;
  completion: { by: string } | null;
  lastUpsert: string | null;
  /** The target's shares at start not yet taken over (`CurrentShares`; see `takeOver`). */
  found?: CurrentShares;
  /** The observation's running state between activities (its judges live in `judge`). */
  observed?: Observed;
}

/** What a run hands to the next one at continue-as-new. */
export interface Carried {
  status: RolloutStatus;
  cursor: Cursor;
}

/** The observation's running state between activities, without what the workflow keeps elsewhere. */
export type Observed = Omit<ObservationState, 'judges' | 'evidence' | 'lastCheck' | 'metricErrors'>;
