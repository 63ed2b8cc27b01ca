/**
 * Waiting while the running groups are checked: one observing activity at a time (`OBSERVE_PATCH`)
 * or, in runs begun before it, an activity and a timer per check (`tick`). A wait ends when what it
 * waits for happens, its window is used, or a rollback is asked for.
 */
import * as wf from '@temporalio/workflow';
import type { ObservationResult } from '../../contracts/observation';
import type { GroupSample, MetricsReading } from '../../contracts/samples';
import { checksOf } from '../../plan/checks';
import { addSamples, combine, evaluateConsistency, evaluateTraffic, type CheckResult } from '../evaluate';
import { checkResults, judgeCheck, startJudge } from '../window-judge';
import { checkConsistency, described, messageOf, sampleMetrics } from './activities';
import { recordEvidence, resumeObserved } from './observed';
import { WATCH_PATCH } from './patches';
import { RunState } from './run-state';

/** `watched`'s answer when a rollback came first. */
export const ROLLBACK = Symbol('rollback');

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
/**
 * An observing run's history grows with decisions and 30-minute slices, so mid-window it goes on
 * until Temporal suggests a new run, or past this many events on a server that never suggests.
 */
const HISTORY_HARD_LIMIT = 10_000;

export class Waiting extends RunState {
  /**
   * Waits until `done()` holds (or the window runs out), checking the running groups every
   * `checkInterval` meanwhile. Window time does not pass while paused.
   */
  async waitWithChecks(
    done: () => boolean,
    window = false,
  ): Promise<'done' | 'rollback' | 'window-end' | 'metrics-hold'> {
    // Temporal's UI shows what the rollout waits in: the state, prompt and window set just before.
    this.showDetails();
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
  waitEnded(done: () => boolean, window: boolean): 'rollback' | 'done' | 'window-end' | null {
    if (this.cursor.pendingRollback) {
      this.goto('rollback');
      return 'rollback';
    }
    if (done()) return 'done';
    if (window && (this.cursor.windowRemainingMs ?? 0) <= 0) return 'window-end';
    return null;
  }

  /** The window's time left in `status`; no end time while paused (it does not run). */
  showWindow(paused: boolean): void {
    this.status.windowRemainingMs = this.cursor.windowRemainingMs;
    this.status.windowEndsAt = paused
      ? null
      : new Date(Date.now() + this.cursor.windowRemainingMs!).toISOString();
  }

  /**
   * `waitWithChecks` with one observing activity (`OBSERVE_PATCH`): it runs while there are groups
   * to watch and returns on a rollback, the window's end or a slice's end; a signal that changes
   * what the wait is for (pause, resume, approval, rollback, completion) cancels it, and its state
   * comes back with the cancellation.
   */
  async waitObserving(
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
  async catchUp(result: ObservationResult | null, wake: () => boolean): Promise<void> {
    const ahead = (result?.state.lastCheckAtMs ?? 0) - Date.now();
    if (ahead <= 50) return;
    const timer = this.timerAt(Date.now() + ahead);
    await wf.condition(() => wake() || timer.fired);
  }

  /** "observe phase2-read at 10% for 30m; watch phase2-read": what Temporal's UI shows on it. */
  observeSummary(active: string[], window: boolean): string {
    const current = this.phase;
    const step = current.steps[this.cursor.stepIndex];
    const parts = active.map((g) => {
      const ph = this.phaseOf(g);
      const percent = this.status.groups[g].percent;
      if (g === current.group && window)
        return this.cursor.stage === 'baseline'
          ? `measure the ${ph.name} baseline for ${this.plan.defaults.baselineWindow}`
          : `observe ${ph.name} at ${percent}% for ${step.observe}`;
      return `watch ${ph.name} at ${percent}%`;
    });
    return parts.join('; ');
  }

  /** Starts one observing activity of `active`, in a scope of its own so that it can be cancelled. */
  startObserving(active: string[], window: boolean, counting: boolean): Observing {
    const observed = this.cursor.observed!;
    const interval = this.checkIntervalMs;
    const scope = new wf.CancellationScope();
    const result = scope.run(() =>
      described(
        'observeWindow',
        this.observeSummary(active, window),
      )({
        rolloutId: this.status.rolloutId,
        metrics: this.plan.target.metrics,
        ...(this.plan.target.consistency ? { consistency: this.plan.target.consistency } : {}),
        groups: active.map((group) => ({
          group,
          endpoints: this.phaseOf(group).endpoints,
          context: this.judgeContext(group),
          appliedAtMs: this.cursor.appliedAt?.[group] ?? 0,
          consistency:
            checksOf(this.phaseOf(group)).includes('dataConsistency') && !!this.plan.target.consistency,
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
  async settle(running: Observing): Promise<ObservationResult | null> {
    if (!running.settled) {
      const grace = this.timerAt(Date.now() + CANCEL_GRACE_MS);
      await wf.condition(() => running.settled || grace.fired);
      if (!running.settled) running.scope.cancel();
    }
    try {
      return await running.result;
    } catch (err) {
      if (!wf.isCancellation(err))
        this.event({ kind: 'warning', message: `observation failed: ${messageOf(err)}` });
      return null;
    }
  }

  /**
   * Runs a step's activity (applying, verifying) while the groups already live elsewhere (finished
   * phases, monitored) go on being checked (`WATCH_PATCH`): a rollback they call for, or one asked
   * for meanwhile, does not wait for the step, whose activity is cancelled (an apply is waited for
   * until it has stopped: a late one must not undo the rollback).
   */
  async watched<T>(work: () => Promise<T>): Promise<T | typeof ROLLBACK> {
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
  applyObservation(result: ObservationResult, counting: boolean): 'ok' | 'rollback' | 'metrics-hold' {
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

  /** One round of checks; asks for a rollback when the evidence is clear. */
  async tick(groups: string[]): Promise<'ok' | 'metrics-hold'> {
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
      if (checksOf(phase).includes('dataConsistency') && this.plan.target.consistency) {
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
}
