import { heartbeatThrottle, maxActivities, maxCachedWorkflows } from '../../src/worker';

// One observing activity per rollout: the SDK's default of 100 slots would leave rollout 101 unwatched.
test.each([
  [undefined, 2000],
  ['', 2000],
  ['5000', 5000],
])('ROLLOUT_MAX_ACTIVITIES=%j → %d activity slots', (value, slots) => {
  expect(maxActivities({ ROLLOUT_MAX_ACTIVITIES: value })).toBe(slots);
});

test.each(['9', '1e3', '-5', 'many', '100001'])('ROLLOUT_MAX_ACTIVITIES=%j is refused, naming it', (value) => {
  expect(() => maxActivities({ ROLLOUT_MAX_ACTIVITIES: value })).toThrow(/^ROLLOUT_MAX_ACTIVITIES: must be an integer from 10 to 100000/);
});

test.each([
  [undefined, 2000],
  ['250ms', 250],
])('ROLLOUT_HEARTBEAT_THROTTLE=%j → %d ms', (value, ms) => {
  expect(heartbeatThrottle({ ROLLOUT_HEARTBEAT_THROTTLE: value })).toBe(ms);
});

// About 2 MB per cached rollout: the SDK's default (from the heap size) let 1,000 rollouts pass 2 GiB.
test.each([
  [undefined, 250],
  ['', 250],
  ['1000', 1000],
])('ROLLOUT_MAX_CACHED_WORKFLOWS=%j → %d cached workflows', (value, n) => {
  expect(maxCachedWorkflows({ ROLLOUT_MAX_CACHED_WORKFLOWS: value })).toBe(n);
});

test.each(['1', '2.5', 'all', '100001'])('ROLLOUT_MAX_CACHED_WORKFLOWS=%j is refused, naming it', (value) => {
  expect(() => maxCachedWorkflows({ ROLLOUT_MAX_CACHED_WORKFLOWS: value })).toThrow(
    /^ROLLOUT_MAX_CACHED_WORKFLOWS: must be an integer from 2 to 100000/,
  );
});
