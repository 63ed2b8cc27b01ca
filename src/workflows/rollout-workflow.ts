/**
 * The rollout workflow: the stage story (phase start, baseline, apply, verify, observe, window end,
 * hold, monitor, rollback) over the rooms beside it in `rollout/`: the shared state and bookkeeping
 * (run-state.ts), the requests (handlers.ts), the stages (phase-stages.ts, step-stages.ts), waiting
 * while groups are checked (waiting.ts) and the rollback (rollback.ts).
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { Plan } from '../plan/schema';
import { statusQuery, type RolloutInput, type RolloutStatus } from '../contracts/definitions';
import { validateRolloutInput } from './rollout/activities';
import { registerHandlers } from './rollout/handlers';
import { hold, monitor, phaseStart } from './rollout/phase-stages';
import { rollBack } from './rollout/rollback';
import { HISTORY_LIMIT, initialStatus, RunState } from './rollout/run-state';
import type { Carried } from './rollout/state';
import { apply, observeWindow, verify, windowEnd } from './rollout/step-stages';

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutStatus> {
  // `status` answers while the input is being checked (`registerHandlers` replaces it).
  wf.setHandler(statusQuery, () => statusBeforeCheck(input));
  const run = input?.resume ? continued(input) : await started(input);
  registerHandlers(run);
  return story(run);
}

/**
 * A new rollout: its input and plan checked by the worker (`validateRolloutInput`) before anything
 * else; the warnings and the target's shares at start recorded.
 */
async function started(input: RolloutInput): Promise<RunState> {
  const checked = await validateRolloutInput(input);
  if (!checked.ok) throw ApplicationFailure.nonRetryable(checked.message, checked.type, checked.details);
  const run = new RunState(checked.plan, checked.timeScale);
  if (checked.current) {
    run.cursor.found = { mode: checked.current.mode, shares: { ...checked.current.shares } };
    const shares = Object.entries(checked.current.shares).map(([g, p]) => `${g} ${p}%`);
    run.event({
      kind: 'state',
      message: `the target's shares at start: ${shares.join(', ')} (${checked.current.mode})`,
    });
  }
  for (const w of checked.warnings) run.event({ kind: 'warning', message: `${w.path}: ${w.message}` });
  return run;
}

/**
 * A run continued as new: its plan was checked when the rollout started (by this same build: runs
 * are pinned to it) and is not checked again, so a live rollout never fails at a new run for a
 * check that could fail or time out. Only the carried state's shape is looked at.
 */
function continued(input: RolloutInput): RunState {
  const carried = input.resume as Partial<Carried> | undefined;
  const plan = input.plan as Plan | undefined;
  const usable =
    typeof carried === 'object' &&
    carried !== null &&
    typeof carried.status === 'object' &&
    carried.status !== null &&
    typeof carried.cursor === 'object' &&
    carried.cursor !== null &&
    typeof plan === 'object' &&
    plan !== null &&
    Array.isArray(plan.phases) &&
    typeof plan.defaults === 'object';
  if (!usable)
    throw ApplicationFailure.nonRetryable(
      'invalid rollout input: "resume" is the state a rollout carries to its next run; start a rollout with {plan, timeScale} only',
      'InvalidInput',
    );
  return new RunState(plan, typeof input.timeScale === 'number' ? input.timeScale : 1, carried as Carried);
}

/** A continued run's carried status; a new one's, pending, with its plan as given. */
function statusBeforeCheck(input: RolloutInput): RolloutStatus {
  const carried = (input?.resume as Carried | undefined)?.status;
  const plan = input?.plan as Plan;
  return carried ? { ...carried, plan } : initialStatus(plan, input?.timeScale ?? 1);
}

/** Runs the stages from where the cursor is until the rollout is done or rolled back. */
async function story(run: RunState): Promise<RolloutStatus> {
  run.cursor.lastUpsert = null;
  run.upsertSearchAttributes();
  for (;;) {
    if (run.cursor.pendingRollback && run.cursor.stage !== 'rollback') run.goto('rollback');
    // A step boundary: the one place a run starts a new run for its size alone.
    if (run.cursor.stage === 'apply' && !run.cursor.entered) await run.maybeContinueAsNew(HISTORY_LIMIT);
    switch (run.cursor.stage) {
      case 'phase-start':
        await phaseStart(run);
        break;
      case 'baseline':
        await observeWindow(run, 'baseline');
        break;
      case 'apply':
        await apply(run);
        break;
      case 'verify':
        await verify(run);
        break;
      case 'observe':
        await observeWindow(run, 'observe');
        break;
      case 'window-end':
        await windowEnd(run);
        break;
      case 'hold':
        await hold(run);
        break;
      case 'monitor':
        await monitor(run);
        break;
      case 'rollback':
        await rollBack(run);
        return finished(run);
      case 'done':
        return finished(run);
    }
  }
}

/** The result, once every request in flight has had its answer and every notification is out. */
async function finished(run: RunState): Promise<RolloutStatus> {
  await wf.condition(() => wf.allHandlersFinished() && run.notificationsDone());
  return run.status;
}
