/**
 * The rollout workflow: the stage story (phase start, baseline, apply, verify, observe, window end,
 * hold, monitor, rollback) over the rooms beside it in `rollout/`: the shared state and bookkeeping
 * (run-state.ts), the signals (handlers.ts), waiting while groups are checked (waiting.ts), the
 * rollback (rollback.ts), the patches (patches.ts).
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { InputCheck } from '../contracts/activities';
import { checksOf, type CheckName } from '../plan/checks';
import { formatDuration } from '../plan/duration';
import type { Plan } from '../plan/schema';
import { statusQuery, type RolloutInput, type RolloutStatus } from './definitions';
import {
  combine,
  evaluateStage,
  evaluateTraffic,
  p95Ms,
  type CheckResult,
  type Evaluation,
} from './evaluate';
import { described, messageOf, validateRolloutInput } from './rollout/activities';
import { startWindow } from './rollout/observed';
import { INPUT_PATCH } from './rollout/patches';
import { rollBack } from './rollout/rollback';
import { takeOver } from './rollout/take-over';
import type { Carried } from './rollout/state';
import { HISTORY_LIMIT, initialStatus } from './rollout/run-state';
import { ROLLBACK, Waiting } from './rollout/waiting';
import { judgeWindowEnd, p95BucketWarning, sampleShortfall, startJudge } from './window-judge';

/** With the v2 rules a baseline short of `minSamples` is measured again, up to this many times. */
const MAX_BASELINE_EXTENSIONS = 9;
/** Checks run at a step's start and at its window's end (the rest run on metrics every tick). */
const STAGE_CHECKS: CheckName[] = ['functional', 'writeProbe', 'command', 'dataConsistency'];

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutStatus> {
  // `status` answers while the input is being checked (RolloutRun's handler replaces it).
  wf.setHandler(statusQuery, () => statusBeforeCheck(input));
  const checked = await checkInput(input);
  if (!checked.ok) throw ApplicationFailure.nonRetryable(checked.message, checked.type, checked.details);
  const run = new RolloutRun(checked.plan, checked.timeScale, input.resume as Carried | undefined);
  if (!input.resume && checked.current) {
    run.cursor.found = { mode: checked.current.mode, shares: { ...checked.current.shares } };
    const shares = Object.entries(checked.current.shares).map(([g, p]) => `${g} ${p}%`);
    run.event({
      kind: 'state',
      message: `the target's shares at start: ${shares.join(', ')} (${checked.current.mode})`,
    });
  }
  if (!input.resume)
    for (const w of checked.warnings) run.event({ kind: 'warning', message: `${w.path}: ${w.message}` });
  return run.run();
}

/** A continued run's carried status; a new one's, pending, with its plan as given. */
function statusBeforeCheck(input: RolloutInput): RolloutStatus {
  const carried = (input?.resume as Carried | undefined)?.status;
  const plan = input?.plan as Plan;
  return carried ? { ...carried, plan } : initialStatus(plan, input?.timeScale ?? 1);
}

async function checkInput(input: RolloutInput): Promise<InputCheck> {
  if (wf.patched(INPUT_PATCH)) {
    // What a continued run carries is the workflow's own state, not the operator's input.
    const asked =
      typeof input === 'object' && input !== null && !Array.isArray(input)
        ? { ...input, resume: undefined }
        : input;
    return validateRolloutInput(asked);
  }
  const { checkRolloutInput } = require('../plan/rollout-input') as typeof import('../plan/rollout-input');
  const { validatePlanCore } = require('../plan/validate-core') as typeof import('../plan/validate-core');
  return checkRolloutInput(input, (plan) => validatePlanCore(plan));
}
class RolloutRun extends Waiting {
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
          await rollBack(this);
          return this.finished();
        case 'done':
          return this.finished();
      }
    }
  }

  /** The result, once every request in flight has had its answer (an Update waits for the end). */
  private async finished(): Promise<RolloutStatus> {
    await wf.condition(wf.allHandlersFinished);
    return this.status;
  }

  private async phaseStart(): Promise<void> {
    const phase = this.phase;
    if (this.enter()) {
      if (this.cursor.found && !(await takeOver(this, (next, reason) => this.toHold(next, reason)))) return;
      const first = phase.steps[this.cursor.stepIndex];
      this.status.phase = phase.name;
      this.status.group = phase.group;
      this.status.stepIndex = this.cursor.stepIndex;
      this.status.percent = this.status.groups[phase.group].percent;
      if (phase.approval === 'before-start') {
        this.showStage();
        const prev = this.plan.phases[this.cursor.phaseIndex - 1];
        const prompt = prev
          ? `${prev.name} is at ${this.status.groups[prev.group].percent}% and passed; approve to start ${phase.name} at ${first.percent}%`
          : `approve to start ${phase.name} at ${first.percent}%`;
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
    const wantsBaseline = checksOf(phase).includes('p95') && this.status.groups[phase.group].percent === 0;
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
    this.showStage();
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
        described(
          'applyTraffic',
          `set ${phase.group} to ${step.percent}% (${phase.name} step ${this.cursor.stepIndex + 1} of ${phase.steps.length})`,
        )({
          traffic: this.plan.target.traffic,
          group: phase.group,
          percent: step.percent,
          targetId: this.plan.target.id,
        }),
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
    this.showStage();
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
    const checks = checksOf(phase).filter((c) => STAGE_CHECKS.includes(c));
    if (checks.length === 0) return combine([]);
    try {
      const report = await described(
        'verifyStage',
        `verify ${phase.name} at ${this.status.groups[phase.group].percent}%: ${checks.join(', ')}`,
      )({
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
      this.showStage();
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
      this.showStage();
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
        (this.status.baselineP95Ms ??= {})[phase.group] = p95;
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
    this.showStage();
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
      this.showStage();
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
      this.showStage();
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
}

function inconclusive(reason: string): CheckResult {
  return { check: 'functional', verdict: 'inconclusive', reason, figures: {} };
}
