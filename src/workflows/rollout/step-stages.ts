/**
 * A step's stages: apply its percent, verify it, observe its window (or the baseline before a
 * phase's first step), and judge the window at its end (pass, hold, an extension, a rollback).
 */
import * as wf from '@temporalio/workflow';
import { checksOf, type CheckName } from '../../plan/checks';
import { formatDuration } from '../../plan/duration';
import { evaluateStage } from '../../judge/stage-checks';
import { combine, p95Ms, type CheckResult, type Evaluation } from '../../judge/verdicts';
import { judgeWindowEnd, p95BucketWarning, sampleShortfall, startJudge } from '../../judge/window-judge';
import { described, messageOf } from './activities';
import { startWindow } from './observed';
import type { RunState } from './run-state';
import { finishPhase, nextStep, toHold } from './transitions';
import { ROLLBACK, waitWithChecks, watched } from './waiting';

/** A baseline short of `minSamples` is measured again, up to this many times. */
const MAX_BASELINE_EXTENSIONS = 9;
/** Checks run at a step's start and at its window's end (the rest run on metrics at every check). */
const STAGE_CHECKS: CheckName[] = ['functional', 'writeProbe', 'command', 'dataConsistency'];

export async function apply(run: RunState): Promise<void> {
  // Advancing is what pause stops; checks of running groups go on meanwhile.
  if (run.cursor.paused && (await waitWithChecks(run, () => !run.cursor.paused)) !== 'done') return;
  const phase = run.phase;
  const step = phase.steps[run.cursor.stepIndex];
  run.enter();
  run.setGroup(phase.group, { state: 'applying' });
  run.status.stepIndex = run.cursor.stepIndex;
  run.status.percent = step.percent;
  run.status.stepStartedAt = run.now();
  run.status.windowEndsAt = null;
  run.status.windowRemainingMs = null;
  run.showStage();
  if (!run.currentHistory()) {
    run.status.history.push({
      phase: phase.name,
      group: phase.group,
      percent: step.percent,
      startedAt: run.now(),
      endedAt: null,
      outcome: null,
      reason: null,
      by: null,
      windowMs: step.observe === 'continuous' ? null : run.scaled(step.observe),
      verdict: null,
      metrics: null,
    });
  }
  try {
    const state = await watched(run, () =>
      described(
        'applyTraffic',
        `set ${phase.group} to ${step.percent}% (${phase.name} step ${run.cursor.stepIndex + 1} of ${phase.steps.length})`,
      )({
        traffic: run.plan.target.traffic,
        group: phase.group,
        percent: step.percent,
        targetId: run.plan.target.id,
      }),
    );
    if (state === ROLLBACK) return;
    run.setGroup(phase.group, { percent: state.groups[phase.group]?.percent ?? step.percent });
    (run.cursor.appliedAt ??= {})[phase.group] = Date.now();
    run.goto('verify');
  } catch (err) {
    toHold(
      run,
      'apply',
      `could not set ${phase.group} to ${step.percent}%: ${messageOf(err)}; approve to retry, rollback to revert`,
    );
  }
}

export async function verify(run: RunState): Promise<void> {
  run.enter();
  run.showStage();
  const evaluation = await watched(run, () => stageVerification(run));
  if (evaluation === ROLLBACK) return;
  if (evaluation.verdict === 'rollback') {
    run.requestRollback(evaluation, run.phase.group);
    return;
  }
  const step = run.phase.steps[run.cursor.stepIndex];
  if (step.observe === 'continuous') return finishPhase(run);
  run.goto('observe');
}

/** Runs the start/end verification activities; an activity that cannot run is inconclusive. */
export async function stageVerification(run: RunState): Promise<Evaluation> {
  const phase = run.phase;
  const checks = checksOf(phase).filter((c) => STAGE_CHECKS.includes(c));
  if (checks.length === 0) return combine([]);
  try {
    const report = await described(
      'verifyStage',
      `verify ${phase.name} at ${run.status.groups[phase.group].percent}%: ${checks.join(', ')}`,
    )({
      rolloutId: run.status.rolloutId,
      target: run.plan.target,
      phase: { name: phase.name, group: phase.group, endpoints: phase.endpoints, command: phase.command },
      percent: run.status.groups[phase.group].percent,
      checks,
    });
    const evaluation = combine(evaluateStage(report));
    run.recordCheck(phase.group, evaluation, report.at);
    return evaluation;
  } catch (err) {
    // Cancelled for a rollback (see `watched`): nothing was verified, nothing to record.
    if (wf.isCancellation(err)) throw err;
    const evaluation = combine([inconclusive(`verification could not run: ${messageOf(err)}`)]);
    run.recordCheck(phase.group, evaluation, run.now());
    return evaluation;
  }
}

