/**
 * The compensating rollback: every group the failing one carried along goes back, the step records
 * close, and nothing can cancel it once begun.
 */
import * as wf from '@temporalio/workflow';
import { described } from './activities';
import type { RunState } from './run-state';

/** The failing group and every later phase already started (they were started on its strength). */
export function groupsToRevert(run: RunState, group: string): string[] {
  const from = run.plan.phases.findIndex((p) => p.group === group);
  const started = run.plan.phases
    .slice(from)
    .map((p) => p.group)
    .filter(
      (g) => g === group || run.status.groups[g].state !== 'pending' || run.status.groups[g].percent > 0,
    );
  return started.reverse();
}

export async function rollBack(run: RunState): Promise<void> {
  const req = run.cursor.pendingRollback!;
  const groups = groupsToRevert(run, req.group);
  if (run.enter()) {
    run.status.rollback = {
      trigger: req.trigger,
      reason: req.reason,
      at: run.now(),
      completedAt: null,
      by: req.by,
      groups,
    };
    run.status.awaiting = null;
    run.showStage();
  }
  await wf.CancellationScope.nonCancellable(async () => {
    for (const group of groups) {
      const result = await described(
        'rollbackTraffic',
        `roll back ${group} to legacy (${req.trigger})`,
      )({
        traffic: run.plan.target.traffic,
        group,
        mode: run.plan.defaults.rollbackWith,
        targetId: run.plan.target.id,
        trigger: req.trigger,
        // A rollback the checks called for counts from the check that showed the fault.
        evidenceAt: (req.by === null ? run.status.lastCheck?.at : undefined) ?? run.status.rollback!.at,
      });
      run.setGroup(group, {
        percent: result.state.useDomainService ? (result.state.groups[group]?.percent ?? 0) : 0,
        state: 'rolled-back',
      });
    }
  });
  for (const entry of run.status.history) {
    if (entry.endedAt !== null) continue;
    if (groups.includes(entry.group))
      run.closeHistory(entry, {
        outcome: 'rolled-back',
        reason: `${req.trigger}: ${req.reason}`,
        by: req.by,
      });
    else
      run.closeHistory(entry, {
        outcome: 'completed',
        reason: `monitoring ended: ${groups.join(', ')} rolled back (${req.trigger})`,
      });
  }
  for (const g of run.cursor.monitored) if (!groups.includes(g)) run.setGroup(g, { state: 'completed' });
  run.cursor.monitored = [];
  run.status.percent = run.status.groups[run.phase.group].percent;
  run.status.windowEndsAt = null;
  run.status.windowRemainingMs = null;
  run.status.rollback!.completedAt = run.now();
  run.setState('rolled-back');
  await run.notify(
    'rolled-back',
    `${run.plan.name}: rolled back ${groups.join(', ')} (${req.trigger}): ${req.reason}`,
  );
  run.goto('done');
}
