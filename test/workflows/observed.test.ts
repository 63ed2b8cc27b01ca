import type { EvidenceRow } from '../../src/contracts/observation';
import type { HistoryEntry } from '../../src/contracts/definitions';
import { recordEvidence, resumeObserved, startWindow } from '../../src/workflows/rollout/observed';
import type { Observed } from '../../src/workflows/rollout/state';

const MIN = 60_000;
const seen: Observed = {
  lastSampleAt: '2026-12-01T10:00:00.000Z',
  lastCheckAtMs: 100 * MIN,
  nextCheckAt: 101 * MIN,
  windowRemainingMs: 5 * MIN,
  blindMs: 30_000,
  blindRunMs: 10_000,
  checks: 7,
};

test.each([
  ['nothing observed yet', undefined, 100 * MIN, { lastSampleAt: null, lastCheckAtMs: 100 * MIN, nextCheckAt: 101 * MIN, blindMs: 0, blindRunMs: 0, checks: 0 }],
  ['the last check an interval ago: goes on as it was', seen, 101 * MIN, seen],
  ['1.5 intervals ago: still goes on', seen, 101.5 * MIN, seen],
  [
    'longer ago (applying, verifying): the next check an interval from now, no blind time owed',
    seen,
    110 * MIN,
    { lastSampleAt: seen.lastSampleAt, lastCheckAtMs: 110 * MIN, nextCheckAt: 111 * MIN, windowRemainingMs: null, blindMs: 30_000, blindRunMs: 0, checks: 7 },
  ],
  [
    'longer ago: the last readings stay, so the traffic meanwhile is judged at the next check',
    { ...seen, references: { read: { at: seen.lastSampleAt!, values: { a: 3 } } } },
    110 * MIN,
    { lastSampleAt: seen.lastSampleAt, references: { read: { at: seen.lastSampleAt, values: { a: 3 } } } },
  ],
])('resumeObserved: %s', (_what, prior, now, expected) => {
  expect(resumeObserved(prior, now, MIN)).toMatchObject(expected);
});

test.each([
  ['a check due sooner stays', { ...seen, nextCheckAt: 100.5 * MIN }, 100.5 * MIN],
  ['a check scheduled further out comes an interval from now', { ...seen, nextCheckAt: 103 * MIN }, 101 * MIN],
  ['no check scheduled', { ...seen, nextCheckAt: null }, 101 * MIN],
])('startWindow: %s; window time counts from now, blind time from zero', (_what, observed, next) => {
  expect(startWindow(observed, 100 * MIN, MIN)).toMatchObject({ lastCheckAtMs: 100 * MIN, nextCheckAt: next, blindMs: 0 });
});

function entry(group: string, percent: number, ended: boolean): HistoryEntry {
  return { phase: group, group, percent, startedAt: 'x', endedAt: ended ? 'y' : null, outcome: null, reason: null, by: null, windowMs: null, verdict: null, metrics: null };
}

test('recordEvidence: each row to its group’s running step, none to an ended step', () => {
  const history = [entry('read', 10, true), entry('read', 25, false), entry('write', 5, true)];
  const rows: EvidenceRow[] = [
    [1, 'read', 10, 0, 90, 1],
    [2, 'write', 5, 0, 95, 0],
    [3, 'read', 11, 1, 89, 0],
    [4, 'read', 12, 0, 88, 0],
    [5, 'other', 1, 0, 1, 0],
  ];
  recordEvidence(history, rows);
  expect(history[0].evidence).toBeUndefined();
  expect(history[1].evidence).toEqual([rows[0], rows[2], rows[3]]);
  expect(history[2].evidence).toBeUndefined();
});
