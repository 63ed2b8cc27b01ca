import { heartbeatThrottle, maxActivities } from '../../src/worker';

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
