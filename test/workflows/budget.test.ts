/**
 * The byte budget of what a rollout keeps (issue 21, 4): the largest plan the limits allow (20
 * phases of 50 steps), observed at 1-second checks for 8 hours a step, stays far below Temporal's
 * 2 MB continue-as-new input and 4 MB query answer, with every request still counted.
 */
import type { EvidenceRow } from '../../src/contracts/observation';
import type { HistoryEntry, RolloutEvent } from '../../src/contracts/definitions';
import { LIMITS } from '../../src/plan/limits';
import { clip, compactEvidence, compactHistory, EVIDENCE_BUDGET, STEP_EVIDENCE, TEXT_MAX } from '../../src/workflows/rollout/budget';
import { halve, mergeRows } from '../../src/contracts/evidence';
import { recordEvidence } from '../../src/workflows/rollout/observed';

function entry(group: string, ended: boolean): HistoryEntry {
  return { phase: group, group, percent: 10, startedAt: 'x', endedAt: ended ? 'y' : null, outcome: null, reason: null, by: null, windowMs: null, verdict: null, metrics: null };
}

test.each<[string, EvidenceRow, EvidenceRow, EvidenceRow]>([
  ['counts add up, the later time, the worse P95', [1, 'r', 10, 1, 90, 0, 40, 50], [2, 'r', 5, 0, 95, 2, 60, 45], [2, 'r', 15, 1, 185, 2, 60, 50]],
  ['a side without requests has no P95', [1, 'r', 0, 0, 90, 0, null, 50], [2, 'r', 5, 0, 95, 2, 60, null], [2, 'r', 5, 0, 185, 2, 60, 50]],
  ['rows without P95s stay without', [1, 'r', 1, 0, 1, 0], [2, 'r', 1, 1, 1, 1], [2, 'r', 2, 1, 2, 1]],
])('mergeRows: %s', (_name, a, b, merged) => {
  expect(mergeRows(a, b)).toEqual(merged);
});

test('halve keeps the newest row whole when odd, and every count', () => {
  const rows: EvidenceRow[] = [1, 2, 3, 4, 5].map((t) => [t, 'r', t, 0, 10, 1]);
  const h = halve(rows);
  expect(h.map((r) => r[0])).toEqual([1, 3, 5]);
  expect(h.reduce((n, r) => n + r[2], 0)).toBe(15);
});

test('clip keeps short text and says how much of a long one was left out', () => {
  expect(clip('short')).toBe('short');
  const long = clip('x'.repeat(10_000));
  expect(long.length).toBeLessThanOrEqual(TEXT_MAX + 20);
  expect(long).toMatch(/… \(9040 more characters\)$/);
});

test('the largest plan at 1-second checks: evidence within budget, every request counted, the running step the finest', () => {
  const steps = LIMITS.phases * LIMITS.steps;
  const history: HistoryEntry[] = [];
  let requests = 0;
  const checksPerStep = 8 * 3600; // 8 hours of 1-second checks
  for (let s = 0; s < steps; s++) {
    if (history.length) history[history.length - 1].endedAt = 'y';
    history.push(entry('g', false));
    // One observation slice (30 minutes) at a time, as the activity returns them.
    for (let t = 0; t < checksPerStep; t += 1800) {
      if (s % 100 !== 0 && t > 0) break; // every 100th step runs its full 8 hours; the rest one slice (keeps the test fast)
      const rows: EvidenceRow[] = Array.from({ length: 1800 }, (_, i) => [s * 1e8 + t + i, 'g', 5, 0, 45, 1, 80, 70]);
      requests += 1800 * 50;
      recordEvidence(history, rows);
    }
  }
  const kept = history.reduce((n, h) => n + (h.evidence?.length ?? 0), 0);
  expect(kept).toBeLessThanOrEqual(EVIDENCE_BUDGET);
  expect(history.every((h) => (h.evidence?.length ?? 0) <= STEP_EVIDENCE)).toBe(true);
  const counted = history.reduce((n, h) => n + (h.evidence ?? []).reduce((m, r) => m + r[2] + r[4], 0), 0);
  expect(counted).toBe(requests);
  // The running step keeps the most detail.
  expect(history[history.length - 1].evidence!.length).toBeGreaterThanOrEqual(Math.max(...history.slice(0, -1).map((h) => h.evidence?.length ?? 0)));

  // What continue-as-new carries: the history, 200 events of the longest text, the largest plan input.
  const events: RolloutEvent[] = Array.from({ length: 200 }, (_, i) => ({ at: new Date(i).toISOString(), kind: 'warning', message: clip('e'.repeat(50_000)) }));
  const figures = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`figureNumber${i}`, 0.123456789]));
  for (const h of history) Object.assign(h, { endedAt: 'y', metrics: figures, reason: clip('r'.repeat(50_000)) });
  compactHistory(history);
  const bytes = Buffer.byteLength(JSON.stringify({ history, events })) + LIMITS.workflowInputBytes;
  expect(bytes).toBeLessThan(2 * 1024 * 1024);
});

test('compactEvidence coarsens closed steps before the running one', () => {
  const closed = entry('g', true);
  const running = entry('g', false);
  closed.evidence = Array.from({ length: EVIDENCE_BUDGET }, (_, i) => [i, 'g', 1, 0, 1, 0]);
  running.evidence = Array.from({ length: 100 }, (_, i) => [i, 'g', 1, 0, 1, 0]);
  compactEvidence([closed, running]);
  expect(running.evidence).toHaveLength(100);
  expect(closed.evidence!.length).toBeLessThanOrEqual(EVIDENCE_BUDGET - 100);
});
