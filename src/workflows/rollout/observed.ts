/**
 * The observation's running state as the workflow keeps it between observing activities, and the
 * evidence the activities bring back. Pure: the workflow passes its clock in.
 */
import type { EvidenceRow } from '../../contracts/observation';
import type { HistoryEntry } from '../../contracts/definitions';
import { compactEvidence } from './budget';
import type { Observed } from './state';


/**
 * Before a wait: when nothing was watched since the last check (applying, verifying, an approval
 * of nothing), the next check is an interval from now and no blind time is owed for that gap.
 */
export function resumeObserved(prior: Observed | undefined, nowMs: number, intervalMs: number): Observed {
  if (prior && prior.lastCheckAtMs !== null && nowMs - prior.lastCheckAtMs <= 1.5 * intervalMs) return prior;
  return {
    lastSampleAt: prior?.lastSampleAt ?? null,
    ...(prior?.references ? { references: prior.references } : {}),
    lastCheckAtMs: nowMs,
    nextCheckAt: nowMs + intervalMs,
    windowRemainingMs: null,
    blindMs: prior?.blindMs ?? 0,
    blindRunMs: 0,
    checks: prior?.checks ?? 0,
  };
}

/**
 * A window starts: its time counts from now, not from the last check before it, and a check an
 * earlier observation had scheduled further out comes an interval from now.
 */
export function startWindow(observed: Observed, nowMs: number, intervalMs: number): Observed {
  return {
    ...observed,
    blindMs: 0,
    lastCheckAtMs: nowMs,
    nextCheckAt: Math.min(observed.nextCheckAt ?? Infinity, nowMs + intervalMs),
  };
}

/**
 * Each row goes to its group's running step; then the evidence of every step is kept within the
 * rollout's budget (budget.ts: older checks merged into fewer, wider rows).
 */
export function recordEvidence(history: HistoryEntry[], rows: EvidenceRow[]): void {
  for (const row of rows) {
    let entry: HistoryEntry | undefined;
    for (let i = history.length - 1; i >= 0 && !entry; i--)
      if (history[i].group === row[1]) entry = history[i];
    if (!entry || entry.endedAt !== null) continue;
    (entry.evidence ??= []).push(row);
  }
  compactEvidence(history);
}
