/**
 * The activities of a rollout with their timeouts and retries: one place to see what a dead
 * worker or a slow target costs.
 */
import * as wf from '@temporalio/workflow';
import type { RolloutActivities } from '../../contracts/activities';

// Every activity beats every 2 s while it runs (`keepAlive`); the SDK sends a beat every 80% of
// the heartbeat timeout. A dead worker is noticed within that timeout, not the start-to-close
// one, which is left to bound a step that is alive but stuck.
const stepping = {
  startToCloseTimeout: '10m',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5 },
} as const;
// Cancelled for a rollback, an apply is waited for until it has stopped, so that no late request
// of it undoes the rollback.
const applying = { ...stepping, cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
// A rollback must not give up, and must say when it cannot get through: the activity retries
// quick transient errors for about half a minute, then the workflow (rollback.ts) shows the error,
// alerts and tries again with backoff, until the target confirms it. A dead worker is noticed
// within 10 s.
const rollingBack = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
} as const;
// One POST with a 10 s timeout: a crash costs 15 s at most.
export const { notify } = wf.proxyActivities<RolloutActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 8 },
});
// Checks are short reads; ordinary activities (not local ones) so that signals arriving mid-check
// never race a local-activity marker on the time-skipping test server.
export const { sampleMetrics, checkConsistency } = wf.proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: '15s',
  retry: { initialInterval: '1s', maximumAttempts: 2 },
});

// The observation: a dead worker is noticed within 20 s and the retry resumes from the last
// heartbeat; cancelled, it hands back its state (WAIT_CANCELLATION_COMPLETED), so a pause or an
// approval loses no check. Retried for as long as the rollout watches.
const observing = {
  startToCloseTimeout: '40m',
  heartbeatTimeout: '20s',
  cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '10s' },
} as const;

const DESCRIBED = {
  verifyStage: stepping,
  applyTraffic: applying,
  rollbackTraffic: rollingBack,
  observeWindow: observing,
};

/**
 * The activity with a summary Temporal's UI shows on its event ("observe read at 10% for 30m"):
 * the same options, one proxy per call.
 */
export function described<K extends keyof typeof DESCRIBED>(name: K, summary: string): RolloutActivities[K] {
  return wf.proxyActivities<RolloutActivities>({ ...DESCRIBED[name], summary })[name];
}

// Pure and quick. Asked of the worker so that zod and the plan's schema are evaluated once there
// instead of once per cached rollout (about 2 MB each in the workflow sandbox). Not a local
// activity: the time-skipping test server can leave a run stuck on a local activity's marker.
export const { validateRolloutInput } = wf.proxyActivities<RolloutActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

/** What an activity's failure says, without the SDK's wrapping. */
export function messageOf(err: unknown): string {
  if (err instanceof wf.ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
