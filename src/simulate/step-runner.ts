/**
 * Drives the workflow's own verdict code (`window-judge.ts`) through one step of synthetic
 * traffic, as the workflow does: every check is judged and a rollback ends the step at once; at
 * the window's end a window whose only shortfall is too few samples is extended (up to
 * `maxExtensions` more windows), else it passes or holds.
 */
import { windowContext } from '../judge/window-context';
import { parseDuration } from '../plan/duration';
import type { CheckName, Plan, Thresholds } from '../plan/schema';
import { type CheckResult, type Trigger } from '../judge/verdicts';
import { addSamples } from '../judge/samples';
import type { GroupSample, ImplStats } from '../judge/samples';
import {
  judgeCheck,
  judgeWindowEnd,
  learnSpread,
  recordBaseline,
  sampleShortfall,
  startJudge,
  type CheckJudgement,
  type JudgeContext,
  type JudgeState,
} from '../judge/window-judge';
import type { Random } from './random';
import { startTraffic, type TrafficSettings } from './traffic-model';

const DAY_MS = 86_400_000;

/** A duration of a validated plan (the schema has checked it parses). */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}

/** The checks the window judge knows; the others (probes, consistency) are not traffic. */
export const TRAFFIC_CHECKS: CheckName[] = ['errorRate', 'successRate', 'p95', 'servedShare'];

/** The plan's rules that shape a step's judgement. */
export interface JudgeSettings {
  thresholds: Thresholds;
  checks: CheckName[];
  maxExtensions: number;
  lookbackMs: number;
  baselineWindowMs: number;
  burstLengthMs?: number;
}

/** The settings of `plan` (its defaults) for the traffic checks of `checks`. */
export function judgeSettingsOf(plan: Plan, checks: CheckName[] = TRAFFIC_CHECKS): JudgeSettings {
  return {
    thresholds: plan.defaults.thresholds,
    checks: checks.filter((c) => TRAFFIC_CHECKS.includes(c)),
    maxExtensions: plan.defaults.maxExtensions,
    lookbackMs: durationMs(plan.defaults.lookback),
    baselineWindowMs: durationMs(plan.defaults.baselineWindow),
    ...(plan.defaults.burstLength ? { burstLengthMs: durationMs(plan.defaults.burstLength) } : {}),
  };
}

/** One step to run. */
export interface StepSpec {
  percent: number;
  /** The observation window; for a continuous step, how long to watch it. */
  windowMs: number;
  /** Judged as an open-ended (`continuous`) step: no planned number of looks, no extensions. */
  continuous: boolean;
  /**
   * The phase's steps before this one, in order: their healthy traffic is run first (up to
   * `LEARNING_MS` of it, the latest) so the judge starts with the spread the workflow would have
   * learned in them. Absent: only the baseline window teaches it.
   */
  before?: Array<{ percent: number; windowMs: number }>;
}

/**
 * The most of the earlier steps a simulated step runs before its own window: the workflow learns
 * from all of them, a simulation from the latest four hours (a cost cap, which can only make the
 * simulated spread less known than the workflow's).
 */
export const LEARNING_MS = 4 * 3_600_000;

/** How one step ended. */
export interface StepOutcome {
  outcome: 'rollback' | 'pass' | 'hold';
  /** Checks taken. */
  checks: number;
  /** Milliseconds from the step's start to the rollback, or to the window's (last) end. */
  atMs: number;
  /** Windows added for want of samples. */
  extensions: number;
  trigger?: Trigger;
  /** The rollback's reason, or those of every result that did not pass. */
  reasons: string[];
  /** What the last extension was for ("38 of 50 domain requests"). */
  shortfall?: string;
  /**
   * Milliseconds from the step's start to the first check whose judgement showed a rate above its
   * target (`aboveTargetShown`); `null` when none did; absent when the judge exposes no such notice.
   */
  aboveTargetAtMs?: number | null;
}

/**
 * HOOK for the judge's "above target" notice (issue 22): whether one check's judgement says the
 * domain's error or success rate is clearly past its target (not its rollback bar). `undefined`
 * when the judge exposes no such notice. Read structurally (`notices: [{ check }]` on the
 * judgement), so the simulation builds whether or not the judge has it; when the notice takes
 * another shape, change this function only: `runStep` records the first check it is true at
 * (`StepOutcome.aboveTargetAtMs`) and `bench/judgement.ts` prints its median.
 */
export function aboveTargetShown(judgement: CheckJudgement): boolean | undefined {
  const notices = (judgement as { notices?: unknown }).notices;
  if (!Array.isArray(notices)) return undefined;
  return notices.some(
    (n: { check?: unknown }) => n !== null && (n.check === 'errorRate' || n.check === 'successRate'),
  );
}

/** The context the workflow builds for a step (`lookback`, a day of looks, extensions counted). */
export function judgeContext(
  step: StepSpec,
  checkIntervalMs: number,
  settings: JudgeSettings,
  baseline: ImplStats | null,
): JudgeContext {
  return windowContext({
    thresholds: settings.thresholds,
    checks: settings.checks,
    percent: step.percent,
    baseline,
    windowMs: step.continuous ? null : step.windowMs,
    checkIntervalMs,
    lookbackMs: settings.lookbackMs,
    ...(settings.burstLengthMs ? { burstLengthMs: settings.burstLengthMs } : {}),
    continuousMs: DAY_MS,
  });
}

