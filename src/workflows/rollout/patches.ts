/**
 * The `patched()` ids of the rollout workflow: each changed what running rollouts do, so runs
 * begun before it keep the old behaviour when replayed. Listed in the order they were added.
 */
/**
 * Patch of the evidence rules: rollbacks at `rollbackConfidence`, P95 by confidence intervals
 * (`Rules` in evaluate.ts), a baseline measured until it has `minSamples`; and waits whose timers
 * are never cancelled (`timerAt`). Runs begun before it keep the v1 behaviour when replayed.
 */
export const RULES_PATCH = 'rollback-evidence-v2';

/**
 * Patch of the verdicts (rules v3, `window-judge.ts`): sequential rate tests with a stated
 * false-rollback budget, P95 intervals over whole buckets, served share with routing keys, legacy
 * as the reference of the rates, and windows extended when their only shortfall is too few
 * samples. Runs begun before it judge as they did.
 */
export const VERDICTS_PATCH = 'verdicts-v3';

/**
 * Patch of the observation (issue 9): one heartbeating `observeWindow` activity checks every
 * `checkInterval` and returns only on a rollback, a window's end, a slice's end or when cancelled
 * (pause, approval, rollback), instead of an activity and a timer per check. Runs begun before it
 * keep checking from the workflow.
 */
export const OBSERVE_PATCH = 'observe-activity';
/**
 * Patch of the steps (issue 9): groups already live stay checked while a step is applied and
 * verified (`watched`). Runs begun before it leave them unchecked meanwhile.
 */
export const WATCH_PATCH = 'watch-while-stepping';
/**
 * Patch of the input check (issue 9): the input and the plan are checked in an activity, so
 * zod and the plan's schema are not evaluated again in every cached rollout. Runs begun before it
 * check them in workflow code, loading the schema only then.
 */
export const INPUT_PATCH = 'input-check-activity';
