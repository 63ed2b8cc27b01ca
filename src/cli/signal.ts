import {
  statusQuery,
  type RolloutEvent,
  type RolloutStatus,
  type SignalName,
} from '../workflows/definitions';
import { out } from './action';
import {
  findRollout,
  hasStatus,
  hasWorker,
  isRunning,
  readStatus,
  withTemporal,
  type Temporal,
} from './connect';
import { CliError, EXIT } from './errors';
import { fmtTime, newEvents, renderStatus } from './format';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SignalOptions {
  /** How long to wait for the workflow to handle the signal. */
  timeoutMs?: number;
}

async function query(t: Temporal, id: string): Promise<RolloutStatus> {
  return t.timed(10_000, () => t.client.workflow.getHandle(id).query(statusQuery));
}

/**
 * Sends a signal, then polls `status` until the workflow recorded it (it records every signal,
 * accepted or not, in `events`), and prints the state it led to. A refusal is an error (exit 1).
 */
export async function sendSignal(
  idOrTarget: string,
  name: SignalName,
  payload: { by: string } & Record<string, unknown>,
  opts: SignalOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  await withTemporal(async (t) => {
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
    const before = await query(t, rollout.id);
    await t.timed(10_000, () => rollout.handle.signal(name, payload));
    const by = payload.by.trim();
    const deadline = Date.now() + timeoutMs;
    let s = before;
    let event: RolloutEvent | undefined;
    while (!event) {
      if (Date.now() > deadline)
        throw new CliError(
          `${name} was sent to ${rollout.id} but not handled within ${timeoutMs / 1000}s. Hint: is the worker running (\`npm run worker\`)? The signal stays queued and takes effect when it runs.`,
          EXIT.unreachable,
        );
      await sleep(250);
      s = await query(t, rollout.id);
      event = newEvents(before.events, s.events).find(
        (e) => e.kind === 'signal' && e.name === name && (e.by ?? '') === by,
      );
    }
    if (!event.accepted) {
      throw new CliError(
        `${event.message} — nothing changed; ${rollout.id} is still ${s.state}.`,
        EXIT.refused,
      );
    }
    // Wait for the transition the signal starts: a rollback until the switch is confirmed back,
    // an approval until the rollout moved on, a completion until the workflow closed.
    const settling: Partial<Record<SignalName, { while: (st: RolloutStatus) => boolean; ms: number }>> = {
      rollback: { while: (st) => st.state === 'rolling-back', ms: 60_000 },
      approve: { while: (st) => st.state === 'awaiting-approval' || st.state === 'holding', ms: 5_000 },
      complete: { while: (st) => st.state === 'monitoring', ms: 10_000 },
    };
    const settle = settling[name];
    const settleUntil = Date.now() + (settle?.ms ?? 0);
    while (settle && settle.while(s) && Date.now() < settleUntil) {
      await sleep(250);
      try {
        s = await query(t, rollout.id);
      } catch {
        break; // the workflow may have ended; its result is read below
      }
    }
    const final = await readStatus(t, await findRollout(t, rollout.id)).catch(() => s);
    out.line(`${fmtTime(event.at)} ${event.message}${by ? ` (by ${by})` : ''}`);
    out.line(hasStatus(final) ? renderStatus(final) : `${final.rolloutId}: ${final.state}: ${final.error}`);
  });
}