/** Legacy traffic of the baseline window before a phase's first step (the group at 0%). */
export function measureBaseline(traffic: TrafficSettings, windowMs: number, rng: Random): ImplStats {
  const stream = startTraffic({ ...traffic, percent: 0, fault: undefined }, rng);
  let sum: GroupSample | undefined;
  const checks = Math.max(1, Math.round(windowMs / traffic.checkIntervalMs));
  for (let i = 0; i < checks; i++) sum = addSamples(sum, stream.next());
  return sum!.legacy;
}

/** The judge of a baseline window: legacy's traffic summed, its spread learned. */
function baselineJudge(traffic: TrafficSettings, windowMs: number, judge: JudgeState, rng: Random): JudgeState {
  const stream = startTraffic({ ...traffic, percent: 0, fault: undefined }, rng);
  const checks = Math.max(1, Math.round(windowMs / traffic.checkIntervalMs));
  let state = judge;
  for (let i = 0; i < checks; i++) state = recordBaseline(state, stream.next());
  return state;
}

/**
 * The judge a step starts from, as the workflow's would be: the baseline window's, then that of
 * each earlier step of the phase (healthy traffic, the latest `LEARNING_MS` of them), each window
 * starting from the one before (`startJudge(t, previous)`).
 */
function learnedJudge(
  traffic: TrafficSettings,
  step: StepSpec,
  settings: JudgeSettings,
  rng: Random,
): { baseline: ImplStats; judge: JudgeState } {
  const first = baselineJudge(traffic, settings.baselineWindowMs, startJudge(settings.thresholds), rng);
  let judge = first;
  let budget = LEARNING_MS;
  const before = (step.before ?? []).slice().reverse();
  const runs: Array<{ percent: number; windowMs: number }> = [];
  for (const b of before) {
    if (budget <= 0) break;
    runs.unshift({ percent: b.percent, windowMs: Math.min(b.windowMs, budget) });
    budget -= b.windowMs;
  }
  for (const b of runs) {
    // Only the counts teach the spread: no histogram to draw, no verdicts to reach (a healthy
    // step's rate tests stay closed but for its bursts, whose batches they then release).
    const stream = startTraffic(
      { ...traffic, percent: b.percent, fault: undefined, exporter: { ...traffic.exporter, histogram: false } },
      rng,
    );
    let state = startJudge(settings.thresholds, judge);
    const checks = Math.max(1, Math.round(b.windowMs / traffic.checkIntervalMs));
    for (let i = 0; i < checks; i++) state = learnSpread(state, stream.next());
    judge = state;
  }
  return { baseline: first.window!.legacy, judge };
}

const notPassed = (results: CheckResult[]) => results.filter((r) => r.verdict !== 'pass');

/**
 * Runs one step: a baseline of legacy-only traffic first (the reference at 100%), then checks
 * until a rollback or the (extended) window's end.
 */
export function runStep(
  traffic: TrafficSettings,
  step: StepSpec,
  settings: JudgeSettings,
  rng: Random,
): StepOutcome {
  const interval = traffic.checkIntervalMs;
  const learned = learnedJudge(traffic, step, settings, rng);
  const ctx = judgeContext(step, interval, settings, learned.baseline);
  const perWindow = Math.max(1, Math.round(step.windowMs / interval));
  const stream = startTraffic({ ...traffic, percent: step.percent }, rng);
  let state = startJudge(settings.thresholds, learned.judge);
  let extensions = 0;
  let shortfall: string | undefined;
  let end = perWindow;
  let aboveTargetAtMs: number | null | undefined;
  for (let look = 1; ; look++) {
    const judged = judgeCheck(state, stream.next(), ctx);
    state = judged.state;
    if (aboveTargetAtMs === undefined || aboveTargetAtMs === null) {
      const shown = aboveTargetShown(judged);
      if (shown !== undefined) aboveTargetAtMs = shown ? look * interval : null;
    }
    const rolledBack = (r: CheckResult): StepOutcome => ({
      outcome: 'rollback',
      checks: look,
      atMs: look * interval,
      extensions,
      trigger: r.trigger,
      reasons: [r.reason],
      shortfall,
      ...(aboveTargetAtMs !== undefined ? { aboveTargetAtMs } : {}),
    });
    if (judged.rollbacks[0]) return rolledBack(judged.rollbacks[0]);
    if (look < end) continue;
    // A continuous step has no end: the workflow never judges one there, only its checks.
    const results = judgeWindowEnd(state, ctx, !step.continuous);
    const endRollback = results.find((r) => r.verdict === 'rollback');
    if (endRollback) return rolledBack(endRollback);
    const missing = step.continuous ? null : sampleShortfall(results);
    if (missing !== null && extensions < settings.maxExtensions) {
      extensions++;
      shortfall = missing;
      end += perWindow;
      continue;
    }
    // A continuous step has no end to hold at: what only wants more requests is still watched.
    const open = step.continuous && sampleShortfall(results) !== null ? [] : notPassed(results);
    return {
      outcome: open.length ? 'hold' : 'pass',
      checks: look,
      atMs: look * interval,
      extensions,
      reasons: open.map((r) => `${r.check} ${r.verdict}: ${r.reason}`),
      shortfall,
      ...(aboveTargetAtMs !== undefined ? { aboveTargetAtMs } : {}),
    };
  }
}
