import { Context } from '@temporalio/activity';

/**
 * Activity context helpers that also work when an activity function is called directly (tests,
 * `npx rollout verify`), where there is no Temporal context to talk to.
 */

function current(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Tells Temporal the activity is alive (long restarts, slow probes); a no-op outside an activity. */
export function heartbeat(details?: unknown): void {
  current()?.heartbeat(details);
}

/** Aborts when Temporal cancels the activity; `undefined` outside an activity. */
export function cancellationSignal(): AbortSignal | undefined {
  return current()?.cancellationSignal;
}
