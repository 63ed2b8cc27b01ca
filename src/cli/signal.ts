import { out } from '../client/action';
import { requestCommand, type SignalOptions } from '../client/commands';
import { findRollout, hasStatus, readStatus, withTemporal } from '../client/connect';
import type { SignalName } from '../contracts/definitions';
import { fmtTime, renderStatus } from './format';

/** `requestCommand`, then the line it led to and the status, printed. */
export async function sendSignal(
  idOrTarget: string,
  name: SignalName,
  payload: { by: string } & Record<string, unknown>,
  opts: SignalOptions = {},
): Promise<void> {
  await withTemporal(async (t) => {
    const { rolloutId, at, message } = await requestCommand(t, idOrTarget, name, payload, opts);
    const by = payload.by.trim();
    const final = await readStatus(t, await findRollout(t, rolloutId)).catch(() => null);
    out.line(`${fmtTime(at)} ${message}${by ? ` (by ${by})` : ''}`);
    if (final)
      out.line(hasStatus(final) ? renderStatus(final) : `${final.rolloutId}: ${final.state}: ${final.error}`);
  });
}
