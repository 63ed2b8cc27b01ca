import type { NotifyInput } from '../contracts/activities';
import { KiB, MiB, bounded, preview, type HttpLimits } from '../providers/errors';
import { keptAlive } from './context';
import type { ResolvedDeps } from './deps';

/**
 * One webhook POST: 10 s in all, and at most 64 KiB of answer read (a receiver says "ok"; only
 * the status counts). The event we send is small; 1 MiB bounds it all the same.
 */
export const NOTIFY_LIMITS = { deadlineMs: 10_000, maxBytes: 64 * KiB, maxRequestBytes: MiB };

export function notifyActivities(deps: ResolvedDeps) {
  return keptAlive({
    /**
     * POSTs the event as JSON with a top-level `text` (what chat webhooks display). Any non-2xx is
     * thrown so Temporal retries; the `Idempotency-Key` stays the same across retries, so a
     * receiver that got the first attempt can drop the repeat.
     */
    async notify(input: NotifyInput): Promise<void> {
      // A webhook on a host the worker's policy does not allow is refused, never called.
      deps.policy.assert(deps.policy.hostProblem(input.webhookUrl), 'notify.webhookUrl');
      // Only the origin in messages: a webhook path often carries its own token.
      const where = `webhook ${new URL(input.webhookUrl).origin}`;
      const limits: HttpLimits = {
        what: where,
        ...NOTIFY_LIMITS,
        describe: (err) => `${where}: ${err.message || err.code || 'request failed'}`,
      };
      const res = await bounded(limits, (bounds) =>
        deps.http.post(
          input.webhookUrl,
          { ...input.event, text: input.event.text },
          {
            ...bounds,
            headers: { 'Content-Type': 'application/json', 'Idempotency-Key': input.idempotencyKey },
            validateStatus: () => true,
          },
        ),
      );
      if (res.status < 200 || res.status >= 300) {
        throw new Error(`${where}: HTTP ${res.status}: ${preview(res.data)}`);
      }
    },
  });
}
