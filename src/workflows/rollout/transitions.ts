/**
 * Where the story goes next, without waiting for anything: the next step, the next phase (the
 * finished group is monitored from then on), or a hold for a person.
 */
import { startJudge } from '../../judge/window-judge';
import type { RunState } from './run-state';

export function nextStep(run: RunState): void {
  if (run.cursor.stepIndex + 1 >= run.phase.steps.length) return finishPhase(run);
  run.cursor.stepIndex += 1;
  run.goto('apply');
}

/**
 * The phase is at its last step (a continuous one, or a timed one that passed): its group is
 * monitored from here on, judged against this percent only, while the next phase runs.
 */
export function finishPhase(run: RunState): void {
  (run.cursor.judge ??= {})[run.phase.group] = startJudge(
    run.plan.defaults.thresholds,
    run.cursor.judge?.[run.phase.group],
  );
  run.setGroup(run.phase.group, { state: 'monitoring' });
  if (!run.cursor.monitored.includes(run.phase.group)) run.cursor.monitored.push(run.phase.group);
  if (run.cursor.phaseIndex + 1 < run.plan.phases.length) {
    run.cursor.phaseIndex += 1;
    run.cursor.stepIndex = 0;
    run.goto('phase-start');
  } else run.goto('monitor');
}

export function toHold(run: RunState, next: 'apply' | 'next', reason: string): void {
  run.cursor.holdNext = next;
  run.cursor.holdReason = reason;
  run.goto('hold');
}
