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

/**
 * The details each running activity last heartbeated, so a keep-alive beat repeats them: a bare
 * beat would replace them, and a retry resumes from the last details the server kept.
 */
const lastDetails = new WeakMap<Context, unknown>();
/** When each running activity last beat (epoch ms), so a keep-alive beat is skipped right after one. */
const lastBeatAt = new WeakMap<Context, number>();

/** Tells Temporal the activity is alive (long restarts, slow probes); a no-op outside an activity. */
export function heartbeat(details?: unknown): void {
  const ctx = current();
  if (!ctx) return;
  lastDetails.set(ctx, details);
  lastBeatAt.set(ctx, Date.now());
  ctx.heartbeat(details);
}

/** Aborts when Temporal cancels the activity; `undefined` outside an activity. */
export function cancellationSignal(): AbortSignal | undefined {
  return current()?.cancellationSignal;
}

/**
 * The longest a kept-alive activity goes without beating, give or take half of it. Well under the
 * shortest heartbeat timeout the workflow sets (10 s).
 */
export const KEEP_ALIVE_MS = 2000;

/**
 * Runs `work` while making sure it beats: when `everyMs` passed since its last beat (its own or
 * this one's), it beats again, so an activity stuck in one long await (a restart command, a health
 * wait, a slow HTTP answer) still shows its worker is alive, and a dead worker is noticed within the
 * heartbeat timeout instead of the start-to-close timeout. Gaps stay under 1.5 × `everyMs`.
 */
export async function keepAlive<T>(work: () => Promise<T>, everyMs = KEEP_ALIVE_MS): Promise<T> {
  const ctx = current();
  if (!ctx) return work();
  // Each beat repeats the last details, and an activity that beats by itself at least every
  // `everyMs` gets no extra beat: every beat is a write on the server, and at 1,000 observations a
  // keep-alive beat between two checks' beats (as when it only waited half an interval) was a third
  // of the server's load.
  const beat = () => {
    if (Date.now() - (lastBeatAt.get(ctx) ?? 0) < everyMs) return;
    lastBeatAt.set(ctx, Date.now());
    ctx.heartbeat(lastDetails.get(ctx));
  };
  beat();
  const timer = setInterval(beat, everyMs / 2);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The same activities, each kept alive while it runs (`keepAlive`). */
export function keptAlive<A extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: A,
  everyMs = KEEP_ALIVE_MS,
): A {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    // A named function, so stack traces and the SDK still see the activity's own name.
    wrapped[name] = {
      [name]: (...args: never[]) => keepAlive(() => fn(...args), everyMs),
    }[name];
  }
  return wrapped as A;
}
