import { useTimeSkippingEnv } from '../helpers/temporal';
import { endRollout, FakeTarget, seedPlan, waitForStatus, withRollout } from '../helpers/workflow-harness';

/**
 * The legacy P95 measured before a phase's first step is the only latency reference at 100%:
 * a baseline short of `minSamples` is measured again rather than silently left empty.
 */

jest.setTimeout(180_000);

const testEnv = useTimeSkippingEnv();

function plan() {
  const p = seedPlan();
  p.defaults.checkInterval = '10s';
  return p;
}

const messages = (s: { events: Array<{ kind: string; message: string }> }) =>
  s.events.map((e) => `${e.kind}: ${e.message}`);

test('a thin baseline is measured again until it has minSamples legacy requests', async () => {
  const target = new FakeTarget();
  // 5 legacy requests a check, a check every 10 s: 1 minute of baseline holds about 30 of the 50 needed.
  target.volume = 5;
  await withRollout(testEnv(), target, plan(), async (handle) => {
    const applied = await waitForStatus(testEnv(), handle, (s) => s.percent === 10, '30s', 20);
    const log = messages(applied);
    const extensions = log.filter((m) =>
      /only \d+ legacy requests for the baseline \(need 50\); measuring 1m more/.test(m),
    );
    expect(extensions).toHaveLength(1);
    const baseline = log.find((m) => m.includes('baseline legacy P95'))!;
    expect(baseline).toMatch(/^state: phase2-read: baseline legacy P95 \d+\.\dms over \d+ requests$/);
    expect(Number(/over (\d+) requests/.exec(baseline)![1])).toBeGreaterThanOrEqual(50);
    // The first step came only after the longer baseline.
    const started = Date.parse(applied.history[0].startedAt) - Date.parse(applied.events[0].at);
    expect(started).toBeGreaterThanOrEqual(2 * 60_000);
    await endRollout(handle);
  });
});

test('a baseline that never gets traffic gives up after ten windows, says so, and goes on', async () => {
  const target = new FakeTarget();
  target.volume = 0;
  await withRollout(testEnv(), target, plan(), async (handle) => {
    const applied = await waitForStatus(testEnv(), handle, (s) => s.percent === 10, '1m', 30);
    const log = messages(applied);
    expect(log.filter((m) => m.includes('measuring 1m more'))).toHaveLength(9);
    expect(log).toContain(
      'warning: phase2-read: baseline legacy P95 unknown over only 0 requests: at 100% the P95 check has nothing to compare with',
    );
    expect(target.applied[0]).toEqual({ group: 'read', percent: 10 });
    await endRollout(handle);
  });
});
