/**
 * Waiting while the running groups are checked: one heartbeating observing activity at a time
 * checks every `checkInterval` and returns only on a rollback, a window's end or a slice's end, or
 * when a signal changes what the wait is for. A wait ends when what it waits for happens, its
 * window is used, or a rollback is asked for. Functions over the run's state (`RunState`).
 */
import * as wf from '@temporalio/workflow';
import type { ObservationResult } from '../../contracts/observation';
import { checksOf } from '../../plan/checks';
import { combine } from '../../judge/verdicts';
import { described, messageOf } from './activities';
import { recordEvidence, resumeObserved } from './observed';
import type { RunState } from './run-state';

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

/** Why a wait is over before it waits again: a rollback asked for, its goal reached, its window used. */
function waitEnded(
  run: RunState,
  done: () => boolean,
  window: boolean,
): 'rollback' | 'done' | 'window-end' | null {
  if (run.cursor.pendingRollback) {
    run.goto('rollback');
    return 'rollback';
  }
  if (done()) return 'done';
  if (window && (run.cursor.windowRemainingMs ?? 0) <= 0) return 'window-end';
  return null;
}

/** The window's time left in `status`; no end time while paused (it does not run). */
function showWindow(run: RunState, paused: boolean): void {
  run.status.windowRemainingMs = run.cursor.windowRemainingMs;
  run.status.windowEndsAt = paused
    ? null
    : new Date(Date.now() + run.cursor.windowRemainingMs!).toISOString();
}

/**
 * Waits until `done()` holds (or the window runs out), checking the running groups meanwhile with
 * one observing activity: it runs while there are groups to watch and returns on a rollback, the
 * window's end or a slice's end; a signal that changes what the wait is for (pause, resume,
 * approval, rollback, completion) cancels it, and its state comes back with the cancellation.
 * Window time does not pass while paused.
 */
export async function waitWithChecks(
  run: RunState,
  done: () => boolean,
  window = false,
): Promise<'done' | 'rollback' | 'window-end' | 'metrics-hold'> {
  // Temporal's UI shows what the rollout waits in: the state, prompt and window set just before.
  run.showDetails();
  const interval = run.checkIntervalMs;
  run.cursor.observed = resumeObserved(run.cursor.observed, Date.now(), interval);
  for (;;) {
    const ended = waitEnded(run, done, window);
    if (ended) return ended;
    await run.maybeContinueAsNew(HISTORY_HARD_LIMIT);
    const paused = run.cursor.paused;
    const counting = window && !paused;
    if (window) showWindow(run, paused);
    const wake = () => run.cursor.pendingRollback !== null || done() || run.cursor.paused !== paused;
    const active = run.activeGroups();
    if (active.length === 0) {
      await wf.condition(wake);
      continue;
    }
    const running = startObserving(run, active, window, counting);
    await wf.condition(() => running.settled || wake());
    if (!running.settled && run.cursor.pendingRollback) {
      // A rollback needs nothing the observation holds: it goes on at once and the observation
      // ends with the run (its next heartbeat finds no workflow to report to).
      run.goto('rollback');
      return 'rollback';
    }
    const result = await settle(run, running);
    if (!result) continue;
    const outcome = applyObservation(run, result, counting);
    if (outcome === 'rollback') return 'rollback';
    if (outcome === 'metrics-hold' && window) return 'metrics-hold';
    await catchUp(run, result, wake);
  }
}

/**
 * An observation on a clock of its own (a test's) may be ahead of the workflow: waits until the
 * workflow's clock reaches its last check, or `wake`.
 */
async function catchUp(run: RunState, result: ObservationResult | null, wake: () => boolean): Promise<void> {
  const ahead = (result?.state.lastCheckAtMs ?? 0) - Date.now();
  if (ahead <= 50) return;
  const timer = run.timerAt(Date.now() + ahead);
  await wf.condition(() => wake() || timer.fired);
}

/** "observe phase2-read at 10% for 30m; watch phase2-read": what Temporal's UI shows on it. */
function observeSummary(run: RunState, active: string[], window: boolean): string {
  const current = run.phase;
  const step = current.steps[run.cursor.stepIndex];
  const parts = active.map((g) => {
    const ph = run.phaseOf(g);
    const percent = run.status.groups[g].percent;
    if (g === current.group && window)
      return run.cursor.stage === 'baseline'
        ? `measure the ${ph.name} baseline for ${run.plan.defaults.baselineWindow}`
        : `observe ${ph.name} at ${percent}% for ${step.observe}`;
    return `watch ${ph.name} at ${percent}%`;
  });
  return parts.join('; ');
}

