/**
 * Payloads are checked where they land (issue 21, 3): anyone with the stock client can send any
 * JSON as a signal or an Update. Hostile ones (wrong types, huge strings, nested objects, unknown
 * fields) are refused, recorded in bounded form (signals) or rejected by the validator (Updates);
 * no workflow task fails on them, `status` stays small, and the rollout still rolls back on request.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { REFUSED, SIGNAL_NAMES, statusQuery, summaryQuery } from '../../src/contracts/definitions';
import { checkRequest } from '../../src/contracts/requests';
import { useTimeSkippingEnv } from '../helpers/temporal';
import { FakeTarget, seedPlan, waitForStatus, withRollout } from '../helpers/workflow-harness';

jest.setTimeout(300_000);

const testEnv = useTimeSkippingEnv();

function nested(depth: number): unknown {
  let v: unknown = 'deep';
  for (let i = 0; i < depth; i++) v = { by: v };
  return v;
}

const HOSTILE: Array<[string, unknown]> = [
  ['null', null],
  ['a list', [{ by: 'alice' }]],
  ['a string', 'alice'],
  ['a number', 42],
  ['by as a number', { by: 1 }],
  ['by as an object with toString', { by: { toString: 1 } }],
  ['reason as an object with toString', { by: 'alice', reason: { toString: 1 } }],
  ['comment as a list', { by: 'alice', comment: ['a', 'b'] }],
  ['a 1.5 MB by', { by: 'x'.repeat(1_500_000) }],
  ['a 200 KB reason', { by: 'alice', reason: 'r'.repeat(200_000) }],
  ['by with control characters', { by: 'al\u0000ice\u001b[2J' }],
  ['an empty by', { by: '   ' }],
  ['unknown fields', { by: 'alice', __proto__x: 1, constructor: 'x', extra: { a: 1 } }],
  ['a group that is a path', { by: 'alice', group: '../../etc/passwd' }],
  ['a group as a number', { by: 'alice', group: 7 }],
  ['deeply nested', nested(500)],
];

test.each(HOSTILE)('checkRequest refuses %s, in a message of bounded size, without throwing', (_name, payload) => {
  for (const name of SIGNAL_NAMES) {
    const r = checkRequest(name, payload);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.length).toBeLessThan(400);
  }
});

test('hostile signals and Updates through the stock client: refused, recorded small, the run goes on and rolls back on request', async () => {
  const target = new FakeTarget();
  const plan = seedPlan();
  plan.defaults.checkInterval = '1m';
  await withRollout(testEnv(), target, plan, async (handle) => {
    await waitForStatus(testEnv(), handle, (s) => s.state === 'observing', '1m');
    for (const [, payload] of HOSTILE)
      for (const name of SIGNAL_NAMES) {
        await handle.signal(name, payload);
        const err = await handle.executeUpdate(name, { args: [payload] }).then(
          () => new Error(`${name} accepted`),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
        expect((err as WorkflowUpdateFailedError).cause).toMatchObject({ type: REFUSED });
      }
    const s = await handle.query(statusQuery);
    expect(s.state).toBe('observing');
    // Every one handled and recorded as refused: a handler that threw would have failed the
    // workflow task on every replay, and nothing after it would be recorded.
    const refused = s.events.filter((e) => e.kind === 'signal' && !e.accepted);
    expect(refused).toHaveLength(HOSTILE.length * SIGNAL_NAMES.length);
    expect(s.events.filter((e) => e.kind === 'warning' && /could not be handled/.test(e.message))).toEqual([]);
    expect(Math.max(...refused.map((e) => e.message.length))).toBeLessThan(500);
    expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThan(200_000);
    expect((await handle.query(summaryQuery)).state).toBe('observing');

    await handle.signal('rollback', { by: 'alice', reason: 'after the fuzz' });
    const done = await handle.result();
    expect(done.state).toBe('rolled-back');
    expect(done.rollback).toMatchObject({ trigger: 'manual', by: 'alice', reason: 'after the fuzz' });
  });
});
