import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import type { ObservationResult } from '../contracts/observation';
import { formatDuration, parseDuration } from '../plan/duration';
import { DEFAULT_CHECKS, rolloutInputSchema, type CheckName, type Phase, type Plan } from '../plan/schema';
import { describeProblems, formatPath, validatePlan } from '../plan/validate';
import {
  approveSignal,
  completeSignal,
  pauseSignal,
  resumeSignal,
  rollbackSignal,
  rolloutPercentKey,
  rolloutPhaseKey,
  rolloutStateKey,
  rolloutTargetKey,
  statusQuery,
  TERMINAL_STATES,
  type GroupState,
  type HistoryEntry,
  type RolloutEvent,
  type RolloutInput,
  type RolloutState,
  type RolloutStatus,
  type SignalName,
} from './definitions';
import {
  addSamples,
  combine,
  evaluateConsistency,
  evaluateStage,
  evaluateTraffic,
  p95Ms,
  type CheckResult,
  type Evaluation,
  type Rules,
  type TrafficContext,
} from './evaluate';
import type { GroupSample, MetricsReading } from '../contracts/samples';
import {
  applyTraffic,
  checkConsistency,
  notify,
  observeWindow,
  rollbackTraffic,
  sampleMetrics,
  verifyStage,
} from './rollout/activities';
import {
  approveRefusal,
  completeRefusal,
  pauseRefusal,
  resumeRefusal,
  rollbackRefusal,
  senderRefusal,
  type GuardView,
} from './rollout/guards';
import { recordEvidence, resumeObserved, startWindow } from './rollout/observed';
import type { Carried, Cursor, Stage } from './rollout/state';
import {
  checkResults,
  judgeCheck,
  judgeWindowEnd,
  p95BucketWarning,
  sampleShortfall,
  startJudge,
  type JudgeContext,
} from './window-judge';

/**
 * Patch of the evidence rules: rollbacks at `rollbackConfidence`, P95 by confidence intervals
 * (`Rules` in evaluate.ts), a baseline measured until it has `minSamples`; and waits whose timers
 * are never cancelled (`timerAt`). Runs begun before it keep the v1 behaviour when replayed.
 */
const RULES_PATCH = 'rollback-evidence-v2';

/**
 * Patch of the verdicts (rules v3, `window-judge.ts`): sequential rate tests with a stated
 * false-rollback budget, P95 intervals over whole buckets, served share with routing keys, legacy
 * as the reference of the rates, and windows extended when their only shortfall is too few
 * samples. Runs begun before it judge as they did.
 */
const VERDICTS_PATCH = 'verdicts-v3';

/**
 * Patch of the observation (issue 9): one heartbeating `observeWindow` activity checks every
 * `checkInterval` and returns only on a rollback, a window's end, a slice's end or when cancelled
 * (pause, approval, rollback), instead of an activity and a timer per check. Runs begun before it
 * keep checking from the workflow.
 */
const OBSERVE_PATCH = 'observe-activity';
/**
 * Patch of the steps (issue 9): groups already live stay checked while a step is applied and
 * verified (`watched`). Runs begun before it leave them unchecked meanwhile.
 */
const WATCH_PATCH = 'watch-while-stepping';
/** `watched`'s answer when a rollback came first. */
const ROLLBACK = Symbol('rollback');

/** A running observing activity (`startObserving`). */
interface Observing {
  scope: wf.CancellationScope;
  result: Promise<ObservationResult>;
  settled: boolean;
}
/** How long a woken wait lets a running observation settle before cancelling it. */
const CANCEL_GRACE_MS = 1000;
/** An observation returns at least this often, so `status` in the workflow stays fresh. */
const SLICE_MS = 30 * 60_000;

/** With the v2 rules a baseline short of `minSamples` is measured again, up to this many times. */
const MAX_BASELINE_EXTENSIONS = 9;

/**
 * Start a new run once a run's history passes this many events (Temporal suggests it much later):
 * anywhere in runs that check from the workflow, only between steps in runs that observe.
 */
const HISTORY_LIMIT = 2000;
/**
 * An observing run's history grows with decisions and 30-minute slices, so mid-window it goes on
 * until Temporal suggests a new run, or past this many events on a server that never suggests.
 */
const HISTORY_HARD_LIMIT = 10_000;
const MAX_EVENTS = 200;
/** Checks run at a step's start and at its window's end (the rest run on metrics every tick). */
const STAGE_CHECKS: CheckName[] = ['functional', 'writeProbe', 'command', 'dataConsistency'];

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutStatus> {
  const args = rolloutInputSchema.safeParse(input ?? {});
  if (!args.success) {
    const problems = args.error.issues.map((i) => `${formatPath(['input', ...i.path])}: ${i.message}`);
    throw ApplicationFailure.nonRetryable(`invalid rollout input:\n${problems.join('\n')}`, 'InvalidInput', {
      problems,
    });
  }
  const validation = validatePlan(input.plan);
  if (!validation.ok) {
    throw ApplicationFailure.nonRetryable(
      `invalid plan (${validation.problems.length} problem${validation.problems.length === 1 ? '' : 's'}):\n${describeProblems(validation.problems)}`,
      'InvalidPlan',
      { problems: validation.problems },
    );
  }
  const run = new RolloutRun(validation.plan, args.data.timeScale, input.resume as Carried | undefined);
  if (!input.resume)
    for (const w of validation.warnings) run.event({ kind: 'warning', message: `${w.path}: ${w.message}` });
  return run.run();
}

class RolloutRun {
  readonly status: RolloutStatus;
  readonly cursor: Cursor;
  private readonly checkIntervalMs: number;
  private readonly lookbackTicks: number;
  private readonly rules: Rules;
  /** Rules v3 (`VERDICTS_PATCH`). */
  private readonly v3: boolean;
  /** One observing activity per wait (`OBSERVE_PATCH`). */
  private readonly observing: boolean;
  private timer: { at: number; fired: boolean } | null = null;