/** Starts one observing activity of `active`, in a scope of its own so that it can be cancelled. */
function startObserving(run: RunState, active: string[], window: boolean, counting: boolean): Observing {
  const observed = run.cursor.observed!;
  const interval = run.checkIntervalMs;
  const scope = new wf.CancellationScope();
  const result = scope.run(() =>
    described(
      'observeWindow',
      observeSummary(run, active, window),
    )({
      rolloutId: run.status.rolloutId,
      metrics: run.plan.target.metrics,
      ...(run.plan.target.consistency ? { consistency: run.plan.target.consistency } : {}),
      groups: active.map((group) => ({
        group,
        endpoints: run.phaseOf(group).endpoints,
        context: run.judgeContext(group),
        appliedAtMs: run.cursor.appliedAt?.[group] ?? 0,
        consistency:
          checksOf(run.phaseOf(group)).includes('dataConsistency') && !!run.plan.target.consistency,
      })),
      primary: active.includes(run.phase.group) ? run.phase.group : active[0],
      checkIntervalMs: interval,
      sliceMs: Math.min(SLICE_MS, Math.max(run.scaled('30m'), 3 * interval)),
      // Outside a window a failing metrics source is only reported: nothing would hold.
      maxMetricErrors: window ? run.plan.defaults.maxMetricErrors : Number.MAX_SAFE_INTEGER,
      state: {
        ...observed,
        windowRemainingMs: counting ? run.cursor.windowRemainingMs : null,
        judges: run.cursor.judge ?? {},
        metricErrors: run.status.metricErrors,
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
async function settle(run: RunState, running: Observing): Promise<ObservationResult | null> {
  if (!running.settled) {
    const grace = run.timerAt(Date.now() + CANCEL_GRACE_MS);
    await wf.condition(() => running.settled || grace.fired);
    if (!running.settled) running.scope.cancel();
  }
  try {
    return await running.result;
  } catch (err) {
    if (!wf.isCancellation(err))
      run.event({ kind: 'warning', message: `observation failed: ${messageOf(err)}` });
    return null;
  }
}

/**
 * Runs a step's activity (applying, verifying) while the groups already live elsewhere (finished
 * phases, monitored) go on being checked, and with `current` the current group too (a window's
 * end: its domain traffic is live while it is verified): a rollback they call for, or one asked
 * for meanwhile, does not wait for the step, whose activity is cancelled (an apply is waited for
 * until it has stopped: a late one must not undo the rollback).
 */
export async function watched<T>(
  run: RunState,
  work: () => Promise<T>,
  current = false,
): Promise<T | typeof ROLLBACK> {
  const live = run.cursor.monitored.filter((g) => g !== run.phase.group);
  if (current && run.status.groups[run.phase.group].percent > 0) live.push(run.phase.group);
  const scope = new wf.CancellationScope();
  const job = scope.run(work);
  let done = false;
  job.then(
    () => (done = true),
    () => (done = true),
  );
  run.cursor.observed = resumeObserved(run.cursor.observed, Date.now(), run.checkIntervalMs);
  const wanted = () => run.cursor.pendingRollback !== null;
  while (!done && !wanted()) {
    if (live.length === 0) {
      await wf.condition(() => done || wanted());
      continue;
    }
    const running = startObserving(run, live, false, false);
    await wf.condition(() => done || running.settled || wanted());
    const result = await settle(run, running);
    if (result) applyObservation(run, result, false);
    if (!done && !wanted()) await catchUp(run, result, () => done || wanted());
  }
  if (done) return job;
  if (live.length === 0) {
    // An operator's rollback with nothing else watched: a second for the step to end by itself
    // first (see `settle`: cancelling an activity whose completion is in flight leaves a run stuck
    // on the time-skipping test server). A rollback the live groups called for cancels at once.
    const grace = run.timerAt(Date.now() + CANCEL_GRACE_MS);
    await wf.condition(() => done || grace.fired);
    if (done) return job;
  }
  scope.cancel();
  await job.catch(() => undefined);
  return ROLLBACK;
}

/** Takes over what an observation saw: its state, figures, warnings and verdict. */
function applyObservation(
  run: RunState,
  result: ObservationResult,
  counting: boolean,
): 'ok' | 'rollback' | 'metrics-hold' {
  const { judges, evidence, lastCheck, metricErrors, ...rest } = result.state;
  recordEvidence(run.status.history, evidence);
  run.cursor.judge = judges;
  run.cursor.observed = rest;
  if (counting) run.cursor.windowRemainingMs = rest.windowRemainingMs ?? 0;
  run.status.metricErrors = metricErrors;
  for (const message of result.warnings) run.event({ kind: 'warning', message });
  if (lastCheck) run.recordCheck(lastCheck.group, combine(lastCheck.results), lastCheck.at);
  const end = result.end;
  if (end.kind === 'notice')
    for (const n of end.notices) {
      const step = run.phaseOf(n.group);
      const blind = n.kind === 'blind';
      const shown = (blind ? run.status.blind : run.status.aboveTarget) ?? [];
      if (shown.length < 10) {
        if (blind) run.status.blind = [...shown, n];
        else run.status.aboveTarget = [...shown, n];
      }
      const message = `${step.name} at ${run.status.groups[n.group].percent}%: ${n.reason}`;
      run.event({ kind: 'warning', message });
      run.notify(blind ? 'blind' : 'above-target', message);
    }
  if (end.kind === 'rollback') {
    // A rollback asked for meanwhile (an operator's) keeps its reason and author.
    if (!run.cursor.pendingRollback) run.requestRollback(combine(end.results), end.group);
    return 'rollback';
  }
  return end.kind === 'metrics-hold' ? 'metrics-hold' : 'ok';
}
