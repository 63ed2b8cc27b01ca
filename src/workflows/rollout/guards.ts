/**
 * Whether an operator's request makes sense in the rollout's state: one pure function per request,
 * returning why it is refused or `null`. Signals and Updates share them (handlers.ts): a refused
 * signal is recorded in `status.events`, a refused Update is rejected by its validator in the
 * same words.
 */
import { TERMINAL_STATES, type RolloutState } from '../../contracts/definitions';
import type { Stage } from './state';

/** What the guards look at. */
export interface GuardView {
  /** The state under the paused overlay. */
  baseState: RolloutState;
  /** The state operators see (`paused` while paused). */
  state: RolloutState;
  paused: boolean;
  stage: Stage;
  rollbackPending: boolean;
  /** The plan's groups, in order. */
  groups: string[];
  /** The group a rollback without a group reverts (the current phase's, or the last one started). */
  currentGroup: string;
  /** Groups that have started (past 0% or past pending): the ones a rollback can revert. */
  started: string[];
}

/** The sender: `by` is required and, when the plan lists approvers, must be one of them. */
export function senderRefusal(by: string, approvers: string[] | undefined): string | null {
  if (!by) return '"by" is required (who sends the signal)';
  if (approvers && !approvers.includes(by))
    return `${by} is not an approver (approvers: ${approvers.join(', ')})`;
  return null;
}

function over(v: GuardView): boolean {
  return TERMINAL_STATES.includes(v.baseState) || v.baseState === 'rolling-back';
}

export function approveRefusal(v: GuardView): string | null {
  if (v.rollbackPending) return 'a rollback is under way';
  if (v.paused) return 'the rollout is paused; resume first';
  if (v.baseState !== 'awaiting-approval' && v.baseState !== 'holding')
    return `nothing awaits approval (state ${v.state})`;
  return null;
}

export function pauseRefusal(v: GuardView): string | null {
  if (over(v)) return `the rollout is ${v.state}`;
  if (v.paused) return 'already paused';
  return null;
}

export function resumeRefusal(v: GuardView): string | null {
  return v.paused ? null : `not paused (state ${v.state})`;
}

export function rollbackRefusal(v: GuardView, group: string | undefined): string | null {
  if (over(v)) return `the rollout is ${v.state}`;
  if (v.rollbackPending) return 'a rollback is already under way';
  const target = group ?? v.currentGroup;
  if (!v.groups.includes(target)) return `unknown group "${target}" (groups: ${v.groups.join(', ')})`;
  // Reverting a group that never started would end the rollout with the live groups unwatched.
  if (!v.started.includes(target) && !(target === v.currentGroup && v.started.length === 0))
    return `${target} has not started: nothing to roll back (started: ${v.started.join(', ') || 'none'})`;
  return null;
}

export function completeRefusal(v: GuardView): string | null {
  if (v.rollbackPending) return 'a rollback is under way';
  if (v.stage !== 'monitor' || v.paused)
    return `complete ends continuous monitoring once every phase is at its last step (state ${v.state})`;
  return null;
}
