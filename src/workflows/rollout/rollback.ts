/**
 * The compensating rollback: every group the failing one carried along goes back, each confirmed
 * on the target, then every group is read back; the step records close, and nothing can cancel it
 * once begun. A rollback never gives up: an error, permanent ones included (a rotated token, a
 * target mid-deploy, a missing variable), is shown in `status.rollback.failing`, alerted, and
 * retried with backoff until the target confirms it.
 */
import * as wf from '@temporalio/workflow';
import type { RollbackTrafficResult } from '../../contracts/activities';
import { effectivePercent, type TrafficState } from '../../contracts/traffic';
import type { PendingRollback } from './state';
import { described, messageOf } from './activities';
import type { RunState } from './run-state';

/** Waits between attempts of an unconfirmed rollback: soon at first, then every 5 minutes. */
export const ROLLBACK_RETRY_MS = [10_000, 30_000, 60_000, 120_000, 300_000];
/** An error as status and events show it. */
const MAX_ERROR = 500;

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
      failing: null,
    };
    run.status.awaiting = null;
    // An approval or completion not yet taken is void now (its Update answers "rolled back").
    run.cursor.approval = null;
    run.cursor.completion = null;
    run.showStage();
  }
  const all = Object.keys(run.status.groups);
  let last: TrafficState | null = null;
  await wf.CancellationScope.nonCancellable(async () => {
    for (const group of groups) {
      last = (await revertUntilConfirmed(run, req, group, all)).state;
      run.setGroup(group, { percent: effectivePercent(last, group) ?? 0, state: 'rolled-back' });
    }
  });
  // Every group as the target has it now: a kill switch turned the others off too.
  if (last)
    for (const g of all) {
      const share = effectivePercent(last, g);
      if (share !== undefined) run.setGroup(g, { percent: share });
    }
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
  run.notify('rolled-back', `${run.plan.name}: rolled back ${groups.join(', ')} (${req.trigger}): ${req.reason}`);
  run.goto('done');
}

/**
 * One group back to legacy, retried until the target confirms it. The activity retries quick
 * transient errors itself; what it gives up on (a permanent error, or a transient one that lasts)
 * comes here, is shown and alerted once per distinct error, and is tried again after a wait.
 */
async function revertUntilConfirmed(
  run: RunState,
  req: PendingRollback,
  group: string,
  all: string[],
): Promise<RollbackTrafficResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await described('rollbackTraffic', `roll back ${group} to legacy (${req.trigger})`)({
        traffic: run.plan.target.traffic,
        group,
        mode: run.plan.defaults.rollbackWith,
        targetId: run.plan.target.id,
        trigger: req.trigger,
        // A rollback the checks called for counts from the check that showed the fault.
        evidenceAt: (req.by === null ? run.status.lastCheck?.at : undefined) ?? run.status.rollback!.at,
        readBack: all,
      });
      const failing = run.status.rollback!.failing;
      if (failing) {
        run.status.rollback!.failing = null;
        run.event({
          kind: 'state',
          message: `rollback of ${group} confirmed after ${failing.attempts + 1} attempts (failing since ${failing.since})`,
        });
      }
      return result;
    } catch (err) {
      const error = messageOf(err).slice(0, MAX_ERROR);
      const waitMs = ROLLBACK_RETRY_MS[Math.min(attempt - 1, ROLLBACK_RETRY_MS.length - 1)];
      const before = run.status.rollback!.failing;
      const news = !before || before.group !== group || before.error !== error;
      run.status.rollback!.failing = {
        group,
        attempts: attempt,
        since: before?.group === group ? before.since : run.now(),
        error,
        nextAttemptAt: new Date(Date.now() + waitMs).toISOString(),
        hint: `retried every ${Math.round(waitMs / 1000)}s until the target confirms ${group} at 0%: fix the cause above (the next attempt picks it up), or set ${group} to 0% by hand and the next attempt confirms it`,
      };
      if (news) {
        run.event({
          kind: 'warning',
          message: `rollback of ${group} not confirmed (attempt ${attempt}): ${error}; retrying until the target confirms it`,
        });
        run.notify(
          'rollback-failing',
          `${run.plan.name}: ROLLBACK OF ${group} NOT CONFIRMED, traffic may still reach the domain implementation: ${error}. Retrying every few minutes until it is.`,
        );
      }
      run.showDetails();
      await wf.sleep(waitMs);
    }
  }
}
