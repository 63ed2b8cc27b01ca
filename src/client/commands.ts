/**
 * The requests an operator sends (approve, pause, resume, rollback, complete): as an Update, with the
 * signal as the fallback. Shared by the CLI's verbs and the rollout page.
 */
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import {
  REFUSED,
  statusQuery,
  type CommandOutcome,
  type RolloutEvent,
  type RolloutState,
  type RolloutStatus,
  type SignalName,
} from '../contracts/definitions';
import { findRollout, hasWorker, isRunning, readStatus, type Temporal } from './connect';
import { CliError, EXIT, isDeadlineExceeded } from './errors';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SignalOptions {
  /** How long to wait for the workflow to handle the signal. */
  timeoutMs?: number;
}

async function query(t: Temporal, id: string): Promise<RolloutStatus> {
  return t.timed(10_000, () => t.client.workflow.getHandle(id).query(statusQuery));
}

/** What a request led to: when it was accepted and what the workflow said. */
export interface CommandAnswer {
  rolloutId: string;
  at: string;
  message: string;
  /** The state it led to, as the workflow answered; `null` when it was not done in time. */
  state: RolloutState | null;
}

type Answer = Omit<CommandAnswer, 'rolloutId'>;

/**
 * Sends the request as an Update: a refusal comes back from its validator (a `CliError` with exit
 * code 1, nothing changed), an acceptance with the state it led to. Rollouts started by a worker
 * without the Updates get the signal and a poll of `status` for the event it records. Shared by
 * the CLI's verbs and the rollout page.
 */
export async function requestCommand(
  t: Temporal,
  idOrTarget: string,
  name: SignalName,
  payload: { by: string } & Record<string, unknown>,
  opts: SignalOptions = {},
): Promise<CommandAnswer> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const rollout = await findRollout(t, idOrTarget);
  if (!isRunning(rollout)) {
    const s = await readStatus(t, rollout);
    throw new CliError(
      `${name} refused: rollout ${rollout.id} has already ended (${s.state}); nothing to ${name}.`,
      EXIT.refused,
    );
  }
  if ((await hasWorker(t)) === false) {
    // Signals are durable: it takes effect once a worker runs. Say so rather than wait.
    await t.timed(10_000, () => rollout.handle.signal(name, payload));
    throw new CliError(
      `${name} was sent to ${rollout.id}, but no worker runs on task queue ${t.settings.taskQueue}: it takes effect (or is refused) when one starts. Hint: \`npm run worker\` or \`npm start\`, then \`npx rollout status ${rollout.id}\`.`,
      EXIT.unreachable,
    );
  }
  const answered = await viaUpdate(t, rollout, name, payload, timeoutMs);
  const answer = answered ?? (await viaSignal(t, rollout, name, payload, timeoutMs));
  return { rolloutId: rollout.id, ...answer };
}

type Found = Awaited<ReturnType<typeof findRollout>>;

/** How long an accepted request may take to take effect before the CLI stops waiting. */
const SETTLE_MS: Record<SignalName, number> = {
  approve: 30_000,
  pause: 10_000,
  resume: 10_000,
  rollback: 120_000,
  complete: 30_000,
};

/** The request as an Update; `null` when the workflow has no such Update (an older worker's run). */
async function viaUpdate(
  t: Temporal,
  rollout: Found,
  name: SignalName,
  payload: { by: string } & Record<string, unknown>,
  timeoutMs: number,
): Promise<Answer | null> {
  const refused = async (err: unknown): Promise<CliError | null> => {
    const cause =
      err instanceof WorkflowUpdateFailedError
        ? (err.cause as { type?: string; message?: string })
        : undefined;
    if (cause?.type !== REFUSED) return null;
    const s = await query(t, rollout.id).catch(() => null);
    return new CliError(
      `${cause.message} — nothing changed${s ? `; ${rollout.id} is still ${s.state}` : ''}.`,
      EXIT.refused,
    );
  };
  let update;
  try {
    update = await t.timed(timeoutMs, () =>
      rollout.handle.startUpdate<CommandOutcome, [typeof payload]>(name, {
        args: [payload],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      }),
    );
  } catch (err) {
    if (isUnknownUpdate(err)) return null;
    throw (await refused(err)) ?? err;
  }
  const at = new Date().toISOString();
  const settleMs = Math.max(timeoutMs, SETTLE_MS[name]);
  try {
    const outcome = await t.timed(settleMs, () => update.result());
    return { at, message: outcome.message, state: outcome.state };
  } catch (err) {
    // A rejection can surface here too: the validator's answer comes with the result.
    if (isUnknownUpdate(err)) return null;
    const refusal = await refused(err);
    if (refusal) throw refusal;
    if (!isDeadlineExceeded(err)) throw err;
    return {
      at,
      message: `${name} accepted; not done after ${settleMs / 1000}s (follow it with \`npx rollout watch ${rollout.id}\`)`,
      state: null,
    };
  }
}

function isUnknownUpdate(err: unknown): boolean {
  return (
    err instanceof WorkflowUpdateFailedError &&
    /No registered handler for update/.test(err.cause?.message ?? '')
  );
}

/** The request as a signal, then `status` polled until the workflow recorded it. */
async function viaSignal(
  t: Temporal,
  rollout: Found,
  name: SignalName,
  payload: { by: string } & Record<string, unknown>,
  timeoutMs: number,
): Promise<Answer> {
  const id = rollout.id;
  const before = await query(t, id);
  await t.timed(10_000, () => rollout.handle.signal(name, payload));
  const by = payload.by.trim();
  const deadline = Date.now() + timeoutMs;
  let s = before;
  let event: RolloutEvent | undefined;
  while (!event) {
    if (Date.now() > deadline)
      throw new CliError(
        `${name} was sent to ${id} but not handled within ${timeoutMs / 1000}s. Hint: is the worker running (\`npm run worker\`)? The signal stays queued and takes effect when it runs.`,
        EXIT.unreachable,
      );
    await sleep(250);
    s = await query(t, id);
    event = newEvents(before.events, s.events).find(
      (e) => e.kind === 'signal' && e.name === name && (e.by ?? '') === by,
    );
  }
  if (!event.accepted)
    throw new CliError(`${event.message} — nothing changed; ${id} is still ${s.state}.`, EXIT.refused);
  return { at: event.at, message: event.message, state: s.state };
}

/** Events are capped in the workflow: the ones after `seen`, found by content, not by index. */
export function newEvents(seen: RolloutEvent[], now: RolloutEvent[]): RolloutEvent[] {
  if (seen.length === 0) return now;
  const last = seen[seen.length - 1];
  for (let i = now.length - 1; i >= 0; i--) {
    const e = now[i];
    if (e.at === last.at && e.message === last.message && e.kind === last.kind) return now.slice(i + 1);
  }
  return now;
}
