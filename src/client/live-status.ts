/**
 * The latest check of a running rollout (issue 9): the workflow's `status` has the figures of the
 * observation's last slice; the running observation's heartbeat details (`describe` → pending
 * activities) have those of its latest check. `withLiveCheck` lays the newer over the status, so
 * `status`, `watch` and the tests see every check without it costing history.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { ObservationState } from '../contracts/observation';
import { combine } from '../judge/verdicts';
import type { RolloutStatus } from '../contracts/definitions';

type Description = { raw: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse };

/** The heartbeat details of the running `observeWindow` activity, if there is one. */
export function observationOf(description: Description): ObservationState | null {
  const pending = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'observeWindow');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  if (!payload) return null;
  try {
    const state = defaultPayloadConverter.fromPayload<ObservationState>(payload);
    return state && typeof state === 'object' && 'checks' in state ? state : null;
  } catch {
    return null;
  }
}

/** `status` with the observation's latest check, metrics-error count and window time, when newer. */
export function withLiveCheck(status: RolloutStatus, observation: ObservationState | null): RolloutStatus {
  const live = observation?.lastCheck;
  if (!observation || !live) return status;
  if (status.lastCheck && Date.parse(status.lastCheck.at) >= Date.parse(live.at)) return status;
  const evaluation = combine(live.results);
  return {
    ...status,
    lastCheck: {
      at: live.at,
      group: live.group,
      verdict: evaluation.verdict,
      metrics: evaluation.metrics,
      reasons: evaluation.reasons,
    },
    metricErrors: observation.metricErrors,
    ...(observation.windowRemainingMs !== null && status.windowRemainingMs !== null
      ? { windowRemainingMs: observation.windowRemainingMs }
      : {}),
  };
}
