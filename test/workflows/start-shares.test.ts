/**
 * A target already serving domain traffic at start (`input.current`, set by `npx rollout start
 * --resume-from-current | --from-zero`): the workflow records the shares it was given and either
 * resumes each phase at its share or takes the groups to 0% before the first step.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { useTimeSkippingEnv } from '../helpers/temporal';
import { endRollout, FakeTarget, seedPlan, waitForStatus, withRollout } from '../helpers/workflow-harness';

jest.setTimeout(240_000);

const testEnv = useTimeSkippingEnv();

function plan() {
  const p = seedPlan();
  p.defaults.checkInterval = '1m';
  return p;
}

test('from zero: a live group goes to 0% first, its baseline is measured on legacy, then the first step', async () => {
  const target = new FakeTarget();
  target.percents.read = 100;
  await withRollout(
    testEnv(),
    target,
    plan(),
    async (handle) => {
      const s = await waitForStatus(
        testEnv(),
        handle,
        (x) => x.state === 'observing' && x.percent === 10,
        '1m',
      );
      expect(target.applied.filter((a) => a.group === 'read').map((a) => a.percent)).toEqual([0, 10]);
      const messages = s.events.map((e) => e.message);
      expect(messages).toEqual(
        expect.arrayContaining([
          "the target's shares at start: read 100% (from-zero)",
          'read was at 100% at start; set to 0% before the first step (--from-zero)',
        ]),
      );
      // The baseline ran after the switch to 0%: legacy latency, not the domain's.
      const zeroAt = messages.indexOf(
        'read was at 100% at start; set to 0% before the first step (--from-zero)',
      );
      expect(messages.findIndex((m) => /measuring legacy latency/.test(m))).toBeGreaterThan(zeroAt);
      await endRollout(handle);
    },
    { current: { mode: 'from-zero', shares: { read: 100 } } },
  );
});

test('resume from current: each phase starts at its first step at or above its share; nothing is cut', async () => {
  const target = new FakeTarget();
  target.percents.read = 30;
  await withRollout(
    testEnv(),
    target,
    plan(),
    async (handle) => {
      const s = await waitForStatus(testEnv(), handle, (x) => x.state === 'observing', '1m');
      expect(s.percent).toBe(50);
      expect(s.stepIndex).toBe(2);
      expect(target.applied.filter((a) => a.group === 'read').map((a) => a.percent)).toEqual([50]);
      expect(s.events.map((e) => e.message)).toContain(
        'phase2-read: read was at 30% at start; it resumes at its 50% step (--resume-from-current)',
      );
      await endRollout(handle);
    },
    { current: { mode: 'resume-from-current', shares: { read: 30 } } },
  );
});

test('shares the plan cannot take are refused before anything moves, naming them', async () => {
  const target = new FakeTarget();
  const err = await withRollout(
    testEnv(),
    target,
    plan(),
    (handle) =>
      handle.result().then(
        () => null,
        (e: unknown) => e,
      ),
    { current: { mode: 'resume-from-current', shares: { read: 30, payments: 5 } } },
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause?.message).toContain(
    'input.current.shares.payments: not a group of the plan (groups: read, write)',
  );
  expect(target.applied).toEqual([]);
});
