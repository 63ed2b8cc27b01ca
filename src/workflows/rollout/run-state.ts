/**
 * What every room of a rollout shares: the plan, `status` (what the query shows), `cursor` (where
 * the story is) and the bookkeeping on them: events, states, search attributes, step records,
 * the context the judge needs, the history budget and notifications. The stages, the waits and
 * the handlers are functions over one `RunState` (composition; nothing extends it).
 */
import * as wf from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { checksOf } from '../../plan/checks';
import { scaledMs } from '../../plan/duration';
import type { Phase, Plan } from '../../plan/schema';
import {
  rolloutPercentKey,
  rolloutPhaseKey,
  rolloutStateKey,
  rolloutTargetKey,
  TERMINAL_STATES,
  type GroupState,
  type HistoryEntry,
  type RolloutEvent,
  type RolloutInput,
  type RolloutState,
  type RolloutStatus,
  type RolloutWorkflow,
} from '../../contracts/definitions';
import type { NotifyKind } from '../../contracts/activities';
import type { Evaluation } from '../../judge/verdicts';
import { windowContext } from '../../judge/window-context';
import type { JudgeContext } from '../../judge/window-judge';
import { messageOf, notify } from './activities';
import type { GuardView } from './guards';
import { clip, compactHistory } from './budget';
import { currentDetails } from './details';
import { STAGE_STATE, type Carried, type Cursor, type Stage } from './state';

/** Start a new run at a step boundary once a run's history passes this many events. */
export const HISTORY_LIMIT = 2000;
/**
 * A new run waits for every request in flight to be answered, and a request may wait for the
 * story (an approval to be taken): until this many events the run goes on and tries again at the
 * next point; past it, the requests in flight are answered ("send it again") so the run can end
 * well before Temporal's limit of 51,200 events.
 */
const FORCE_NEW_RUN = 40_000;
const MAX_EVENTS = 200;

/** A new rollout's status: nothing applied yet. Tolerates a plan not yet checked (no phases). */
export function initialStatus(plan: Plan, timeScale: number): RolloutStatus {
  const groups: RolloutStatus['groups'] = {};
  for (const p of Array.isArray(plan?.phases) ? plan.phases : [])
    groups[p.group] = { percent: 0, state: 'pending' };
  return {
    rolloutId: wf.workflowInfo().workflowId,
    plan,
    timeScale,
    state: 'pending',
    phase: null,
    group: null,
    stepIndex: 0,
    percent: 0,
    stepStartedAt: null,
    windowEndsAt: null,
    windowRemainingMs: null,
    groups,
    lastCheck: null,
    awaiting: null,
    history: [],
    rollback: null,
    events: [],
    metricErrors: 0,
  };
}

export class RunState {
  readonly status: RolloutStatus;
  readonly cursor: Cursor;
  readonly checkIntervalMs: number;
  /** Requests in flight are being answered so that a new run can start (`maybeContinueAsNew`). */
  releasing = false;
  /** Notifications in flight (`notify`). */
  private notifying = 0;
  timer: { at: number; fired: boolean } | null = null;

  constructor(
    readonly plan: Plan,
    readonly timeScale: number,
    carried?: Carried,
  ) {
    this.checkIntervalMs = this.scaled(plan.defaults.checkInterval);
    if (carried) {
      this.status = { ...carried.status, plan };
      this.cursor = carried.cursor;
    } else {
      this.status = initialStatus(plan, timeScale);
      this.cursor = {
        phaseIndex: 0,
        stepIndex: 0,
        stage: 'phase-start',
        entered: false,
        baseState: 'pending',
        paused: false,
        windowRemainingMs: null,
        holdNext: 'next',
        holdReason: null,
        monitored: [],
        pendingRollback: null,
        approval: null,
        completion: null,
        lastUpsert: null,
      };
    }
  }

  scaled(duration: string): number {
    return scaledMs(duration, this.timeScale);
  }

  get phase(): Phase {
    return this.plan.phases[this.cursor.phaseIndex];
  }

  now(): string {
    return new Date(Date.now()).toISOString();
  }

  event(e: Omit<RolloutEvent, 'at'>): void {
    this.status.events.push({ at: this.now(), ...e, message: clip(e.message) });
    if (this.status.events.length > MAX_EVENTS)
      this.status.events.splice(0, this.status.events.length - MAX_EVENTS);
    this.showDetails();
  }