  constructor(
    private readonly plan: Plan,
    private readonly timeScale: number,
    carried?: Carried,
  ) {
    this.checkIntervalMs = this.scaled(plan.defaults.checkInterval);
    this.lookbackTicks = Math.max(1, Math.round(this.scaled(plan.defaults.lookback) / this.checkIntervalMs));
    if (carried) {
      this.status = { ...carried.status, plan };
      this.cursor = carried.cursor;
    } else {
      const groups: RolloutStatus['groups'] = {};
      for (const p of plan.phases) groups[p.group] = { percent: 0, state: 'pending' };
      this.status = {
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
      this.cursor = {
        phaseIndex: 0,
        stepIndex: 0,
        stage: 'phase-start',
        entered: false,
        baseState: 'pending',
        paused: false,
        windowRemainingMs: null,
        nextCheckAt: null,
        lastSampleAt: null,
        holdNext: 'next',
        holdReason: null,
        window: {},
        recent: {},
        baseline: {},
        monitored: [],
        pendingRollback: null,
        approval: null,
        completion: null,
        lastUpsert: null,
      };
    }
    this.rules = wf.patched(RULES_PATCH) ? 'current' : 'v1';
    this.v3 = this.rules === 'current' && wf.patched(VERDICTS_PATCH);
    this.observing = this.v3 && wf.patched(OBSERVE_PATCH);
    this.registerHandlers();
  }

  private scaled(duration: string): number {
    return Math.max(1, Math.round((parseDuration(duration) ?? 0) / this.timeScale));
  }

  private get phase(): Phase {
    return this.plan.phases[this.cursor.phaseIndex];
  }

  private checksOf(phase: Phase): CheckName[] {
    return [...new Set([...DEFAULT_CHECKS, ...(phase.checks ?? [])])];
  }

  private now(): string {
    return new Date(Date.now()).toISOString();
  }

  // ---------------------------------------------------------------- state and bookkeeping

  event(e: Omit<RolloutEvent, 'at'>): void {
    this.status.events.push({ at: this.now(), ...e });
    if (this.status.events.length > MAX_EVENTS)
      this.status.events.splice(0, this.status.events.length - MAX_EVENTS);
  }

  private setState(state: RolloutState): void {
    this.cursor.baseState = state;
    this.refreshState();
  }

  /** `paused` shows over the underlying state, except where pausing means nothing. */
  private refreshState(): void {
    const base = this.cursor.baseState;
    const shown: RolloutState =
      this.cursor.paused && !TERMINAL_STATES.includes(base) && base !== 'rolling-back' ? 'paused' : base;
    if (shown !== this.status.state)
      this.event({ kind: 'state', message: `${this.status.state} → ${shown}` });
    this.status.state = shown;
    this.upsertSearchAttributes();
  }

  private setGroup(group: string, patch: Partial<{ percent: number; state: GroupState }>): void {
    this.status.groups[group] = { ...this.status.groups[group], ...patch };
  }

  private upsertSearchAttributes(): void {
    const key = `${this.status.state}|${this.status.phase ?? ''}|${this.status.percent}`;
    if (key === this.cursor.lastUpsert) return;
    this.cursor.lastUpsert = key;
    wf.upsertSearchAttributes(this.searchAttributes());
  }

  private searchAttributes(): SearchAttributePair[] {
    return [
      { key: rolloutStateKey, value: this.status.state },
      { key: rolloutPhaseKey, value: this.status.phase ?? 'none' },
      { key: rolloutPercentKey, value: this.status.percent },
      { key: rolloutTargetKey, value: this.plan.target.id },
    ];
  }

  private currentHistory(): HistoryEntry | undefined {
    const h = this.status.history[this.status.history.length - 1];
    return h && h.group === this.phase.group && h.endedAt === null ? h : undefined;
  }

  private closeHistory(entry: HistoryEntry, patch: Partial<HistoryEntry>): void {
    Object.assign(entry, { endedAt: this.now() }, patch);
  }

  // ---------------------------------------------------------------- signals

  private registerHandlers(): void {
    wf.setHandler(statusQuery, () => this.status);
    wf.setHandler(approveSignal, (s) =>
      this.signal('approve', s, approveRefusal, () => {
        this.cursor.approval = { by: s.by, comment: s.comment ?? null };
      }),
    );
    wf.setHandler(pauseSignal, (s) =>
      this.signal('pause', s, pauseRefusal, () => {
        this.cursor.paused = true;
        this.refreshState();
      }),
    );
    wf.setHandler(resumeSignal, (s) =>
      this.signal('resume', s, resumeRefusal, () => {
        this.cursor.paused = false;
        this.refreshState();
      }),
    );
    wf.setHandler(rollbackSignal, (s) =>
      this.signal(
        'rollback',
        s,
        (v) => rollbackRefusal(v, s.group),
        () => {
          this.cursor.pendingRollback = {
            trigger: 'manual',
            reason: s.reason ?? 'manual rollback',
            group: s.group ?? this.phase.group,
            by: s.by,
          };
        },
      ),
    );
    wf.setHandler(completeSignal, (s) =>
      this.signal('complete', s, completeRefusal, () => {
        this.cursor.completion = { by: s.by };
      }),
    );
  }

  private guardView(): GuardView {
    return {
      baseState: this.cursor.baseState,
      state: this.status.state,
      paused: this.cursor.paused,
      stage: this.cursor.stage,
      rollbackPending: this.cursor.pendingRollback !== null,
      groups: Object.keys(this.status.groups),
      currentGroup: this.phase.group,
    };
  }

  /** Validates the sender and the state, applies the signal or records why it changed nothing. */
  private signal(
    name: SignalName,
    payload: unknown,
    refusal: (view: GuardView) => string | null,
    apply: () => void,
  ): void {
    const by =
      payload && typeof payload === 'object' && typeof (payload as { by?: unknown }).by === 'string'
        ? (payload as { by: string }).by.trim()
        : '';
    const refused = senderRefusal(by, this.plan.approvers) ?? refusal(this.guardView());
    if (refused === null) apply();
    const detail = (payload as { reason?: string; comment?: string } | undefined) ?? {};
    const note = detail.reason ?? detail.comment;
    this.event({
      kind: 'signal',
      name,
      by: by || undefined,
      accepted: refused === null,
      message:
        refused === null ? `${name} accepted${note ? `: ${note}` : ''}` : `${name} refused: ${refused}`,
    });
  }

  // ---------------------------------------------------------------- the main loop

  async run(): Promise<RolloutStatus> {
    this.cursor.lastUpsert = null;
    this.upsertSearchAttributes();
    for (;;) {
      if (this.cursor.pendingRollback && this.cursor.stage !== 'rollback') this.goto('rollback');
      // A step boundary: the one place an observing run starts a new run for its size alone.
      if (this.observing && this.cursor.stage === 'apply' && !this.cursor.entered)
        await this.maybeContinueAsNew(HISTORY_LIMIT);
      switch (this.cursor.stage) {
        case 'phase-start':
          await this.phaseStart();
          break;
        case 'baseline':
          await this.observeWindow('baseline');
          break;
        case 'apply':
          await this.apply();
          break;
        case 'verify':
          await this.verify();
          break;
        case 'observe':
          await this.observeWindow('observe');
          break;
        case 'window-end':
          await this.windowEnd();
          break;
        case 'hold':
          await this.hold();
          break;
        case 'monitor':
          await this.monitor();
          break;
        case 'rollback':
          await this.rollback();
          return this.status;
        case 'done':
          return this.status;
      }
    }
  }

  private goto(stage: Stage): void {
    this.cursor.stage = stage;
    this.cursor.entered = false;
  }

  private enter(): boolean {
    if (this.cursor.entered) return false;
    this.cursor.entered = true;
    return true;
  }

  private async phaseStart(): Promise<void> {
    const phase = this.phase;
    if (this.enter()) {
      this.status.phase = phase.name;
      this.status.group = phase.group;
      this.status.stepIndex = 0;
      this.status.percent = this.status.groups[phase.group].percent;
      if (phase.approval === 'before-start') {
        this.setState('awaiting-approval');
        const prev = this.plan.phases[this.cursor.phaseIndex - 1];
        const prompt = prev
          ? `${prev.name} is at ${this.status.groups[prev.group].percent}% and passed; approve to start ${phase.name} at ${phase.steps[0].percent}%`
          : `approve to start ${phase.name} at ${phase.steps[0].percent}%`;
        this.status.awaiting = { kind: 'approval', since: this.now(), prompt };
        await this.notify('awaiting-approval', prompt);
      }
    }
    if (phase.approval === 'before-start') {
      const r = await this.waitWithChecks(() => this.cursor.approval !== null);
      if (r !== 'done') return;
      this.event({
        kind: 'state',
        by: this.cursor.approval!.by,
        message: `${phase.name} approved by ${this.cursor.approval!.by}`,
      });
      this.cursor.approval = null;
      this.status.awaiting = null;
    }
    const wantsBaseline =
      this.checksOf(phase).includes('p95') && this.status.groups[phase.group].percent === 0;
    this.goto(wantsBaseline ? 'baseline' : 'apply');
  }

  private async apply(): Promise<void> {
    // Advancing is what pause stops; checks of running groups go on meanwhile.
    if (this.cursor.paused && (await this.waitWithChecks(() => !this.cursor.paused)) !== 'done') return;
    const phase = this.phase;
    const step = phase.steps[this.cursor.stepIndex];
    this.enter();
    this.setGroup(phase.group, { state: 'applying' });
    this.status.stepIndex = this.cursor.stepIndex;
    this.status.percent = step.percent;
    this.status.stepStartedAt = this.now();
    this.status.windowEndsAt = null;
    this.status.windowRemainingMs = null;
    this.setState('applying');
    if (!this.currentHistory()) {
      this.status.history.push({
        phase: phase.name,
        group: phase.group,
        percent: step.percent,
        startedAt: this.now(),
        endedAt: null,
        outcome: null,
        reason: null,
        by: null,
        windowMs: step.observe === 'continuous' ? null : this.scaled(step.observe),
        verdict: null,
        metrics: null,
      });
    }
    try {
      const state = await this.watched(() =>
        applyTraffic({ traffic: this.plan.target.traffic, group: phase.group, percent: step.percent }),
      );
      if (state === ROLLBACK) return;
      this.setGroup(phase.group, { percent: state.groups[phase.group]?.percent ?? step.percent });
      (this.cursor.appliedAt ??= {})[phase.group] = Date.now();
      this.goto('verify');
    } catch (err) {
      this.toHold(
        'apply',
        `could not set ${phase.group} to ${step.percent}%: ${messageOf(err)}; approve to retry, rollback to revert`,
      );
    }
  }

  private async verify(): Promise<void> {
    this.enter();
    this.setState('verifying');
    const evaluation = await this.watched(() => this.stageVerification());
    if (evaluation === ROLLBACK) return;
    if (evaluation.verdict === 'rollback') {
      this.requestRollback(evaluation, this.phase.group);
      return;
    }
    const step = this.phase.steps[this.cursor.stepIndex];
    if (step.observe === 'continuous') return this.finishPhase();
    this.goto('observe');
  }

  /**
   * The phase is at its last step (a continuous one, or a timed one that passed): its group is
   * monitored from here on, judged against this percent only, while the next phase runs.
   */
  private finishPhase(): void {
    delete this.cursor.window[this.phase.group];
    this.cursor.recent[this.phase.group] = [];
    if (this.v3) (this.cursor.judge ??= {})[this.phase.group] = startJudge(this.plan.defaults.thresholds);
    this.setGroup(this.phase.group, { state: 'monitoring' });
    if (!this.cursor.monitored.includes(this.phase.group)) this.cursor.monitored.push(this.phase.group);
    if (this.cursor.phaseIndex + 1 < this.plan.phases.length) {
      this.cursor.phaseIndex += 1;
      this.cursor.stepIndex = 0;
      this.goto('phase-start');
    } else this.goto('monitor');
  }

  /** Runs the start/end verification activities; an activity that cannot run is inconclusive. */
  private async stageVerification(): Promise<Evaluation> {
    const phase = this.phase;
    const checks = this.checksOf(phase).filter((c) => STAGE_CHECKS.includes(c));
    if (checks.length === 0) return combine([]);
    try {
      const report = await verifyStage({
        rolloutId: this.status.rolloutId,
        target: this.plan.target,
        phase: { name: phase.name, group: phase.group, endpoints: phase.endpoints, command: phase.command },
        percent: this.status.groups[phase.group].percent,
        checks,
      });
      const evaluation = combine(evaluateStage(report));
      this.recordCheck(phase.group, evaluation, report.at);
      return evaluation;
    } catch (err) {
      // Cancelled for a rollback (see `watched`): nothing was verified, nothing to record.
      if (wf.isCancellation(err)) throw err;
      const evaluation = combine([inconclusive(`verification could not run: ${messageOf(err)}`)]);
      this.recordCheck(phase.group, evaluation, this.now());
      return evaluation;
    }
  }

  private async observeWindow(kind: 'baseline' | 'observe'): Promise<void> {
    const phase = this.phase;
    const entering = this.enter();
    if (entering && this.cursor.extending) {
      // An extension: the same window goes on with what it has gathered so far.
      this.cursor.extending = false;
      this.setGroup(phase.group, { state: 'observing' });
      this.setState('observing');
    } else if (entering) {
      const step = phase.steps[this.cursor.stepIndex];
      const windowMs =
        kind === 'baseline' ? this.scaled(this.plan.defaults.baselineWindow) : this.scaled(step.observe);
      this.cursor.windowRemainingMs = windowMs;
      delete this.cursor.window[phase.group];
      this.cursor.recent[phase.group] = [];
      if (this.v3) {
        (this.cursor.judge ??= {})[phase.group] = startJudge(this.plan.defaults.thresholds);
        this.cursor.extensions = 0;
        this.status.extension = null;
      }
      // The window's time is counted from now, not from the last check before it began.
      if (this.cursor.observed)
        this.cursor.observed = startWindow(this.cursor.observed, Date.now(), this.checkIntervalMs);
      this.setGroup(phase.group, { state: kind === 'baseline' ? 'pending' : 'observing' });
      this.setState(kind === 'baseline' ? 'verifying' : 'observing');
      if (kind === 'baseline')
        this.event({
          kind: 'state',
          message: `${phase.name}: measuring legacy latency for ${formatDuration(windowMs)} before the first step`,
        });
    }
    const r = await this.waitWithChecks(() => false, true);
    if (r === 'window-end') {
      this.status.windowEndsAt = null;
      this.status.windowRemainingMs = 0;
      if (kind === 'baseline') {
        const sample = this.observing
          ? (this.cursor.judge?.[phase.group]?.window ?? undefined)
          : this.cursor.window[phase.group];
        const requests = sample?.legacy.requests ?? 0;
        const windowMs = this.scaled(this.plan.defaults.baselineWindow);
        const extensions = this.cursor.baselineExtensions ?? 0;
        const min = this.plan.defaults.thresholds.minSamples;
        // Without a baseline the P95 at 100% has nothing to compare with: measure longer first.
        if (this.rules === 'current' && requests < min && extensions < MAX_BASELINE_EXTENSIONS) {
          this.cursor.baselineExtensions = extensions + 1;
          this.cursor.windowRemainingMs = windowMs;
          this.event({
            kind: 'state',
            message: `${phase.name}: only ${requests} legacy requests for the baseline (need ${min}); measuring ${formatDuration(windowMs)} more`,
          });
          return;
        }
        this.cursor.baselineExtensions = 0;
        const p95 = sample ? p95Ms(sample.legacy) : null;
        this.cursor.baseline[phase.group] = p95;
        const coarse =
          this.v3 && sample ? p95BucketWarning(sample.legacy, this.plan.defaults.thresholds) : null;
        if (this.v3) (this.cursor.baselineStats ??= {})[phase.group] = sample?.legacy ?? null;
        if (coarse) this.event({ kind: 'warning', message: `${phase.name}: baseline ${coarse}` });
        this.event(
          p95 === null || requests < min
            ? {
                kind: 'warning',
                message: `${phase.name}: baseline legacy P95 ${p95 === null ? 'unknown' : `${p95.toFixed(1)}ms`} over only ${requests} requests: at 100% the P95 check has ${p95 === null ? 'nothing' : 'little'} to compare with`,
              }
            : {
                kind: 'state',
                message: `${phase.name}: baseline legacy P95 ${p95.toFixed(1)}ms over ${requests} requests`,
              },
        );
        this.goto('apply');
      } else this.goto('window-end');
    } else if (r === 'metrics-hold') {
      this.toHold(
        kind === 'baseline' ? 'apply' : 'next',
        `metrics source failed ${this.status.metricErrors} times in a row: ${this.status.lastCheck?.reasons.join('; ')}`,
      );
    }
  }

  private async windowEnd(): Promise<void> {
    const phase = this.phase;
    this.enter();
    this.setState('verifying');
    const stage = await this.stageVerification();
    const sample = this.cursor.window[phase.group];
    const judged = this.v3 ? this.cursor.judge?.[phase.group] : undefined;
    const traffic = judged
      ? judgeWindowEnd(judged, this.judgeContext(phase.group), true)
      : sample
        ? evaluateTraffic(sample, this.trafficContext(phase))
        : [
            {
              check: 'errorRate',
              verdict: 'inconclusive',
              reason: 'no traffic was measured in the window',
              figures: {},
            } as CheckResult,
          ];
    const evaluation = combine([...stage.results, ...traffic]);
    this.recordCheck(phase.group, evaluation, this.now());
    if (this.v3 && this.extendWindow(evaluation)) return;
    const entry = this.currentHistory();
    if (entry) {
      entry.verdict = evaluation.verdict;
      entry.metrics = evaluation.metrics;
    }
    if (evaluation.verdict === 'rollback') return this.requestRollback(evaluation, phase.group);
    if (evaluation.verdict === 'pass') {
      if (entry) this.closeHistory(entry, { outcome: 'passed', reason: evaluation.reasons.join('; ') });
      this.nextStep();
      return;
    }
    this.toHold(
      'next',
      `${evaluation.verdict} at the end of the ${phase.steps[this.cursor.stepIndex].observe} window: ${evaluation.reasons.join('; ')}`,
    );
  }

  /**
   * Rules v3: a window whose only shortfall is too few samples gets another window (up to
   * `maxExtensions`) instead of a hold: nothing is wrong, there is just not enough evidence yet.
   */
  private extendWindow(evaluation: Evaluation): boolean {
    if (evaluation.verdict === 'pass' || evaluation.verdict === 'rollback') return false;
    const missing = sampleShortfall(evaluation.results);
    const used = this.cursor.extensions ?? 0;
    const max = this.plan.defaults.maxExtensions;
    if (!missing || used >= max) return false;
    const phase = this.phase;
    const step = phase.steps[this.cursor.stepIndex];
    const windowMs = this.scaled(step.observe);
    this.cursor.extensions = used + 1;
    this.cursor.windowRemainingMs = windowMs;
    this.cursor.extending = true;
    this.status.extension = { count: used + 1, max, missing };
    this.event({
      kind: 'state',
      message: `${phase.name} at ${step.percent}%: only ${missing}; window extended by ${formatDuration(windowMs)} (extension ${used + 1} of ${max})`,
    });
    this.goto('observe');
    return true;
  }

  private nextStep(): void {
    if (this.cursor.stepIndex + 1 >= this.phase.steps.length) return this.finishPhase();
    this.cursor.stepIndex += 1;
    this.goto('apply');
  }

  private toHold(next: 'apply' | 'next', reason: string): void {
    this.cursor.holdNext = next;
    this.cursor.holdReason = reason;
    this.goto('hold');
  }

  private async hold(): Promise<void> {
    const phase = this.phase;
    if (this.enter()) {
      this.setGroup(phase.group, { state: 'holding' });
      this.setState('holding');
      const prompt = `${phase.name} at ${this.status.percent}%: ${this.cursor.holdReason}. approve to go on, rollback to revert`;
      this.status.awaiting = { kind: 'hold', since: this.now(), prompt };
      await this.notify('holding', prompt);
    }
    if ((await this.waitWithChecks(() => this.cursor.approval !== null)) !== 'done') return;
    const approval = this.cursor.approval!;
    this.cursor.approval = null;
    this.status.awaiting = null;
    if (this.cursor.holdNext === 'apply') {
      this.goto('apply');
      return;
    }
    const entry = this.currentHistory();
    if (entry)
      this.closeHistory(entry, { outcome: 'approved', reason: this.cursor.holdReason, by: approval.by });
    this.nextStep();
  }

  private async monitor(): Promise<void> {
    if (this.enter()) {
      this.setState('monitoring');
      this.status.awaiting = {
        kind: 'complete',
        since: this.now(),
        prompt: `every phase is at its last step; monitoring ${this.cursor.monitored.join(', ')} until "complete"`,
      };
    }
    if ((await this.waitWithChecks(() => this.cursor.completion !== null && !this.cursor.paused)) !== 'done')
      return;
    const by = this.cursor.completion!.by;
    this.status.awaiting = null;
    for (const entry of this.status.history)
      if (entry.endedAt === null) this.closeHistory(entry, { outcome: 'completed', by });
    for (const g of this.cursor.monitored) this.setGroup(g, { state: 'completed' });
    this.cursor.monitored = [];
    this.setState('completed');
    await this.notify('completed', `${this.plan.name} completed (by ${by})`);
    this.goto('done');
  }

  // ---------------------------------------------------------------- rollback

  private requestRollback(evaluation: Evaluation, group: string): void {
    this.cursor.pendingRollback = {
      trigger: evaluation.trigger ?? 'manual',
      reason: evaluation.reasons.join('; '),
      group,
      by: null,
    };
    this.goto('rollback');
  }

  /** The failing group and every later phase already started (they were started on its strength). */
  private groupsToRevert(group: string): string[] {
    const from = this.plan.phases.findIndex((p) => p.group === group);
    const started = this.plan.phases
      .slice(from)
      .map((p) => p.group)
      .filter(
        (g) => g === group || this.status.groups[g].state !== 'pending' || this.status.groups[g].percent > 0,
      );
    return started.reverse();
  }

  private async rollback(): Promise<void> {
    const req = this.cursor.pendingRollback!;
    const groups = this.groupsToRevert(req.group);
    if (this.enter()) {
      this.status.rollback = {
        trigger: req.trigger,
        reason: req.reason,
        at: this.now(),
        completedAt: null,
        by: req.by,
        groups,
      };
      this.status.awaiting = null;
      this.setState('rolling-back');
    }
    await wf.CancellationScope.nonCancellable(async () => {
      for (const group of groups) {
        const result = await rollbackTraffic({
          traffic: this.plan.target.traffic,
          group,
          mode: this.plan.defaults.rollbackWith,
        });
        this.setGroup(group, {
          percent: result.state.useDomainService ? (result.state.groups[group]?.percent ?? 0) : 0,
          state: 'rolled-back',
        });
      }
    });
    for (const entry of this.status.history) {
      if (entry.endedAt !== null) continue;
      if (groups.includes(entry.group))
        this.closeHistory(entry, {
          outcome: 'rolled-back',
          reason: `${req.trigger}: ${req.reason}`,
          by: req.by,
        });
      else
        this.closeHistory(entry, {
          outcome: 'completed',
          reason: `monitoring ended: ${groups.join(', ')} rolled back (${req.trigger})`,
        });
    }
    for (const g of this.cursor.monitored) if (!groups.includes(g)) this.setGroup(g, { state: 'completed' });
    this.cursor.monitored = [];
    this.status.percent = this.status.groups[this.phase.group].percent;
    this.status.windowEndsAt = null;
    this.status.windowRemainingMs = null;
    this.status.rollback!.completedAt = this.now();
    this.setState('rolled-back');
    await this.notify(
      'rolled-back',
      `${this.plan.name}: rolled back ${groups.join(', ')} (${req.trigger}): ${req.reason}`,
    );
    this.goto('done');
  }

  // ---------------------------------------------------------------- waiting and checking

  /**
   * Waits until `done()` holds (or the window runs out), checking the running groups every
   * `checkInterval` meanwhile. Window time does not pass while paused.
   */
  private async waitWithChecks(
    done: () => boolean,
    window = false,
  ): Promise<'done' | 'rollback' | 'window-end' | 'metrics-hold'> {
    if (this.observing) return this.waitObserving(done, window);
    for (;;) {
      const ended = this.waitEnded(done, window);
      if (ended) return ended;
      await this.maybeContinueAsNew();

      const active = this.activeGroups();
      const now = Date.now();
      if (active.length > 0 && this.cursor.nextCheckAt === null)
        this.cursor.nextCheckAt = now + this.checkIntervalMs;
      const untilCheck = active.length > 0 ? Math.max(0, this.cursor.nextCheckAt! - now) : Infinity;
      const paused = this.cursor.paused;
      const untilWindowEnd = window && !paused ? this.cursor.windowRemainingMs! : Infinity;
      if (window) this.showWindow(paused);
      const timeout = Math.min(untilCheck, untilWindowEnd);
      const wake = () => this.cursor.pendingRollback !== null || done() || this.cursor.paused !== paused;
      if (timeout === Infinity) await wf.condition(wake);
      else if (timeout > 0 && this.rules === 'v1') await wf.condition(wake, timeout);
      else if (timeout > 0) {
        const timer = this.timerAt(now + timeout);
        await wf.condition(() => wake() || timer.fired);
      }
      let outcome: 'ok' | 'metrics-hold' = 'ok';
      if (this.cursor.nextCheckAt !== null && Date.now() >= this.cursor.nextCheckAt) {
        this.cursor.nextCheckAt = Date.now() + this.checkIntervalMs;
        outcome = await this.tick(active);
      }
      // Time spent checking is window time too.
      const elapsed = Date.now() - now;
      if (window && !paused)
        this.cursor.windowRemainingMs = Math.max(0, this.cursor.windowRemainingMs! - elapsed);
      if (outcome === 'metrics-hold' && window) return 'metrics-hold';
      if (active.length === 0) this.cursor.nextCheckAt = null;
    }
  }

  /** Why a wait is over before it waits again: a rollback asked for, its goal reached, its window used. */
  private waitEnded(done: () => boolean, window: boolean): 'rollback' | 'done' | 'window-end' | null {
    if (this.cursor.pendingRollback) {
      this.goto('rollback');
      return 'rollback';
    }
    if (done()) return 'done';
    if (window && (this.cursor.windowRemainingMs ?? 0) <= 0) return 'window-end';
    return null;
  }

  /** The window's time left in `status`; no end time while paused (it does not run). */
  private showWindow(paused: boolean): void {
    this.status.windowRemainingMs = this.cursor.windowRemainingMs;
    this.status.windowEndsAt = paused ? null : new Date(Date.now() + this.cursor.windowRemainingMs!).toISOString();
  }

  /**
   * `waitWithChecks` with one observing activity (`OBSERVE_PATCH`): it runs while there are groups
   * to watch and returns on a rollback, the window's end or a slice's end; a signal that changes
   * what the wait is for (pause, resume, approval, rollback, completion) cancels it, and its state
   * comes back with the cancellation.
   */
  private async waitObserving(
    done: () => boolean,
    window: boolean,
  ): Promise<'done' | 'rollback' | 'window-end' | 'metrics-hold'> {
    const interval = this.checkIntervalMs;
    this.cursor.observed = resumeObserved(this.cursor.observed, Date.now(), interval);
    for (;;) {
      const ended = this.waitEnded(done, window);
      if (ended) return ended;
      await this.maybeContinueAsNew(HISTORY_HARD_LIMIT);
      const paused = this.cursor.paused;
      const counting = window && !paused;
      if (window) this.showWindow(paused);
      const wake = () => this.cursor.pendingRollback !== null || done() || this.cursor.paused !== paused;
      const active = this.activeGroups();
      if (active.length === 0) {
        await wf.condition(wake);
        continue;
      }
      const running = this.startObserving(active, window, counting);
      await wf.condition(() => running.settled || wake());
      if (!running.settled && this.cursor.pendingRollback) {
        // A rollback needs nothing the observation holds: it goes on at once and the observation
        // ends with the run (its next heartbeat finds no workflow to report to).
        this.goto('rollback');
        return 'rollback';
      }
      const result = await this.settle(running);
      if (!result) continue;
      const outcome = this.applyObservation(result, counting);
      if (outcome === 'rollback') return 'rollback';
      if (outcome === 'metrics-hold' && window) return 'metrics-hold';
      await this.catchUp(result, wake);
    }
  }

  /**
   * An observation on a clock of its own (a test's) may be ahead of the workflow: waits until the
   * workflow's clock reaches its last check, or `wake`.
   */
  private async catchUp(result: ObservationResult | null, wake: () => boolean): Promise<void> {
    const ahead = (result?.state.lastCheckAtMs ?? 0) - Date.now();
    if (ahead <= 50) return;
    const timer = this.timerAt(Date.now() + ahead);
    await wf.condition(() => wake() || timer.fired);
  }

  /** Starts one observing activity of `active`, in a scope of its own so that it can be cancelled. */
  private startObserving(active: string[], window: boolean, counting: boolean): Observing {
    const observed = this.cursor.observed!;
    const interval = this.checkIntervalMs;
    const scope = new wf.CancellationScope();
    const result = scope.run(() =>
      observeWindow({
        rolloutId: this.status.rolloutId,
        metrics: this.plan.target.metrics,
        ...(this.plan.target.consistency ? { consistency: this.plan.target.consistency } : {}),
        groups: active.map((group) => ({
          group,
          endpoints: this.phaseOf(group).endpoints,
          context: this.judgeContext(group),
          appliedAtMs: this.cursor.appliedAt?.[group] ?? 0,
          consistency:
            this.checksOf(this.phaseOf(group)).includes('dataConsistency') && !!this.plan.target.consistency,
        })),
        primary: active.includes(this.phase.group) ? this.phase.group : active[0],
        checkIntervalMs: interval,
        sliceMs: Math.min(SLICE_MS, Math.max(this.scaled('30m'), 3 * interval)),
        // Outside a window a failing metrics source is only reported: nothing would hold.
        maxMetricErrors: window ? this.plan.defaults.maxMetricErrors : Number.MAX_SAFE_INTEGER,
        state: {
          ...observed,
          windowRemainingMs: counting ? this.cursor.windowRemainingMs : null,
          judges: this.cursor.judge ?? {},
          metricErrors: this.status.metricErrors,
          lastCheck: null,
          evidence: [],
        },
      }),
    );
    const running: Observing = { scope, result, settled: false };
    result.then(
      () => (running.settled = true),
      () => (running.settled = true),
    );
    return running;
  }

  /**
   * The observation's result: at once when it has settled, else after cancelling it (a second for
   * it to settle by itself first: cancelling an activity whose completion is in flight leaves a run
   * stuck on the time-skipping test server ("ACTIVITY_UNKNOWN"), as a cancelled timer does (see
   * `timerAt`); a real observation does not settle in a second). `null` when it was cancelled
   * before it started or failed for good: what it saw since it began is lost.
   */
  private async settle(running: Observing): Promise<ObservationResult | null> {
    if (!running.settled) {
      const grace = this.timerAt(Date.now() + CANCEL_GRACE_MS);
      await wf.condition(() => running.settled || grace.fired);
      if (!running.settled) running.scope.cancel();
    }
    try {
      return await running.result;
    } catch (err) {
      if (!wf.isCancellation(err)) this.event({ kind: 'warning', message: `observation failed: ${messageOf(err)}` });
      return null;
    }
  }

  /**
   * Runs a step's activity (applying, verifying) while the groups already live elsewhere (finished
   * phases, monitored) go on being checked (`WATCH_PATCH`): a rollback they call for, or one asked
   * for meanwhile, does not wait for the step, whose activity is cancelled (an apply is waited for
   * until it has stopped: a late one must not undo the rollback).
   */
  private async watched<T>(work: () => Promise<T>): Promise<T | typeof ROLLBACK> {
    const live = this.cursor.monitored.filter((g) => g !== this.phase.group);
    if (!this.observing || live.length === 0 || !wf.patched(WATCH_PATCH)) return work();
    const scope = new wf.CancellationScope();
    const job = scope.run(work);
    let done = false;
    job.then(
      () => (done = true),
      () => (done = true),
    );
    this.cursor.observed = resumeObserved(this.cursor.observed, Date.now(), this.checkIntervalMs);
    const wanted = () => this.cursor.pendingRollback !== null;
    while (!done && !wanted()) {
      const running = this.startObserving(live, false, false);
      await wf.condition(() => done || running.settled || wanted());
      const result = await this.settle(running);
      if (result) this.applyObservation(result, false);
      if (!done && !wanted()) await this.catchUp(result, () => done || wanted());
    }
    if (done) return job;
    scope.cancel();
    await job.catch(() => undefined);
    return ROLLBACK;
  }

  /** Takes over what an observation saw: its state, figures, warnings and verdict. */
  private applyObservation(result: ObservationResult, counting: boolean): 'ok' | 'rollback' | 'metrics-hold' {
    const { judges, evidence, lastCheck, metricErrors, ...rest } = result.state;
    recordEvidence(this.status.history, evidence);
    this.cursor.judge = judges;
    this.cursor.observed = rest;
    if (counting) this.cursor.windowRemainingMs = rest.windowRemainingMs ?? 0;
    this.status.metricErrors = metricErrors;
    for (const message of result.warnings) this.event({ kind: 'warning', message });
    if (lastCheck) this.recordCheck(lastCheck.group, combine(lastCheck.results), lastCheck.at);
    const end = result.end;
    if (end.kind === 'rollback') {
      // A rollback asked for meanwhile (an operator's) keeps its reason and author.
      if (!this.cursor.pendingRollback) this.requestRollback(combine(end.results), end.group);
      return 'rollback';
    }
    return end.kind === 'metrics-hold' ? 'metrics-hold' : 'ok';
  }

  /**
   * A timer that fires at `at`, shared by every wait for that instant and never cancelled.
   * `condition(fn, timeout)` cancels its timer when `fn` wins; when a signal lands just as the timer
   * fires, the time-skipping test server refuses that CancelTimer and leaves the run stuck for good
   * (temporalio/sdk-java#2606, #3088). A timer left to fire costs one idle workflow task.
   */
  private timerAt(at: number): { fired: boolean } {
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
  private activeGroups(): string[] {
    const groups = [...this.cursor.monitored];
    const stage = this.cursor.stage;
    const current = this.phase.group;
    if ((stage === 'baseline' || stage === 'observe' || stage === 'hold') && !groups.includes(current))
      groups.push(current);
    return groups;
  }

  private phaseOf(group: string): Phase {
    return this.plan.phases.find((p) => p.group === group)!;
  }

  private trafficContext(phase: Phase): TrafficContext {
    return {
      rules: this.rules,
      percent: this.status.groups[phase.group].percent,
      thresholds: this.plan.defaults.thresholds,
      checks: this.checksOf(phase),
      baselineP95Ms: this.cursor.baseline[phase.group] ?? null,
    };
  }

  /** What rules v3 judge a group's window against (see `JudgeContext`). */
  private judgeContext(group: string): JudgeContext {
    const phase = this.phaseOf(group);
    const monitored = this.cursor.monitored.includes(group);
    const step = phase.steps[monitored ? phase.steps.length - 1 : this.cursor.stepIndex];
    const checksIn = (ms: number) => Math.max(1, Math.ceil(ms / this.checkIntervalMs));
    return {
      percent: this.status.groups[group].percent,
      thresholds: this.plan.defaults.thresholds,
      checks: this.checksOf(phase),
      baseline: this.cursor.baselineStats?.[group] ?? null,
      plannedLooks:
        step.observe === 'continuous'
          ? null
          : checksIn(this.scaled(step.observe)) * (1 + this.plan.defaults.maxExtensions),
      continuousLooks: checksIn(86_400_000 / this.timeScale),
      lookbackChecks: this.lookbackTicks,
    };
  }

  /** One round of checks; asks for a rollback when the evidence is clear. */
  private async tick(groups: string[]): Promise<'ok' | 'metrics-hold'> {
    const to = this.now();
    const from = this.cursor.lastSampleAt ?? new Date(Date.now() - this.checkIntervalMs).toISOString();
    this.cursor.lastSampleAt = to;
    const reading = await sampleMetrics({
      metrics: this.plan.target.metrics,
      key: this.status.rolloutId,
      groups: groups.map((g) => ({ group: g, endpoints: this.phaseOf(g).endpoints })),
      from,
      to,
    }).catch((err): MetricsReading => ({ samples: {}, error: messageOf(err) }));

    const results: Array<{ group: string; results: CheckResult[] }> = [];
    for (const group of groups) {
      const sample = reading.samples[group];
      // A sample that began before the last change of percent mixes two shares: judge neither.
      if (!sample || sample.warmup || Date.parse(from) < (this.cursor.appliedAt?.[group] ?? 0)) continue;
      this.cursor.window[group] = addSamples(this.cursor.window[group], sample);
      const phase = this.phaseOf(group);
      const ctx = this.trafficContext(phase);
      if (this.v3) {
        if (ctx.percent === 0) continue;
        const judges = (this.cursor.judge ??= {});
        const jctx = this.judgeContext(group);
        const judged = judgeCheck(judges[group] ?? startJudge(this.plan.defaults.thresholds), sample, jctx);
        judges[group] = judged.state;
        results.push({ group, results: checkResults(judged, jctx) });
      } else {
        const recent = [...(this.cursor.recent[group] ?? []), sample].slice(-this.lookbackTicks);
        this.cursor.recent[group] = recent;
        if (ctx.percent === 0) continue;
        const recentSum = recent.reduce<GroupSample | undefined>((acc, s) => addSamples(acc, s), undefined)!;
        const judged = evaluateTraffic(recentSum, ctx);
        // A slow drift shows only over the whole window; a sudden break only in the recent samples.
        const whole = evaluateTraffic(this.cursor.window[group], ctx).filter((r) => r.verdict === 'rollback');
        results.push({ group, results: [...judged, ...whole] });
      }
      if (this.checksOf(phase).includes('dataConsistency') && this.plan.target.consistency) {
        const report = await checkConsistency({ consistency: this.plan.target.consistency }).catch((err) => ({
          ok: false,
          checked: 0,
          differences: [],
          error: messageOf(err),
        }));
        results[results.length - 1].results.push(evaluateConsistency(report));
      }
    }

    if (reading.error) {
      this.status.metricErrors += 1;
      this.event({
        kind: 'warning',
        message: `metrics source error ${this.status.metricErrors}: ${reading.error}`,
      });
    } else this.status.metricErrors = 0;

    const primary = results.find((r) => r.group === this.phase.group) ?? results[0];
    const failing = results.find((r) => combine(r.results).verdict === 'rollback');
    const shown = failing ?? primary;
    if (shown) this.recordCheck(shown.group, combine(shown.results), to);
    else if (reading.error)
      this.recordCheck(
        this.phase.group,
        {
          verdict: 'inconclusive',
          reasons: [`metrics source error: ${reading.error}`],
          results: [],
          metrics: {},
        },
        to,
      );
    if (failing) {
      this.requestRollback(combine(failing.results), failing.group);
      return 'ok';
    }
    return this.status.metricErrors >= this.plan.defaults.maxMetricErrors ? 'metrics-hold' : 'ok';
  }

  private recordCheck(group: string, evaluation: Evaluation, at: string): void {
    this.status.lastCheck = {
      at,
      group,
      verdict: evaluation.verdict,
      metrics: evaluation.metrics,
      reasons: evaluation.reasons,
    };
  }

  private async maybeContinueAsNew(limit = HISTORY_LIMIT): Promise<void> {
    const info = wf.workflowInfo();
    if (info.historyLength < limit && !info.continueAsNewSuggested) return;
    await wf.condition(wf.allHandlersFinished);
    const carried: Carried = {
      status: { ...this.status, plan: undefined as unknown as Plan },
      cursor: this.cursor,
    };
    const args = { plan: this.status.plan, timeScale: this.timeScale, resume: carried };
    if (!this.observing) return wf.continueAsNew<typeof rolloutWorkflow>(args);
    // The run that closes claims no state any more (`RolloutState = 'observing'` finds only the
    // live run); the next one starts with the rollout's search attributes already set.
    const live = this.searchAttributes();
    wf.upsertSearchAttributes([{ key: rolloutStateKey, value: null }]);
    await wf.makeContinueAsNewFunc<typeof rolloutWorkflow>({ typedSearchAttributes: live })(args);
  }

  private async notify(
    kind: 'awaiting-approval' | 'holding' | 'rolled-back' | 'completed',
    text: string,
  ): Promise<void> {
    const url = this.plan.notify?.webhookUrl;
    if (!url) return;
    const s = this.status;
    try {
      await notify({
        webhookUrl: url,
        // Stable across retries and replays: one notification per rollout, kind and moment.
        idempotencyKey: `${s.rolloutId}:${kind}:${s.phase}:${s.stepIndex}:${s.history.length}:${s.events.length}`,
        event: {
          kind,
          rolloutId: s.rolloutId,
          text: `[${this.plan.name}] ${text}`,
          state: s.state,
          phase: s.phase,
          percent: s.percent,
        },
      });
      this.event({ kind: 'notify', message: `notified ${kind}` });
    } catch (err) {
      this.event({ kind: 'warning', message: `notification ${kind} failed: ${messageOf(err)}` });
    }
  }
}

function inconclusive(reason: string): CheckResult {
  return { check: 'functional', verdict: 'inconclusive', reason, figures: {} };
}

function messageOf(err: unknown): string {
  if (err instanceof wf.ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
