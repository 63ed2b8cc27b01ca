import {
  approveRefusal,
  completeRefusal,
  pauseRefusal,
  resumeRefusal,
  rollbackRefusal,
  senderRefusal,
  type GuardView,
} from '../../src/workflows/rollout/guards';

const observing: GuardView = {
  baseState: 'observing',
  state: 'observing',
  paused: false,
  stage: 'observe',
  rollbackPending: false,
  groups: ['read', 'write'],
  currentGroup: 'read',
  started: ['read'],
};
const paused: GuardView = { ...observing, paused: true, state: 'paused' };
const awaiting: GuardView = { ...observing, baseState: 'awaiting-approval', state: 'awaiting-approval', stage: 'phase-start' };
const holding: GuardView = { ...observing, baseState: 'holding', state: 'holding', stage: 'hold' };
const monitoring: GuardView = { ...observing, baseState: 'monitoring', state: 'monitoring', stage: 'monitor' };
const rollingBack: GuardView = { ...observing, baseState: 'rolling-back', state: 'rolling-back', stage: 'rollback', rollbackPending: true };
const rolledBack: GuardView = { ...observing, baseState: 'rolled-back', state: 'rolled-back', stage: 'done' };
const completed: GuardView = { ...observing, baseState: 'completed', state: 'completed', stage: 'done' };

test.each([
  ['approve', approveRefusal, awaiting, null],
  ['approve', approveRefusal, holding, null],
  ['approve', approveRefusal, observing, 'nothing awaits approval (state observing)'],
  ['approve', approveRefusal, { ...awaiting, paused: true, state: 'paused' as const }, 'the rollout is paused; resume first'],
  ['approve', approveRefusal, completed, 'nothing awaits approval (state completed)'],
  ['pause', pauseRefusal, observing, null],
  ['pause', pauseRefusal, awaiting, null],
  ['pause', pauseRefusal, paused, 'already paused'],
  ['pause', pauseRefusal, rollingBack, 'the rollout is rolling-back'],
  ['pause', pauseRefusal, rolledBack, 'the rollout is rolled-back'],
  ['resume', resumeRefusal, paused, null],
  ['resume', resumeRefusal, observing, 'not paused (state observing)'],
  ['approve', approveRefusal, { ...awaiting, rollbackPending: true }, 'a rollback is under way'],
  ['complete', completeRefusal, { ...monitoring, rollbackPending: true }, 'a rollback is under way'],
  ['complete', completeRefusal, monitoring, null],
  ['complete', completeRefusal, observing, 'complete ends continuous monitoring once every phase is at its last step (state observing)'],
  ['complete', completeRefusal, { ...monitoring, paused: true, state: 'paused' as const }, 'complete ends continuous monitoring once every phase is at its last step (state paused)'],
] as Array<[string, (v: GuardView) => string | null, GuardView, string | null]>)('%s in %j → %j', (_name, guard, view, refusal) => {
  expect(guard(view)).toBe(refusal);
});

test.each([
  [observing, undefined, null],
  [{ ...observing, started: ['read', 'write'] }, 'write', null],
  // Phase 2 at 50%, phase 3 not begun: reverting write alone would leave read live and unwatched.
  [observing, 'write', 'write has not started: nothing to roll back (started: read)'],
  [paused, undefined, null],
  [awaiting, 'read', null],
  [observing, 'admin', 'unknown group "admin" (groups: read, write)'],
  // Nothing started yet (the first phase awaits its approval): a rollback ends the rollout.
  [{ ...awaiting, started: [] }, undefined, null],
  [{ ...awaiting, started: [] }, 'write', 'write has not started: nothing to roll back (started: none)'],
  [rollingBack, undefined, 'the rollout is rolling-back'],
  [{ ...observing, rollbackPending: true }, undefined, 'a rollback is already under way'],
  [completed, undefined, 'the rollout is completed'],
])('rollback in %j of group %j → %j', (view, group, refusal) => {
  expect(rollbackRefusal(view, group)).toBe(refusal);
});

test.each([
  ['alice', undefined, null],
  ['', undefined, '"by" is required (who sends the signal)'],
  ['', ['alice'], '"by" is required (who sends the signal)'],
  ['alice', ['alice', 'bob'], null],
  ['mallory', ['alice', 'bob'], 'mallory is not an approver (approvers: alice, bob)'],
])('sender %j with approvers %j → %j', (by, approvers, refusal) => {
  expect(senderRefusal(by, approvers)).toBe(refusal);
});