  /** What Temporal's UI shows as the rollout's current details. */
  showDetails(): void {
    wf.setCurrentDetails(currentDetails(this.status, Date.now()));
  }

  /** Shows the state of the stage the rollout is in (`STAGE_STATE`). */
  showStage(): void {
    const state = STAGE_STATE[this.cursor.stage];
    if (state) this.setState(state);
  }

  setState(state: RolloutState): void {
    this.cursor.baseState = state;
    this.refreshState();
  }

  /** `paused` shows over the underlying state, except where pausing means nothing. */
  refreshState(): void {
    const base = this.cursor.baseState;
    const shown: RolloutState =
      this.cursor.paused && !TERMINAL_STATES.includes(base) && base !== 'rolling-back' ? 'paused' : base;
    const was = this.status.state;
    this.status.state = shown;
    // After the change, so the details the event refreshes show the new state.
    if (shown !== was) this.event({ kind: 'state', message: `${was} → ${shown}` });
    this.upsertSearchAttributes();
  }

  setGroup(group: string, patch: Partial<{ percent: number; state: GroupState }>): void {
    this.status.groups[group] = { ...this.status.groups[group], ...patch };
  }

  upsertSearchAttributes(): void {
    const key = `${this.status.state}|${this.status.phase ?? ''}|${this.status.percent}`;
    if (key === this.cursor.lastUpsert) return;
    this.cursor.lastUpsert = key;
    wf.upsertSearchAttributes(this.searchAttributes());
  }

  searchAttributes(): SearchAttributePair[] {
    return [
      { key: rolloutStateKey, value: this.status.state },
      { key: rolloutPhaseKey, value: this.status.phase ?? 'none' },
      { key: rolloutPercentKey, value: this.status.percent },
      { key: rolloutTargetKey, value: this.plan.target.id },
    ];
  }

  currentHistory(): HistoryEntry | undefined {
    const h = this.status.history[this.status.history.length - 1];
    return h && h.group === this.phase.group && h.endedAt === null ? h : undefined;
  }

  closeHistory(entry: HistoryEntry, patch: Partial<HistoryEntry>): void {
    Object.assign(entry, { endedAt: this.now() }, patch, patch.reason ? { reason: clip(patch.reason) } : {});
    compactHistory(this.status.history);
  }

  guardView(): GuardView {
    return {
      baseState: this.cursor.baseState,
      state: this.status.state,
      paused: this.cursor.paused,
      stage: this.cursor.stage,
      rollbackPending: this.cursor.pendingRollback !== null,
      groups: Object.keys(this.status.groups),
      currentGroup: this.rollbackGroup(),
      started: this.startedGroups(),
    };
  }

  /**
   * Groups that have started, in plan order: past pending or above 0%, and the current phase's
   * once past its start (its approval given, its baseline being measured).
   */
  startedGroups(): string[] {
    const current = this.phase.group;
    return this.plan.phases
      .map((p) => p.group)
      .filter(
        (g) =>
          this.status.groups[g].state !== 'pending' ||
          this.status.groups[g].percent > 0 ||
          (g === current && this.cursor.stage !== 'phase-start'),
      );
  }

  /**
   * The group a rollback without a group reverts: the current phase's once it has started; before
   * that (a phase awaiting its approval) the last one started, which is what is live.
   */
  rollbackGroup(): string {
    const started = this.startedGroups();
    const current = this.phase.group;
    return started.length === 0 || started.includes(current) ? current : started[started.length - 1];
  }

  goto(stage: Stage): void {
    this.cursor.stage = stage;
    this.cursor.entered = false;
  }

  enter(): boolean {
    if (this.cursor.entered) return false;
    this.cursor.entered = true;
    return true;
  }

  requestRollback(evaluation: Evaluation, group: string): void {
    this.cursor.pendingRollback = {
      trigger: evaluation.trigger ?? 'manual',
      reason: evaluation.reasons.join('; '),
      group,
      by: null,
    };
    this.goto('rollback');
  }

  recordCheck(group: string, evaluation: Evaluation, at: string): void {
    this.status.lastCheck = {
      at,
      group,
      verdict: evaluation.verdict,
      metrics: evaluation.metrics,
      reasons: evaluation.reasons.map((r) => clip(r)),
    };
    this.showDetails();
  }

