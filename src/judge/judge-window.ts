/**
 * A window judged check by check exactly as a rollout judges it: every check through
 * `judgeCheck` (a rollback acts at the first check that shows it), then `judgeWindowEnd` at the
 * window's end. `rollout verify` judges its sampled window with it (a window of one check), so it
 * and a running rollout give the same verdict on the same samples.
 */
import type { GroupSample } from './samples';
import type { CheckResult } from './verdicts';
import { checkResults, judgeCheck, judgeWindowEnd, startJudge, type JudgeContext } from './window-judge';

export interface WindowJudgement {
  results: CheckResult[];
  /** The check (1-based) that rolled back, or null when the window ran to its end. */
  rolledBackAt: number | null;
}

export function judgeWindow(samples: GroupSample[], ctx: JudgeContext): WindowJudgement {
  let state = startJudge(ctx.thresholds);
  for (const sample of samples) {
    const judged = judgeCheck(state, sample, ctx);
    state = judged.state;
    if (judged.rollbacks.length > 0) return { results: checkResults(judged, ctx), rolledBackAt: state.looks };
  }
  return { results: judgeWindowEnd(state, ctx, true), rolledBackAt: null };
}
