import { CancelledFailure, Context } from '@temporalio/activity';
import type { ObservationInput, ObservationResult, ObservationState } from '../contracts/observation';
import { runConsistency } from './consistency';
import { heartbeat, keepAlive } from './context';
import type { ResolvedDeps } from './deps';
import { readMetrics } from './metrics';
import { runObservation } from './observation-loop';

/**
 * A running observation beats at each check; between checks further apart than this it beats by
 * itself (gaps under 1.5 × this, well inside its 20 s heartbeat timeout). Just over the default
 * 10 s check interval, so a check a little late does not bring a second beat.
 */
export const OBSERVATION_BEAT_MS = 11_000;

/** The state to go on from: the last heartbeat's after a retry (a worker died), else the input's. */
function resumed(input: ObservationInput): ObservationState {
  const details = Context.current().info.heartbeatDetails as ObservationState | undefined;
  return details && typeof details === 'object' && 'judges' in details ? details : input.state;
}

/**
 * Sleeps `ms` unless the activity is cancelled first (pause, rollback, completion): `false` then,
 * and the loop returns its state, which the workflow (waiting for the cancellation to complete)
 * carries on.
 */
async function sleepUnlessCancelled(ms: number): Promise<boolean> {
  try {
    await Context.current().sleep(ms);
    return true;
  } catch (err) {
    if (err instanceof CancelledFailure) return false;
    throw err;
  }
}

export function observeActivities(deps: ResolvedDeps) {
  return {
    /**
     * Watches a window (or a hold, an approval, finished phases) with one check every
     * `checkIntervalMs`, heartbeating its state; see `runObservation` for when it returns.
     */
    async observeWindow(input: ObservationInput): Promise<ObservationResult> {
      const state = resumed(input);
      heartbeat(state);
      // Beats between checks too (when checks are further apart than this), so a dead worker is
      // noticed within the heartbeat timeout. Every beat is a write on the server, and a
      // cancellation (pause, approval) reaches the activity only with a beat's answer: at 1,000
      // rollouts, 2 s beats were 500 writes a second; at one beat per 10 s check, an approval waits
      // up to 10 s (up to 16.5 s when checks are a minute apart).
      return keepAlive(
        () =>
          runObservation(
            { ...input, state },
            {
              now: () => Date.now(),
              sleep: sleepUnlessCancelled,
              sample: (groups, from, to) =>
                readMetrics(deps, { metrics: input.metrics, key: input.rolloutId, groups, from, to }),
              consistency: () =>
                input.consistency
                  ? runConsistency(deps, input.consistency)
                  : Promise.resolve({
                      ok: false,
                      checked: 0,
                      differences: [],
                      error: 'no consistency source configured',
                    }),
              heartbeat,
              metrics: deps.metrics,
            },
          ),
        OBSERVATION_BEAT_MS,
      );
    },
  };
}
