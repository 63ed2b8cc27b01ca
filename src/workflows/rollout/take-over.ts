import type { RunState } from './run-state';
import { described, messageOf } from './activities';
import { toHold } from './transitions';

/**
 * The shares the target had at start (`CurrentShares`), taken over once: with
 * `resume-from-current` this phase starts at its first step at or above its group's share; with
 * `from-zero` every group above 0% is set to 0% before the first phase (later phases first, as a
 * rollback goes). False when that could not be done (the rollout holds).
 */
export async function takeOver(run: RunState): Promise<boolean> {
  const found = run.cursor.found!;
  const phase = run.phase;
  if (found.mode === 'resume-from-current') {
    const share = found.shares[phase.group] ?? 0;
    delete found.shares[phase.group];
    if (share === 0) return true;
    run.cursor.stepIndex = phase.steps.findIndex((st) => st.percent >= share);
    run.setGroup(phase.group, { percent: share });
    run.event({
      kind: 'state',
      message: `${phase.name}: ${phase.group} was at ${share}% at start; it resumes at its ${phase.steps[run.cursor.stepIndex].percent}% step (--resume-from-current)`,
    });
    return true;
  }
  const live = run.plan.phases.filter((ph) => (found.shares[ph.group] ?? 0) > 0).reverse();
  for (const ph of live) {
    const share = found.shares[ph.group];
    try {
      const state = await described(
        'applyTraffic',
        `set ${ph.group} from ${share}% to 0% (--from-zero)`,
      )({
        traffic: run.plan.target.traffic,
        group: ph.group,
        percent: 0,
        targetId: run.plan.target.id,
      });
      run.setGroup(ph.group, { percent: state.groups[ph.group]?.percent ?? 0 });
      (run.cursor.appliedAt ??= {})[ph.group] = Date.now();
    } catch (err) {
      toHold(
        run,
        'apply',
        `could not set ${ph.group} from ${share}% to 0% (--from-zero): ${messageOf(err)}; approve to go on from the first step, rollback to revert`,
      );
      return false;
    }
    delete found.shares[ph.group];
    run.event({
      kind: 'state',
      message: `${ph.group} was at ${share}% at start; set to 0% before the first step (--from-zero)`,
    });
  }
  run.cursor.found = undefined;
  return true;
}
