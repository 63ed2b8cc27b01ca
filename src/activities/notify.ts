import type { NotifyInput } from '../contracts/activities';
import { preview } from '../providers/errors';
import { keptAlive } from './context';
import type { ResolvedDeps } from './deps';

export function notifyActivities(deps: ResolvedDeps) {
  return keptAlive({
    /**
     * POSTs the event as JSON with a top-level `text` (what chat webhooks display). Any non-2xx is
     * thrown so Temporal retries; the `Idempotency-Key` stays the same across retries, so a
     * receiver that got the first attempt can drop the repeat.
     */
    async notify(input: NotifyInput): Promise<void> {
      const res = await deps.http.post(
        input.webhookUrl,
        { ...input.event, text: input.event.text },
        {
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': input.idempotencyKey },
          timeout: 10_000,
          validateStatus: () => true,
        },
      );
      if (res.status < 200 || res.status >= 300) {
        // Only the origin: a webhook path often carries its own token.
        throw new Error(
          `webhook ${new URL(input.webhookUrl).origin}: HTTP ${res.status}: ${preview(res.data)}`,
        );
      }
    },
  });
}
