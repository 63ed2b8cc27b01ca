import { currentDetails } from '../../src/workflows/rollout/details';
import type { RolloutStatus } from '../../src/contracts/definitions';
import { seedPlan } from '../helpers/workflow-harness';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function status(patch: Partial<RolloutStatus>): RolloutStatus {
  return {
    rolloutId: 'rollout-camera-api',
    plan: seedPlan() as unknown as RolloutStatus['plan'],
    timeScale: 1,
    state: 'observing',
    phase: 'phase2-read',
    group: 'read',
    stepIndex: 0,
    percent: 10,
    stepStartedAt: '2026-01-01T11:50:00Z',
    windowEndsAt: '2026-01-01T12:20:00Z',
    windowRemainingMs: 20 * 60_000,
    groups: { read: { percent: 10, state: 'observing' }, write: { percent: 0, state: 'pending' } },
    lastCheck: null,
    awaiting: null,
    history: [],
    rollback: null,
    events: [],
    metricErrors: 0,
    ...patch,
  };
}

test.each<[string, Partial<RolloutStatus>, string[]]>([
  [
    'observing',
    {},
    [
      '**observing** phase2-read (group read) at 10%, window 20m00s left',
      'groups: read 10% observing · write 0% pending',
    ],
  ],
  [
    'paused',
    { state: 'paused' },
    [
      '**paused** phase2-read (group read) at 10%, window paused with 20m00s left',
      'next: `npx rollout resume rollout-camera-api --by NAME`',
    ],
  ],
  [
    'holding',
    {
      state: 'holding',
      windowEndsAt: null,
      awaiting: {
        kind: 'hold',
        since: '2026-01-01T12:00:00Z',
        prompt: 'phase2-read at 10%: hold. approve to go on',
      },
    },
    [
      'waiting for hold: phase2-read at 10%: hold. approve to go on',
      'next: `npx rollout approve rollout-camera-api --by NAME   (or: npx rollout rollback rollout-camera-api --by NAME --reason "...")`',
    ],
  ],
  [
    'rolled back',
    {
      state: 'rolled-back',
      windowEndsAt: null,
      rollback: {
        trigger: 'errorRate',
        reason: 'domain error rate 50.00%',
        at: '2026-01-01T12:00:00Z',
        completedAt: '2026-01-01T12:00:02Z',
        by: null,
        groups: ['read'],
      },
    },
    [
      '**ROLLED BACK (errorRate)**: domain error rate 50.00%; reverted read',
      '**rolled-back** phase2-read (group read) at 10%',
    ],
  ],
  [
    'a check',
    {
      lastCheck: {
        at: '2026-01-01T11:59:50Z',
        group: 'read',
        verdict: 'pass',
        metrics: { errorRate: 0.004 },
        reasons: ['domain error rate 0.40%'],
      },
    },
    ['last check 11:59:50Z read: pass (errors 0.40%)', '- domain error rate 0.40%'],
  ],
])('%s', (_name, patch, lines) => {
  const text = currentDetails(status(patch), NOW).split('\n');
  for (const l of lines) expect(text).toContain(l);
  if (patch.rollback) expect(text[0]).toBe(lines[0]);
});
