import { pausedMs, reasonParts } from '../../src/cli/format';
import type { RolloutEvent } from '../../src/contracts/definitions';

const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString();
const state = (min: number, message: string): RolloutEvent => ({ at: at(min), kind: 'state', message });
const t = (min: number) => Date.parse(at(min));

describe('pausedMs: the paused part of a step, from the state events', () => {
  const cases: Array<[string, RolloutEvent[], number, number, number]> = [
    ['never paused', [state(0, 'applying → observing')], 0, 60, 0],
    [
      'paused 10 minutes inside',
      [state(10, 'observing → paused'), state(20, 'paused → observing')],
      0,
      60,
      10,
    ],
    [
      'two pauses',
      [
        state(5, 'observing → paused'),
        state(10, 'paused → observing'),
        state(30, 'observing → paused'),
        state(33, 'paused → observing'),
      ],
      0,
      60,
      8,
    ],
    [
      'a pause that began before the step: only the overlap',
      [state(0, 'holding → paused'), state(20, 'paused → holding')],
      15,
      60,
      5,
    ],
    ['still paused at the end', [state(50, 'observing → paused')], 0, 60, 10],
    [
      'a signal event that mentions paused is not a state change',
      [{ at: at(5), kind: 'signal', message: 'pause accepted → paused' }],
      0,
      60,
      0,
    ],
  ];
  test.each(cases)('%s', (_name, events, from, to, minutes) => {
    expect(pausedMs(events, t(from), t(to))).toBe(minutes * 60_000);
  });
});

test.each([
  ['a; b', ['a', 'b']],
  [
    'domain error rate 9% (12/130 over the last 2 checks), above the bar by a sequential test (log-likelihood 11.2 ≥ 10.6; false-rollback budget 0.040%); legacy 0% over the same checks',
    [
      'domain error rate 9% (12/130 over the last 2 checks), above the bar by a sequential test (log-likelihood 11.2 ≥ 10.6; false-rollback budget 0.040%)',
      'legacy 0% over the same checks',
    ],
  ],
  ['no parts;here', ['no parts;here']],
  ['unbalanced) a; b', ['unbalanced) a', 'b']],
])('reasonParts(%j)', (reason, parts) => {
  expect(reasonParts(reason)).toEqual(parts);
});
