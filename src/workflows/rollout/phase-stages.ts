/**
 * The stages between steps: a phase's start (taking over the target's shares, an approval), a
 * hold for a person, and monitoring every finished group until "complete".
 */
import { checksOf } from '../../plan/checks';
import type { RunState } from './run-state';
import { takeOver } from './take-over';
import { nextStep } from './transitions';
import { waitWithChecks } from './waiting';

export async function phaseStart(run: RunState): Promise<void> {
  const phase = run.phase;
  if (run.enter()) {
    if (run.cursor.found && !(await takeOver(run))) return;
    const first = phase.steps[run.cursor.stepIndex];
    run.status.phase = phase.name;
    run.status.group = phase.group;
    run.status.stepIndex = run.cursor.stepIndex;
    run.status.percent = run.status.groups[phase.group].percent;
    if (phase.approval === 'before-start') {
      run.showStage();
      const prev = run.plan.phases[run.cursor.phaseIndex - 1];
      const prompt = prev
        ? `${prev.name} is at ${run.status.groups[prev.group].percent}% and passed; approve to start ${phase.name} at ${first.percent}%`
        : `approve to start ${phase.name} at ${first.percent}%`;
      run.status.awaiting = { kind: 'approval', since: run.now(), prompt };
      run.notify('awaiting-approval', prompt);
    }
  }
  if (phase.approval === 'before-start') {
    const r = await waitWithChecks(run, () => run.cursor.approval !== null);
    if (r !== 'done') return;
    run.event({
      kind: 'state',
      by: run.cursor.approval!.by,
      message: `${phase.name} approved by ${run.cursor.approval!.by}`,
    });
    run.cursor.approval = null;
    run.status.awaiting = null;
  }
  const wantsBaseline = checksOf(phase).includes('p95') && run.status.groups[phase.group].percent === 0;
  run.goto(wantsBaseline ? 'baseline' : 'apply');
}

export async function hold(run: RunState): Promise<void> {
  const phase = run.phase;
  if (run.enter()) {
    run.setGroup(phase.group, { state: 'holding' });
    run.showStage();
    const prompt = `${phase.name} at ${run.status.percent}%: ${run.cursor.holdReason}. approve to go on, rollback to revert`;
    run.status.awaiting = { kind: 'hold', since: run.now(), prompt };
    run.notify('holding', prompt);
  }
  if ((await waitWithChecks(run, () => run.cursor.approval !== null)) !== 'done') return;
  const approval = run.cursor.approval!;
  run.cursor.approval = null;
  run.status.awaiting = null;
  if (run.cursor.holdNext === 'apply') {
    run.goto('apply');
    return;
  }
  const entry = run.currentHistory();
  if (entry) run.closeHistory(entry, { outcome: 'approved', reason: run.cursor.holdReason, by: approval.by });
  nextStep(run);
}

export async function monitor(run: RunState): Promise<void> {
  if (run.enter()) {
    run.showStage();
    run.status.awaiting = {
      kind: 'complete',
      since: run.now(),
      prompt: `every phase is at its last step; monitoring ${run.cursor.monitored.join(', ')} until "complete"`,
    };
  }
  if ((await waitWithChecks(run, () => run.cursor.completion !== null && !run.cursor.paused)) !== 'done')
    return;
  const by = run.cursor.completion!.by;
  run.status.awaiting = null;
  for (const entry of run.status.history)
    if (entry.endedAt === null) run.closeHistory(entry, { outcome: 'completed', by });
  for (const g of run.cursor.monitored) run.setGroup(g, { state: 'completed' });
  run.cursor.monitored = [];
  run.setState('completed');
  run.notify('completed', `${run.plan.name} completed (by ${by})`);
  run.goto('done');
}