export async function observeWindow(run: RunState, kind: 'baseline' | 'observe'): Promise<void> {
  const phase = run.phase;
  const entering = run.enter();
  if (entering && run.cursor.extending) {
    // An extension: the same window goes on with what it has gathered so far.
    run.cursor.extending = false;
    run.setGroup(phase.group, { state: 'observing' });
    run.showStage();
  } else if (entering) {
    const step = phase.steps[run.cursor.stepIndex];
    const windowMs =
      kind === 'baseline' ? run.scaled(run.plan.defaults.baselineWindow) : run.scaled(step.observe);
    run.cursor.windowRemainingMs = windowMs;
    (run.cursor.judge ??= {})[phase.group] = startJudge(
      run.plan.defaults.thresholds,
      run.cursor.judge?.[phase.group],
    );
    run.cursor.extensions = 0;
    run.status.extension = null;
    run.status.aboveTarget = null;
    run.status.blind = null;
    // The window's time is counted from now, not from the last check before it began.
    if (run.cursor.observed)
      run.cursor.observed = startWindow(run.cursor.observed, Date.now(), run.checkIntervalMs);
    run.setGroup(phase.group, { state: kind === 'baseline' ? 'pending' : 'observing' });
    run.showStage();
    if (kind === 'baseline')
      run.event({
        kind: 'state',
        message: `${phase.name}: measuring legacy latency for ${formatDuration(windowMs)} before the first step`,
      });
  }
  const r = await waitWithChecks(run, () => false, true);
  if (r === 'window-end') {
    run.status.windowEndsAt = null;
    run.status.windowRemainingMs = 0;
    if (kind === 'baseline') baselineEnd(run);
    else run.goto('window-end');
  } else if (r === 'metrics-hold') {
    toHold(
      run,
      kind === 'baseline' ? 'apply' : 'next',
      `metrics source failed ${run.status.metricErrors} times in a row: ${run.status.lastCheck?.reasons.join('; ')}`,
    );
  }
}

/**
 * The baseline window ended: legacy's latency before the first step is the P95 reference at 100%.
 * Too few legacy requests measure again (up to `MAX_BASELINE_EXTENSIONS` times) before going on.
 */
function baselineEnd(run: RunState): void {
  const phase = run.phase;
  const sample = run.cursor.judge?.[phase.group]?.window ?? undefined;
  const requests = sample?.legacy.requests ?? 0;
  const windowMs = run.scaled(run.plan.defaults.baselineWindow);
  const extensions = run.cursor.baselineExtensions ?? 0;
  const min = run.plan.defaults.thresholds.minSamples;
  // Without a baseline the P95 at 100% has nothing to compare with: measure longer first.
  if (requests < min && extensions < MAX_BASELINE_EXTENSIONS) {
    run.cursor.baselineExtensions = extensions + 1;
    run.cursor.windowRemainingMs = windowMs;
    run.event({
      kind: 'state',
      message: `${phase.name}: only ${requests} legacy requests for the baseline (need ${min}); measuring ${formatDuration(windowMs)} more`,
    });
    return;
  }
  run.cursor.baselineExtensions = 0;
  const p95 = sample ? p95Ms(sample.legacy) : null;
  (run.status.baselineP95Ms ??= {})[phase.group] = p95;
  const coarse = sample ? p95BucketWarning(sample.legacy, run.plan.defaults.thresholds) : null;
  (run.cursor.baselineStats ??= {})[phase.group] = sample?.legacy ?? null;
  if (coarse) run.event({ kind: 'warning', message: `${phase.name}: baseline ${coarse}` });
  run.event(
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
  run.goto('apply');
}

export async function windowEnd(run: RunState): Promise<void> {
  const phase = run.phase;
  run.enter();
  run.showStage();
  // The group's domain traffic is live while it is verified: it stays watched, and a rollback
  // (the checks', or an operator's) does not wait for the verification.
  const stage = await watched(run, () => stageVerification(run), true);
  if (stage === ROLLBACK) return;
  // No check measured anything: judgeWindowEnd says so (inconclusive, short of samples).
  const judged = run.cursor.judge?.[phase.group] ?? startJudge(run.plan.defaults.thresholds);
  const traffic = judgeWindowEnd(judged, run.judgeContext(phase.group), true);
  const evaluation = combine([...stage.results, ...traffic]);
  run.recordCheck(phase.group, evaluation, run.now());
  if (extendWindow(run, evaluation)) return;
  const entry = run.currentHistory();
  if (entry) {
    entry.verdict = evaluation.verdict;
    entry.metrics = evaluation.metrics;
  }
  if (evaluation.verdict === 'rollback') return run.requestRollback(evaluation, phase.group);
  if (evaluation.verdict === 'pass') {
    if (entry) run.closeHistory(entry, { outcome: 'passed', reason: evaluation.reasons.join('; ') });
    nextStep(run);
    return;
  }
  toHold(
    run,
    'next',
    `${evaluation.verdict} at the end of the ${phase.steps[run.cursor.stepIndex].observe} window: ${evaluation.reasons.join('; ')}`,
  );
}

/**
 * A window whose only shortfall is too few samples gets another window (up to
 * `maxExtensions`) instead of a hold: nothing is wrong, there is just not enough evidence yet.
 */
export function extendWindow(run: RunState, evaluation: Evaluation): boolean {
  if (evaluation.verdict === 'pass' || evaluation.verdict === 'rollback') return false;
  const missing = sampleShortfall(evaluation.results);
  const used = run.cursor.extensions ?? 0;
  const max = run.plan.defaults.maxExtensions;
  if (!missing || used >= max) return false;
  const phase = run.phase;
  const step = phase.steps[run.cursor.stepIndex];
  const windowMs = run.scaled(step.observe);
  run.cursor.extensions = used + 1;
  run.cursor.windowRemainingMs = windowMs;
  run.cursor.extending = true;
  run.status.extension = { count: used + 1, max, missing };
  run.event({
    kind: 'state',
    message: `${phase.name} at ${step.percent}%: only ${missing}; window extended by ${formatDuration(windowMs)} (extension ${used + 1} of ${max})`,
  });
  run.goto('observe');
  return true;
}

function inconclusive(reason: string): CheckResult {
  return { check: 'functional', verdict: 'inconclusive', reason, figures: {} };
}
