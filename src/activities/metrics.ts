import type { SampleMetricsInput } from '../contracts/activities';
import type { GroupSample, MetricsReading } from '../judge/samples';
import { parseEndpoint } from '../plan/endpoints';
import { messageOf } from '../providers/errors';
import { keptAlive } from './context';
import type { ResolvedDeps } from './deps';

/**
 * Samples every group. A failing metrics source is not a failing canary: errors are returned
 * in `error` (with whatever groups did succeed), never thrown, so the workflow counts them
 * apart and judges them inconclusive instead of retrying blindly. A group whose sample is
 * garbage (a `MetricsGarbageError`) has no entry in `samples`, so nothing judges it.
 */
export async function readMetrics(deps: ResolvedDeps, input: SampleMetricsInput): Promise<MetricsReading> {
  const samples: Record<string, GroupSample> = {};
  const errors: string[] = [];
  let provider;
  try {
    provider = deps.metricsFor(input.metrics);
  } catch (err) {
    // A URL the worker's policy refuses too: an inconclusive reading that says why, never a pass.
    return { samples, error: deps.policy.redact(messageOf(err)) };
  }
  const from = new Date(input.from);
  const to = new Date(input.to);
  for (const { group, endpoints, previous } of input.groups) {
    try {
      samples[group] = await provider.sample({
        key: input.key,
        group,
        endpoints: endpoints.map(parseEndpoint),
        from,
        to,
        ...(previous !== undefined ? { previous } : {}),
      });
    } catch (err) {
      errors.push(`${group}: ${deps.policy.redact(messageOf(err))}`);
    }
  }
  return errors.length ? { samples, error: errors.join('; ') } : { samples };
}

export function metricsActivities(deps: ResolvedDeps) {
  return keptAlive({
    async sampleMetrics(input: SampleMetricsInput): Promise<MetricsReading> {
      return readMetrics(deps, input);
    },
  });
}