  /**
   * A timer that fires at `at`, shared by every wait for that instant and never cancelled.
   * `condition(fn, timeout)` cancels its timer when `fn` wins; when a signal lands just as the timer
   * fires, the time-skipping test server refuses that CancelTimer and leaves the run stuck for good
   * (temporalio/sdk-java#2606, #3088). A timer left to fire costs one idle workflow task.
   */
  timerAt(at: number): { fired: boolean } {
    if (this.timer && this.timer.at === at && !this.timer.fired) return this.timer;
    const timer = { at, fired: false };
    this.timer = timer;
    wf.sleep(at - Date.now()).then(
      () => (timer.fired = true),
      // Cancelled with the whole workflow: nothing waits for it any more.
      () => undefined,
    );
    return timer;
  }

  /** Groups with live domain traffic to watch, plus the group whose baseline is being measured. */
  activeGroups(): string[] {
    const groups = [...this.cursor.monitored];
    const stage = this.cursor.stage;
    const current = this.phase.group;
    if ((stage === 'baseline' || stage === 'observe' || stage === 'hold') && !groups.includes(current))
      groups.push(current);
    return groups;
  }

  phaseOf(group: string): Phase {
    return this.plan.phases.find((p) => p.group === group)!;
  }

  /** What the judge weighs a group's window against: the current step, or the last one once monitored. */
  judgeContext(group: string): JudgeContext {
    const phase = this.phaseOf(group);
    const monitored = this.cursor.monitored.includes(group);
    const step = phase.steps[monitored ? phase.steps.length - 1 : this.cursor.stepIndex];
    const d = this.plan.defaults;
    return windowContext({
      thresholds: d.thresholds,
      checks: checksOf(phase),
      percent: this.status.groups[group].percent,
      baseline: this.cursor.baselineStats?.[group] ?? null,
      windowMs: step.observe === 'continuous' ? null : this.scaled(step.observe),
      checkIntervalMs: this.checkIntervalMs,
      lookbackMs: this.scaled(d.lookback),
      ...(d.burstLength ? { burstLengthMs: this.scaled(d.burstLength) } : {}),
      continuousMs: 86_400_000 / this.timeScale,
    });
  }

  async maybeContinueAsNew(limit = HISTORY_LIMIT): Promise<void> {
    const info = wf.workflowInfo();
    if (info.historyLength < limit && !info.continueAsNewSuggested) return;
    // Waiting here for an Update that waits for the story would wait forever: go on instead.
    if (!wf.allHandlersFinished()) {
      if (info.historyLength < FORCE_NEW_RUN) return;
      this.releasing = true;
    }
    await wf.condition(() => wf.allHandlersFinished() && this.notificationsDone());
    const carried: Carried = {
      status: { ...this.status, plan: undefined as unknown as Plan },
      cursor: this.cursor,
    };
    const args: RolloutInput = { plan: this.status.plan, timeScale: this.timeScale, resume: carried };
    // The run that closes claims no state any more (`RolloutState = 'observing'` finds only the
    // live run); the next one starts with the rollout's search attributes already set.
    const live = this.searchAttributes();
    wf.upsertSearchAttributes([{ key: rolloutStateKey, value: null }]);
    await wf.makeContinueAsNewFunc<RolloutWorkflow>({ typedSearchAttributes: live })(args);
  }

  /**
   * Sends a notification without waiting for it: a dead webhook (retried for minutes) never holds
   * up the story or a rollback. The run ends, or continues as new, only once every notification
   * has been sent or given up (`notificationsDone`).
   */
  notify(kind: NotifyKind, text: string): void {
    const url = this.plan.notify?.webhookUrl;
    if (!url) return;
    const s = this.status;
    // Stable across retries and replays: one notification per rollout, kind and moment.
    const idempotencyKey = `${s.rolloutId}:${kind}:${s.phase}:${s.stepIndex}:${s.history.length}:${s.events.length}`;
    const event = {
      kind,
      rolloutId: s.rolloutId,
      text: `[${this.plan.name}] ${text}`,
      state: s.state,
      phase: s.phase,
      percent: s.percent,
    };
    this.notifying += 1;
    notify({ webhookUrl: url, idempotencyKey, event }).then(
      () => this.event({ kind: 'notify', message: `notified ${kind}` }),
      (err) => this.event({ kind: 'warning', message: `notification ${kind} failed: ${messageOf(err)}` }),
    ).finally(() => (this.notifying -= 1));
  }

  /** Every notification sent (or given up after its retries). */
  notificationsDone(): boolean {
    return this.notifying === 0;
  }

}
